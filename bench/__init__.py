"""Benchmarks: ``python -m bench`` runs every module's ``main()``; ``python -m bench.<name>`` runs one."""
