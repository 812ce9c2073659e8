"""No file of the project keeps a merge's conflict markers (a README once carried a pair for a
whole merge, and nothing else would have failed)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^(<{7} |>{7} |={7}$)", re.MULTILINE)


def _tracked() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    names = [n for n in listed.stdout.decode().split("\0") if n]
    return [ROOT / n for n in names if n.endswith((".py", ".md", ".toml", ".cfg", ".txt", ".sh"))
            or n.startswith(".ci/")]


def test_no_file_keeps_conflict_markers() -> None:
    found = []
    for path in _tracked():
        if path.is_file() and MARKER.search(path.read_text(errors="replace")):
            found.append(str(path.relative_to(ROOT)))
    assert found == []


def test_the_check_sees_a_marker() -> None:
    assert MARKER.search("text\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> main\n")
    assert not MARKER.search("a table\n|---|---|\n= not a marker\n")
