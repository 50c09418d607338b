"""Benchmarks: they print figures; they are not tests. `make bench` runs them all, `python -m bench.<name>` one."""
