"""Subcommands of `xxgk`, one module each (see crawler/cli.py)."""
