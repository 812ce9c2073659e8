"""The CLI runner of tests/cli for the campaign commands' tests."""

from tests.cli.conftest import cli  # noqa: F401  (fixture)
