"""Benchmarks, run as scripts (`python bench/NAME.py`); a package so that they import each other
as `bench.NAME`. No script may take a standard library module's name: a script's own folder comes
first on sys.path and would hide it."""
