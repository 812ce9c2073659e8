"""The shipped config files with their commented-out examples made live.

The shipped files keep every account-specific example commented out (an active rule for the
`acme` of the docs would change the outcomes and prices of whoever follows them); tests that
exercise such rules read the files with the examples uncommented."""

from __future__ import annotations

from pathlib import Path

CONF = Path(__file__).resolve().parents[1] / "conf"


def with_examples(text: str) -> str:
    """``text`` with every commented-out example table (from a line "# [..." to the next empty
    line or bare "#") uncommented."""
    out, live = [], False
    for line in text.splitlines():
        if line.startswith("# ["):
            live = True
        elif line.strip() in ("", "#"):
            live = False
        out.append(line[2:] if live else line)
    return "\n".join(out) + "\n"


def conf_text(name: str) -> str:
    """conf/NAME with its examples live."""
    return with_examples((CONF / name).read_text())
