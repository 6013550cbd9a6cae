"""Benchmarks (pytest-benchmark): ``tox -e bench``; ``BENCH_SCALE=full`` for the full-size data sets.

A package, so that benchmarks can share the test suite's service fixtures (``tests/azurite.py``).
"""
