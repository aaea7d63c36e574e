"""Benchmarks, run as scripts (`python bench/NAME.py`). A package so that type checkers name
bench/http.py `bench.http`, not the standard library's `http`."""
