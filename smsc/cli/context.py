"""What every command shares: where the database and the config are, opened on demand."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from smsc.config.errors import ConfigError
from smsc.config.loader import Config, load_config
from smsc.store.base import Store
from smsc.store.sqlite import SqliteStore


@dataclass
class CliContext:
    db_path: Path | None
    config_path: Path | None
    _config: Config | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            try:
                self._config = load_config(self.config_path)
            except ConfigError as e:
                raise click.ClickException(f"config: {e}") from None
        return self._config

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

    @staticmethod
    def now() -> float:
        return time.time()


pass_cli = click.make_pass_decorator(CliContext)
