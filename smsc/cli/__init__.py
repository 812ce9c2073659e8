"""The ``smsc`` command line: one click group per noun, thin over the Python API."""

from smsc.cli.main import main

__all__ = ["main"]
