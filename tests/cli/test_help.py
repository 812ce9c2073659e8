"""Every command says what it does and shows an example."""

from __future__ import annotations

from collections.abc import Iterator

import click
from click.testing import CliRunner

from smsc.cli import main


def walk(
    command: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from walk(sub, (*path, name))


def test_every_command_has_help_with_an_example() -> None:
    seen = []
    for path, command in walk(main):
        seen.append(" ".join(path))
        assert command.help and "Example:" in command.help, path
        result = CliRunner().invoke(main, [*path, "--help"], catch_exceptions=False)
        assert result.exit_code == 0, path
        assert "Example:" in result.output, path
        assert "Usage: " in result.output
    expected = {
        "config check",
        "config show",
        "config init",
        "account add",
        "account set",
        "account rm",
        "account list",
        "account show",
        "account passwd",
        "account lock",
        "account unlock",
        "account locks",
        "credit topup",
        "credit show",
        "credit ledger",
        "blacklist add",
        "blacklist rm",
        "blacklist list",
        "blacklist import",
        "operator add",
        "operator set",
        "operator rm",
        "operator list",
        "operator show",
        "outcome add",
        "outcome rm",
        "outcome list",
        "route add",
        "route set",
        "route rm",
        "route list",
        "route test",
        "route suggest",
        "routes suggest",
        "price set",
        "price rm",
        "price list",
        "report messages",
        "report summary",
        "send",
        "mo inject",
        "bench",
        "serve",
    }
    assert expected <= set(seen), expected - set(seen)


def test_an_unknown_command_or_option_is_a_usage_error() -> None:
    for args in (["nosuch"], ["account", "frobnicate"], ["account", "list", "--bogus"]):
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 2
        assert "Error:" in result.output and "Traceback" not in result.output
