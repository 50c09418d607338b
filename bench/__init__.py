"""Benchmarks: modules run with ``python -m bench.<name>``; each prints its figures. Not tests."""
