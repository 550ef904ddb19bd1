"""Benchmarks, run on demand: ``make bench`` (docs/performance.md). Never part of the test suite."""
