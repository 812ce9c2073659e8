"""The layering of docs/design.md, checked by import-linter with the contracts in setup.cfg.

The contracts: imports point down the layers (cli, server, the core modules, config, routing |
operators, store, pdu, then slotted and config_error); routing and operators are independent; the
pure layers (pdu, routing, operators, the core modules) import nothing from Twisted, sockets or
databases (DESIGN.md rule 1), directly or through other smsc modules; no cycles between the
packages and modules of smsc at any depth.

import-linter reads the source and does not look inside the standard library, so a pure module
importing a stdlib module that itself imports socket (email.utils, logging.handlers, ...) is not
seen; the contract forbids the stdlib network modules by name (socket, ssl, asyncio, selectors,
socketserver).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "setup.cfg"
CONTRACTS = (
    "Imports point down the layers",
    "Routing and the operator simulation know nothing of each other",
    "The pure layers import nothing from Twisted, sockets or databases",
    "No cycles between the packages and modules of smsc",
)
# lint-imports, run by this interpreter (import-linter has no ``python -m`` entry)
_LINT = ("import sys; from importlinter.cli import lint_imports_command; "
         "sys.exit(lint_imports_command())")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports with the repository's contracts on the smsc package found first from ``cwd``."""
    env = {**os.environ, "PYTHONPATH": str(cwd), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", _LINT, "--config", str(CONFIG), "--no-cache"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def _verdicts(output: str) -> dict[str, str]:
    """Each contract's verdict in the summary (the first line naming it), KEPT or BROKEN."""
    text = " ".join(output.split())
    verdicts = {}
    for name in CONTRACTS:
        found = re.search(re.escape(name) + r".*? (KEPT|BROKEN)\b", text)
        if found:
            verdicts[name] = found.group(1)
    return verdicts


def test_the_code_keeps_every_import_contract() -> None:
    result = _lint_imports(ROOT)
    output = result.stdout + result.stderr
    assert _verdicts(output) == dict.fromkeys(CONTRACTS, "KEPT"), output
    assert result.returncode == 0, output


# One import each contract must catch, written into a copy of smsc: (module, line, broken contract).
VIOLATIONS = [
    # the upward import the layering removed: routing read its error type from smsc.config
    ("routing/config.py", "from smsc.config import loader", CONTRACTS[0]),
    ("pdu/codec.py", "import smsc.store.records", CONTRACTS[0]),
    ("store/base.py", "import smsc.routing.prices", CONTRACTS[0]),
    ("core/submit.py", "import smsc.server.worker", CONTRACTS[0]),
    ("operators/receipts.py", "import smsc.routing.numbers", CONTRACTS[1]),
    ("routing/router.py", "import smsc.operators.profile", CONTRACTS[1]),
    ("routing/prices.py", "import sqlite3", CONTRACTS[2]),
    ("pdu/framing.py", "import socket", CONTRACTS[2]),
    ("operators/simulation.py", "from twisted.internet import task", CONTRACTS[2]),
    ("core/centre.py", "import sqlite_utils", CONTRACTS[2]),
    # through another smsc module: the store's SQLite module loads sqlite3
    ("core/routebook.py", "import smsc.store.sqlite", CONTRACTS[2]),
    # the cycle the layering removed: the metrics read the service, which serves them
    ("server/observed.py", "import smsc.server.service", CONTRACTS[3]),
    ("config/server.py", "import smsc.config.loader", CONTRACTS[3]),
]


@pytest.mark.parametrize(("module", "line", "contract"), VIOLATIONS,
                         ids=[f"{m}:{c.split()[1]}" for m, _, c in VIOLATIONS])
def test_a_forbidden_import_breaks_its_contract(tmp_path: Path, module: str, line: str,
                                                contract: str) -> None:
    shutil.copytree(ROOT / "smsc", tmp_path / "smsc",
                    ignore=shutil.ignore_patterns("__pycache__"))
    path = tmp_path / "smsc" / module
    path.write_text(path.read_text() + f"\n{line}  # the import under test\n")
    result = _lint_imports(tmp_path)
    output = result.stdout + result.stderr
    verdicts = _verdicts(output)
    assert verdicts.get(contract) == "BROKEN", output
    assert result.returncode == 1, output
