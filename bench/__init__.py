"""Benchmarks (not tests): a synthetic cascade generator and `python -m bench.run`; figures in docs/benchmarks.md."""
