"""Benchmarks: ``python -m bench.<name>`` prints figures. Not tests."""
