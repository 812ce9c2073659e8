"""Noticing that config files changed, for a server that re-reads its config.

A :class:`FileStamp` is what was last seen of one file: its inode, modification time, size and
a SHA-256 of its content. :func:`stamp_files` takes new stamps, reading and hashing a file only
when its ``stat`` differs from the previous stamp (a poll of unchanged files costs one ``stat``
each); :func:`changed_files` compares two sets of stamps and says which files differ in
content (or appeared, or vanished). A file touched but not changed is not a change; a file
replaced by a rename (the CLI writes that way, as do most editors) is seen even within the same
second. :class:`ConfigWatch` keeps the stamps between polls.

Usage in the server: ``watch = ConfigWatch(config.files)`` after loading; every second
``if watch.poll(): reload()``; after a reload (good or bad) ``watch.reset(new_files)`` so that a
bad file is reported once, not every second, and an include added by the new config is watched.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ConfigWatch", "FileStamp", "changed_files", "stamp_file", "stamp_files"]

_CHUNK = 1 << 16
_MAX_HASHED = 64 << 20  # a config file larger than this is compared by stat alone


@dataclass(frozen=True, slots=True, kw_only=True)
class FileStamp:
    """What was seen of a file; ``exists`` False for a missing or unreadable one."""

    exists: bool
    inode: int = 0
    mtime_ns: int = 0
    size: int = 0
    digest: bytes = b""

    def same_stat(self, other: FileStamp) -> bool:
        return (self.exists, self.inode, self.mtime_ns, self.size) == (
            other.exists,
            other.inode,
            other.mtime_ns,
            other.size,
        )

    def same_content(self, other: FileStamp) -> bool:
        if self.exists != other.exists:
            return False
        if not self.exists:
            return True
        if self.digest and other.digest:
            return self.digest == other.digest and self.size == other.size
        return self.same_stat(other)


MISSING = FileStamp(exists=False)


def _digest(path: Path, size: int) -> bytes:
    if size > _MAX_HASHED:
        return b""
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for _ in range(size // _CHUNK + 2):
            chunk = handle.read(_CHUNK)
            if not chunk:
                break
            sha.update(chunk)
    return sha.digest()


def stamp_file(path: Path, previous: FileStamp | None = None) -> FileStamp:
    """The stamp of ``path`` now; the content is hashed only when the stat differs from
    ``previous``."""
    try:
        info = os.stat(path)
    except OSError:
        return MISSING
    stamp = FileStamp(exists=True, inode=info.st_ino, mtime_ns=info.st_mtime_ns, size=info.st_size)
    if previous is not None and previous.same_stat(stamp) and previous.digest:
        return previous
    try:
        digest = _digest(path, info.st_size)
    except OSError:
        return MISSING
    return FileStamp(
        exists=True, inode=stamp.inode, mtime_ns=stamp.mtime_ns, size=stamp.size, digest=digest
    )


def stamp_files(
    paths: Iterable[Path], previous: Mapping[Path, FileStamp] | None = None
) -> dict[Path, FileStamp]:
    """Stamps of every path (see :func:`stamp_file`)."""
    previous = previous or {}
    return {Path(p): stamp_file(Path(p), previous.get(Path(p))) for p in paths}


def changed_files(before: Mapping[Path, FileStamp], after: Mapping[Path, FileStamp]) -> list[Path]:
    """The paths whose content differs between two sets of stamps, a path in one set only
    counting as changed. Pure: no file is touched."""
    changed = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old is None or new is None or not old.same_content(new):
            changed.append(path)
    return changed


class ConfigWatch:
    """The stamps of the config files between polls."""

    __slots__ = ("stamps",)

    def __init__(self, paths: Iterable[Path]) -> None:
        self.stamps: dict[Path, FileStamp] = stamp_files(paths)

    @property
    def paths(self) -> list[Path]:
        return list(self.stamps)

    def poll(self) -> list[Path]:
        """The files changed since the last poll (or reset); the new stamps are kept."""
        now = stamp_files(self.stamps, self.stamps)
        changed = changed_files(self.stamps, now)
        self.stamps = now
        return changed

    def reset(self, paths: Iterable[Path]) -> None:
        """Watch ``paths`` from their current state (after a reload)."""
        self.stamps = stamp_files(paths, self.stamps)
