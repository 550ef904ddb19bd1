"""Benchmarks, run on demand: ``make bench`` (README "Performance"). Never part of the test suite."""
