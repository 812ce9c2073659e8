"""The CLI run in-process through click's CliRunner, on a database and a copy of the example
config in a temporary directory."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from smsc.cli import main
from smsc.store.sqlite import SqliteStore
from tests.examples import conf_text

CONF = Path(__file__).resolve().parents[2] / "conf"


@dataclass
class Cli:
    """``smsc --db DB --config CONFIG ...`` in this process."""

    db: Path | str  # an SQLite file or a postgresql:// URL
    config: Path
    _stores: list[SqliteStore] = field(default_factory=list)

    def run(self, *args: str, input: str | None = None) -> Result:
        """Any outcome; an exception other than click's own exit propagates (a traceback is
        a test failure)."""
        return CliRunner().invoke(
            main,
            ["--db", str(self.db), "--config", str(self.config), *args],
            input=input,
            catch_exceptions=False,
        )

    def __call__(self, *args: str, input: str | None = None) -> str:
        """Standard output of a command that must succeed."""
        result = self.run(*args, input=input)
        assert result.exit_code == 0, f"smsc {' '.join(args)}: {result.output}"
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json"))

    def fails(
        self, *args: str, code: int = 1, says: str | Sequence[str] = (), input: str | None = None
    ) -> str:
        """A user mistake: exit ``code`` (1 error, 2 usage), a message, never a traceback.
        Returns everything printed."""
        result = self.run(*args, input=input)
        assert result.exit_code == code, f"exit {result.exit_code}: {result.output}"
        assert isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        for text in [says] if isinstance(says, str) else says:
            assert text in result.output, result.output
        return result.output

    def store(self) -> SqliteStore:
        """The database, opened as the server would (closed at the end of the test)."""
        if not self._stores:
            self._stores.append(SqliteStore(self.db))
        return self._stores[0]

    def close(self) -> None:
        for store in self._stores:
            store.close()
        self._stores.clear()


def copy_conf(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("smsc.toml", "operators.toml", "routes.toml"):
        (directory / name).write_text(conf_text(name))  # the examples live, for the tests
    return directory / "smsc.toml"


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    runner = Cli(db=tmp_path / "smsc.sqlite", config=copy_conf(tmp_path / "conf"))
    yield runner
    runner.close()
