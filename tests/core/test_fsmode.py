"""Publish-by-rename temp files and folders get the modes set in fsmode, whatever the umask.

The bundle and audio tests compare against FILE_MODE/DIR_MODE, which equal mkstemp's and
mkdtemp's own modes under umask 077; here the modes are patched to values neither gives.
"""

from __future__ import annotations

import os

from livesep import atomic, fsmode


def test_temp_file_and_dir_are_chmod_ed_to_the_modes(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(fsmode, "FILE_MODE", 0o640)
    monkeypatch.setattr(fsmode, "DIR_MODE", 0o750)
    fd, path = fsmode.temp_file(tmp_path, "x.", ".tmp")
    os.close(fd)
    folder = fsmode.temp_dir(tmp_path, "d.", ".tmp")
    assert os.stat(path).st_mode & 0o777 == 0o640  # not mkstemp's 0600
    assert folder.stat().st_mode & 0o777 == 0o750  # not mkdtemp's 0700
    assert folder.parent == tmp_path and os.path.dirname(path) == str(tmp_path)


def test_atomic_temps_are_chmod_ed_to_the_modes(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(atomic, "FILE_MODE", 0o640)
    monkeypatch.setattr(atomic, "DIR_MODE", 0o750)
    with atomic.AtomicFile(tmp_path / "x.bin") as f:
        assert os.stat(f.tmp).st_mode & 0o777 == 0o640  # not mkstemp's 0600
        assert f.tmp.parent == tmp_path
    folder = atomic.temp_dir_beside(tmp_path / "bundle")
    assert folder.stat().st_mode & 0o777 == 0o750  # not mkdtemp's 0700
    assert folder.parent == tmp_path
