"""livesep.atomic (the one writer), livesep.terminal (printable echoes)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from livesep import atomic
from livesep.errors import LivesepError
from livesep.terminal import printable


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_write_replaces_atomically_and_leaves_no_temp(tmp_path):
    target = tmp_path / "sub" / "x.json"
    atomic.write_text(target, "one")
    atomic.write_text(target, "two")
    assert target.read_text() == "two" and os.listdir(tmp_path / "sub") == ["x.json"]
    with pytest.raises(LivesepError, match="output exists"):
        atomic.write_bytes(target, b"three", overwrite=False)


def test_a_failing_block_keeps_the_old_file(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["x.txt"]


def test_temp_names_are_short_and_recognisable(tmp_path):
    name = atomic.temp_name(".wav")
    assert name.startswith(f"{atomic.TEMP_PREFIX}{os.getpid()}-") and len(name) < 40
    assert len(atomic.temp_name("." + "x" * 40)) < 40  # a long suffix is dropped


def test_clean_stale_temps_removes_only_dead_processes_temps(tmp_path):
    dead = tmp_path / f"{atomic.TEMP_PREFIX}{_dead_pid()}-0badc0de.pt"
    dead.write_bytes(b"")
    (tmp_path / f"{atomic.TEMP_PREFIX}{_dead_pid()}-0badc0de").mkdir()  # a bundle's folder
    mine = tmp_path / f"{atomic.TEMP_PREFIX}{os.getpid()}-12345678.pt"
    mine.write_bytes(b"")
    other = tmp_path / ".x.wav.tmp"  # not ours: never touched
    other.write_bytes(b"")
    removed = atomic.clean_stale_temps(tmp_path)
    assert len(removed) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, other.name])


def test_name_too_long(tmp_path):
    with pytest.raises(LivesepError, match="file name too long"):
        atomic.write_text(tmp_path / ("n" * 256), "x")


def test_printable():
    assert printable("a\x1b[31mred\x1b[0m b") == "ared b"
    assert printable("t\x1b]0;title\x07x") == "tx"
    assert printable("bell\x07 nul\x00") == "bell\\x07 nul\\x00"
    assert printable("ok ünïcode 狗\ttab") == "ok ünïcode 狗\ttab"
    assert printable("x" * 10, limit=5) == "xxxx…"
