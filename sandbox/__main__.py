"""`python -m sandbox ...` is `cio-sandbox ...`."""

from sandbox.cli import entry

entry()
