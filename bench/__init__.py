"""Benchmarks: they print figures; they are not tests. Run all with `make bench`."""
