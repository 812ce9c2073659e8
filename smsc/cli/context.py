"""What every command shares: where the database and the config are, opened on demand."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from smsc.config.check import default_config_path, display_path, load_located
from smsc.config.edit import ConfigEditor
from smsc.config.loader import Config, load_config, merged_tables, packaged_defaults
from smsc.config.server import server_settings_from_mapping
from smsc.config_error import ConfigError
from smsc.core.ids import MessageIdFormat
from smsc.routing.config import RoutingConfig
from smsc.routing.prices import format_amount, parse_amount
from smsc.store import location
from smsc.store.base import Store, StoreError
from smsc.store.records import Account


@dataclass
class CliContext:
    db_path: str | None  # --db: an SQLite file or a postgresql:// URL
    config_path: Path | None
    _config: Config | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)
    _lenient: Config | None = field(default=None, repr=False)

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
    def lenient_config(self) -> Config:
        """The config for commands that need only the database's path, the currency and the
        id format (account, credit, report, send): with a mistake in the config they warn once
        and go on with what still reads (the [server] and [money] tables), else the built-in
        defaults."""
        if self._config is not None:
            return self._config
        if self._lenient is None:
            try:
                self._lenient = self.config
            except click.ClickException as e:
                click.echo(f"warning: {e.message}; going on with the settings that read",
                           err=True)
                self._lenient = salvaged_config(self.config_path)
        return self._lenient

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
        self._lenient = None
        if not written:
            click.echo("nothing changed")
            return
        names = ", ".join(display_path(p) for p in written)
        click.echo(f"wrote {names}; a running server picks it up within seconds (or on SIGHUP)")

    # --- the database ----------------------------------------------------------------------
    @property
    def database(self) -> str:
        """Where the store is: --db, else the config's server.database (an SQLite file's path
        or a postgresql:// URL; see smsc.store.location)."""
        if self.db_path is not None:
            return self.db_path
        return self.lenient_config.server.database

    @property
    def database_shown(self) -> str:
        """The database for messages (a URL's password left out)."""
        return location.shown(self.database)

    def database_exists(self) -> bool:
        """Whether the database may hold data already (a server always may)."""
        return location.exists(self.database)

    def store(self) -> Store:
        if self._store is None:
            try:
                self._store = location.open_store(
                    self.database, synchronous=self.lenient_config.server.synchronous)
            except StoreError as e:
                raise click.ClickException(str(e)) from None
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
        return self.lenient_config.routing.decimals(currency)

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
        return MessageIdFormat(hex_ids=self.lenient_config.server.hex_ids)


def salvaged_config(path: Path | None) -> Config:
    """The built-in defaults with the [server] (and [test_account]) and [money] tables of the
    config at ``path`` where those read without a mistake."""
    config = load_config(packaged_defaults())
    try:
        data, _ = merged_tables(default_config_path(path))
    except ConfigError:
        return config
    with contextlib.suppress(ConfigError):
        server = server_settings_from_mapping(
            {k: data[k] for k in ("server", "test_account") if k in data})
        config = dataclasses.replace(config, server=server)
    if "money" in data:
        with contextlib.suppress(ConfigError):
            money = RoutingConfig.from_mapping({"money": data["money"]})
            routing = dataclasses.replace(
                config.routing, currency=money.currency,
                default_decimals=money.default_decimals, currencies=money.currencies)
            config = dataclasses.replace(config, routing=routing)
    return config


pass_cli = click.make_pass_decorator(CliContext)
