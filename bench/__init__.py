"""Benchmarks: ``make bench`` (``python -m bench [name ...]``) → docs/benchmarks.md."""
