"""Subcommands of `cio-sandbox`; see `sandbox.cli`."""
