"""Temp files and folders for publish-by-rename, with the modes a plain write would give.

`tempfile.mkstemp` creates files 0600 and `mkdtemp` folders 0700; an output the user asked
for (separated audio, a checkpoint, a bundle) should get what `open()` or `mkdir` give
under the process's umask once it is renamed into place.

New code writes through `livesep.atomic` (recognisable temp names that later runs clean up);
`temp_file`/`temp_dir` remain for callers not yet moved to it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["FILE_MODE", "DIR_MODE", "temp_file", "temp_dir"]


def _umask() -> int:
    mask = os.umask(0o022)  # the only portable way to read it: set, then restore at once
    os.umask(mask)
    return mask


UMASK = _umask()  # read once, at import
FILE_MODE = 0o666 & ~UMASK  # e.g. 0644 under umask 022
DIR_MODE = 0o777 & ~UMASK  # e.g. 0755


def temp_file(folder: str | os.PathLike[str], prefix: str, suffix: str) -> tuple[int, str]:
    """`tempfile.mkstemp` in `folder`, chmod-ed to FILE_MODE: (open fd, path)."""
    fd, path = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=suffix)
    os.fchmod(fd, FILE_MODE)
    return fd, path


def temp_dir(folder: str | os.PathLike[str], prefix: str, suffix: str) -> Path:
    """`tempfile.mkdtemp` in `folder`, chmod-ed to DIR_MODE."""
    path = Path(tempfile.mkdtemp(dir=folder, prefix=prefix, suffix=suffix))
    path.chmod(DIR_MODE)
    return path
