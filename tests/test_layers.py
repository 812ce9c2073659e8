"""DESIGN.md rule 1: the pure layers import nothing from Twisted, sockets or SQLite.

Every module of smsc.pdu, smsc.routing and smsc.operators, and the core modules, is imported in a
fresh interpreter; none of the I/O packages may end up loaded.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import smsc.operators
import smsc.pdu
import smsc.routing

IO_PACKAGES = ("twisted", "socket", "sqlite3", "sqlite_utils", "_socket", "_sqlite3")
CORE_MODULES = ("smsc.core", "smsc.binds", "smsc.intake", "smsc.outbox", "smsc.ids",
                "smsc.routebook", "smsc.slotted")


def pure_modules() -> list[str]:
    names = list(CORE_MODULES)
    for package in (smsc.pdu, smsc.routing, smsc.operators):
        names += [f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__)]
    return sorted(names)


def test_the_pure_layers_load_no_io_package() -> None:
    modules = pure_modules()
    assert len(modules) > 30  # the packages are found, not an empty list
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in modules)
        + f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {IO_PACKAGES!r})))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip() == ""


def test_the_check_would_see_an_io_import() -> None:
    code = "import sys, smsc.store.sqlite\nprint('sqlite3' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "True"
