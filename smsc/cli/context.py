"""What every command shares: where the database and the config are, opened on demand."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from smsc.config.check import default_config_path, display_path, load_located
from smsc.config.edit import ConfigEditor
from smsc.config.errors import ConfigError
from smsc.config.loader import Config, packaged_defaults
from smsc.ids import MessageIdFormat
from smsc.routing.prices import format_amount, parse_amount
from smsc.store.base import Store
from smsc.store.records import Account
from smsc.store.sqlite import SqliteStore


@dataclass
class CliContext:
    db_path: Path | None
    config_path: Path | None
    _config: Config | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)

    # --- config ----------------------------------------------------------------------------
    @property
    def config(self) -> Config:
        if self._config is None:
            try:
                self._config = load_located(self.config_path)
            except ConfigError as e:
                raise click.ClickException(
                    f"config: {e} (run `smsc config check` for every mistake)"
                ) from None
        return self._config

    @property
    def config_file(self) -> Path:
        """The smsc.toml in use: --config, else conf/smsc.toml, else the built-in one."""
        return default_config_path(self.config_path)

    def editor(self) -> ConfigEditor:
        """The config files, opened for editing (never the built-in defaults)."""
        path = self.config_file
        if path.resolve() == packaged_defaults().resolve():
            raise click.ClickException(
                "there is no config file to edit: run `smsc config init` to copy the defaults "
                "to conf/, or pass --config FILE"
            )
        return ConfigEditor.open(path)

    def save(self, editor: ConfigEditor) -> None:
        """Write the edited config if it is valid as a whole; else refuse, writing nothing."""
        try:
            written = editor.save()
        except ConfigError as e:
            raise click.ClickException(f"refused, nothing written: {e}") from None
        self.config_changed(written)

    def config_changed(self, written: list[Path]) -> None:
        """Say what was written, and how a running server takes it."""
        self._config = None
        if not written:
            click.echo("nothing changed")
            return
        names = ", ".join(display_path(p) for p in written)
        click.echo(f"wrote {names}; a running server picks it up within seconds (or on SIGHUP)")

    # --- the database ----------------------------------------------------------------------
    @property
    def database(self) -> Path:
        if self.db_path is not None:
            return self.db_path
        return Path(self.config.server.database)

    def store(self) -> Store:
        if self._store is None:
            self._store = SqliteStore(self.database, synchronous=self.config.server.synchronous)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def account(self, system_id: str) -> Account:
        found = self.store().get_account(system_id)
        if found is None:
            raise click.ClickException(f"no account {system_id!r} (see `smsc account list`)")
        return found

    @staticmethod
    def now() -> float:
        return time.time()

    # --- money and ids ---------------------------------------------------------------------
    def decimals(self, currency: str) -> int:
        return self.config.routing.decimals(currency)

    def money(self, amount: int, currency: str) -> str:
        return f"{format_amount(amount, self.decimals(currency))} {currency}"

    def amount(self, amount: int, currency: str) -> str:
        """Decimal text of an amount, without the currency (for CSV and JSON)."""
        return format_amount(amount, self.decimals(currency))

    def parse_money(self, text: str, currency: str, param: str) -> int:
        try:
            return parse_amount(text, self.decimals(currency))
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint=param) from None

    @property
    def ids(self) -> MessageIdFormat:
        return MessageIdFormat(hex_ids=self.config.server.hex_ids)


pass_cli = click.make_pass_decorator(CliContext)
