"""Permissions for files published through a temp file and a rename.

`tempfile.mkstemp` creates files 0600 and `mkdtemp` folders 0700; an output the user asked
for should get the modes a plain `open()` or `mkdir` would give under the process's umask.
"""

from __future__ import annotations

import os

__all__ = ["FILE_MODE", "DIR_MODE"]


def _umask() -> int:
    mask = os.umask(0o022)  # the only portable way to read it: set, then restore at once
    os.umask(mask)
    return mask


UMASK = _umask()  # read once, at import
FILE_MODE = 0o666 & ~UMASK  # e.g. 0644 under umask 022
DIR_MODE = 0o777 & ~UMASK  # e.g. 0755
