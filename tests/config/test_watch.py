"""Noticing config changes: content, not timestamps, decides; renames are seen at once."""

from __future__ import annotations

import os
from pathlib import Path

from smsc.config.edit import write_atomically
from smsc.config.watch import ConfigWatch, FileStamp, changed_files, stamp_file, stamp_files


def test_a_touch_without_change_is_no_change(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text("x = 1\n")
    watch = ConfigWatch([path])
    assert watch.poll() == []
    os.utime(path, ns=(1, 2))
    assert watch.poll() == []


def test_a_content_change_is_seen_once(tmp_path: Path) -> None:
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text("x = 1\n")
    b.write_text("y = 1\n")
    watch = ConfigWatch([a, b])
    b.write_text("y = 2\n")
    assert watch.poll() == [b]
    assert watch.poll() == []


def test_a_same_size_rewrite_with_the_same_mtime_is_seen_through_the_rename(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text("throughput = 200\n")
    info = path.stat()
    watch = ConfigWatch([path])
    write_atomically(path, "throughput = 300\n")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert path.stat().st_size == info.st_size
    assert watch.poll() == [path]


def test_files_that_vanish_and_appear(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    watch = ConfigWatch([path])
    assert watch.stamps[path] == FileStamp(exists=False)
    assert watch.poll() == []
    path.write_text("x = 1\n")
    assert watch.poll() == [path]
    path.unlink()
    assert watch.poll() == [path]


def test_reset_watches_the_new_set_from_its_current_state(tmp_path: Path) -> None:
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text("x = 1\n")
    b.write_text("y = 1\n")
    watch = ConfigWatch([a])
    watch.reset([a, b])
    assert watch.paths == [a, b]
    assert watch.poll() == []


def test_changed_files_is_pure_and_counts_a_path_in_one_set_only() -> None:
    one = FileStamp(exists=True, inode=1, mtime_ns=1, size=3, digest=b"x")
    same_content = FileStamp(exists=True, inode=2, mtime_ns=9, size=3, digest=b"x")
    other = FileStamp(exists=True, inode=1, mtime_ns=1, size=3, digest=b"y")
    a, b = Path("a"), Path("b")
    assert changed_files({a: one}, {a: same_content}) == []
    assert changed_files({a: one}, {a: other}) == [a]
    assert changed_files({a: one}, {a: one, b: one}) == [b]


def test_an_unchanged_stat_is_not_read_again(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text("x = 1\n")
    first = stamp_file(path)
    assert first.digest
    assert stamp_file(path, first) is first
    assert stamp_files([path], {path: first})[path] is first
