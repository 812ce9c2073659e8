"""smsc.routing imports nothing from Twisted, sockets or SQLite."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import smsc.routing

MODULES = [
    "accounts",
    "blacklist",
    "config",
    "construct",
    "credit",
    "numbers",
    "outcomes",
    "prices",
    "router",
    "routes",
    "senders",
    "suggest",
    "throttle",
]


def test_no_io_imports() -> None:
    imports = "; ".join(f"import smsc.routing.{name}" for name in MODULES)
    code = (
        f"import sys; {imports}; "
        "bad = sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('twisted', 'socket', 'sqlite3', 'sqlite_utils')); "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_every_module_is_checked() -> None:
    assert set(MODULES) == {m.name for m in pkgutil.iter_modules(smsc.routing.__path__)}
