"""docs/design.md stays true: every path, module, class, function and link it names exists.

Names are read from the code with ``ast`` (nothing is imported): a dotted ``smsc.a.b.Name.attr``
must be a module of smsc, a name defined at its top level and, if given, an attribute of that
class (a method, a class-level or annotated name, or one assigned to ``self`` in its methods);
a short ``Class.attr`` must name a class of smsc or tests with that attribute; a lone
``ClassName`` a class defined in smsc or tests.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "design.md"

_CODE = re.compile(r"`([^`\n]+)`")
_PATH = re.compile(r"^(?:smsc|tests|docs|bench|conf)/[\w./-]*$")
_DOTTED = re.compile(r"^smsc(?:\.\w+)+$")
_CLASS_ATTR = re.compile(r"^([A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*)\.(\w+)$")
_CLASS = re.compile(r"^[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*$")  # CamelCase with two humps at least
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_EXTERNAL = frozenset({"StringTransport"})  # Twisted's, named for the adapter tests


def _snippets() -> list[str]:
    return _CODE.findall(DOC.read_text())


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _top_names(tree: ast.Module) -> dict[str, ast.AST]:
    names: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                names[alias.asname or alias.name] = node
    return names


def _class_names(cls: ast.ClassDef) -> set[str]:
    names: set[str] = set()
    for node in cls.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    for sub in ast.walk(cls):
        if (isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name)
                and sub.value.id == "self" and isinstance(sub.ctx, ast.Store)):
            names.add(sub.attr)
    return names


@functools.cache
def _classes() -> dict[str, list[ast.ClassDef]]:
    """Every class defined at the top level of a module of smsc or tests, by name."""
    out: dict[str, list[ast.ClassDef]] = {}
    for top in ("smsc", "tests"):
        for path in sorted((ROOT / top).rglob("*.py")):
            for node in _tree(path).body:
                if isinstance(node, ast.ClassDef):
                    out.setdefault(node.name, []).append(node)
    return out


def _module_file(parts: list[str]) -> Path | None:
    base = ROOT.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = _module_file(parts[:cut])
        if module is None:
            continue
        rest = parts[cut:]
        if not rest:
            return True
        node = _top_names(_tree(module)).get(rest[0])
        if node is None or len(rest) > 2:
            return False
        if len(rest) == 1:
            return True
        return isinstance(node, ast.ClassDef) and rest[1] in _class_names(node)
    return False


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(doc: Path) -> set[str]:
    return {_slug(line.lstrip("#")) for line in doc.read_text().splitlines()
            if line.startswith("#")}


def test_every_path_exists() -> None:
    paths = [s for s in _snippets() if _PATH.match(s)]
    assert len(paths) >= 10
    missing = [p for p in paths if not (ROOT / p.rstrip("/")).exists()]
    assert not missing, missing


def test_every_dotted_name_resolves() -> None:
    names = [s for s in _snippets() if _DOTTED.match(s)]
    assert len(names) >= 40
    missing = [n for n in names if not _resolves(n)]
    assert not missing, missing


def test_every_class_attribute_exists() -> None:
    classes = _classes()
    pairs = [m.groups() for s in _snippets() if (m := _CLASS_ATTR.match(s))]
    assert len(pairs) >= 10
    missing = [f"{c}.{a}" for c, a in pairs
               if not any(a in _class_names(node) for node in classes.get(c, []))]
    assert not missing, missing


def test_every_class_exists() -> None:
    names = [s for s in _snippets() if _CLASS.match(s)]
    assert len(names) >= 10
    missing = [n for n in names if n not in _classes() and n not in _EXTERNAL]
    assert not missing, missing


def test_every_link_and_anchor_exists() -> None:
    links = [link for link in _LINK.findall(DOC.read_text()) if "://" not in link]
    assert links
    for link in links:
        target, _, anchor = link.partition("#")
        path = (DOC.parent / target) if target else DOC
        assert path.exists(), link
        if anchor:
            assert anchor in _anchors(path), link


def test_the_checks_can_fail() -> None:
    """The resolvers refuse names that do not exist (a check that cannot fail is no check)."""
    assert _resolves("smsc.core.submit.Intake.prepare")
    assert not _resolves("smsc.core.submit.Intake.no_such_method")
    assert not _resolves("smsc.intake.Intake")  # where it was before smsc/core
    assert not _resolves("smsc.core.no_such_module")
    assert "queue_depths" in _class_names(_classes()["Intake"][0])  # assigned to self
    assert _slug("Receipts after a crash: at least once, with a bounded repeat") == \
        "receipts-after-a-crash-at-least-once-with-a-bounded-repeat"


def test_readme_sends_developers_here_first() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Development", 1)[1]
    first_paragraph = section.strip().split("\n\n", 1)[0]
    assert "docs/design.md" in first_paragraph


@pytest.mark.parametrize("path", ["smsc/server/protocol.py", "smsc/core/submit.py",
                                  "smsc/server/committer.py", "smsc/core/accept.py",
                                  "smsc/store/acceptance.py", "smsc/core/rounds.py",
                                  "smsc/server/delivery.py", "smsc/core/outbox.py"])
def test_both_paths_name_their_modules(path: str) -> None:
    """The submit and receipt paths go through these modules; the hop lists must name them."""
    text = DOC.read_text()
    paths = text.split("## The path of a submit", 1)[1].split("## Threads", 1)[0]
    dotted = path.removesuffix(".py").replace("/", ".")
    assert f"`{dotted}." in paths or f"`{path}`" in paths, path
