"""Benchmarks: modules runnable as ``python -m bench.<name>`` that print figures (not tests)."""
