"""The one atomic writer: every file livesep writes is published by rename.

`atomic_path(target)` yields a temporary path in the target's folder; when the block ends
without an error the temporary file is renamed over the target (`os.replace` is atomic on
one filesystem), otherwise it is deleted. A reader never sees a half-written file, and a
failed or interrupted run leaves any existing target untouched.

Temporary names are short and recognisable: `.livesep-tmp-<pid>-<8 hex><ext>`, whatever
the target's name (a 255-byte output name still fits), so a run killed outright (SIGKILL,
a power cut) leaves files the next run can recognise: the first write into a folder removes
the temporaries there whose process is gone (`clean_stale_temps`). SIGTERM and SIGHUP are
turned into an exception by `livesep.signals`, so those unwind through `atomic_path` and
clean up at once. (A pid is only meaningful on one machine: on a folder shared by several
hosts a temporary of a live process on another host could be taken for a stale one.)

OS failures while writing (disk full, quota, file too large, name too long, permission)
become a one-line `LivesepError` naming the file and the cause (`os_error_message`).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from livesep.errors import LivesepError
from livesep.fsmode import DIR_MODE, FILE_MODE

TEMP_PREFIX = ".livesep-tmp-"
_TEMP_NAME = re.compile(r"^\.livesep-tmp-(\d+)-[0-9a-f]{8}")
_MAX_EXT = 16  # characters of the target's extension kept on the temporary name
NAME_MAX = 255  # bytes per file name on Linux, macOS and Windows filesystems

_cleaned: set[str] = set()  # folders already cleaned by this process
_cleaned_lock = threading.Lock()

_REASONS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for this filesystem or process limit",
    errno.ENAMETOOLONG: "file name too long",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only filesystem",
    errno.ENOENT: "folder does not exist",
    errno.ENOTDIR: "a parent of the path is not a folder",
    errno.EISDIR: "is a folder",
    errno.EXDEV: "temporary file on another filesystem",
}


def os_error_message(path: str | os.PathLike[str], exc: OSError) -> str:
    """One line naming `path` and what the OS said, e.g. "out.wav: no space left ..."."""
    reason = _REASONS.get(exc.errno or -1) or exc.strerror or str(exc) or type(exc).__name__
    return f"{path}: cannot write ({reason})"


def check_name(path: str | os.PathLike[str], error: type[LivesepError] = LivesepError) -> None:
    """Raise `error` when the last component of `path` is longer than NAME_MAX bytes."""
    name = os.fsencode(Path(path).name)
    if len(name) > NAME_MAX:
        raise error(
            f"{Path(path).name[:40]}...: file name too long ({len(name)} bytes, at most {NAME_MAX})"
        )


def temp_name(suffix: str = "") -> str:
    """A fresh temporary file name for this process: `.livesep-tmp-<pid>-<hex><suffix>`."""
    ext = suffix if len(suffix) <= _MAX_EXT else ""
    return f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}{ext}"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # another user's live process, or cannot tell
        return True
    return True


def clean_stale_temps(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove temporaries in `folder` whose writing process no longer exists.

    Returns:
        The removed paths (files or folders).
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or _alive(int(match.group(1))):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except OSError:
            pass
    return removed


def clean_once(folder: str | os.PathLike[str]) -> None:
    """`clean_stale_temps(folder)` the first time this process writes into `folder`."""
    key = os.path.abspath(folder)
    with _cleaned_lock:
        if key in _cleaned:
            return
        _cleaned.add(key)
    clean_stale_temps(key)


def _same_file(a: Path, b: str | os.PathLike[str]) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == Path(b).resolve()


def check_target(
    target: str | os.PathLike[str],
    overwrite: bool = True,
    protect: Sequence[str | os.PathLike[str]] = (),
    error: type[LivesepError] = LivesepError,
) -> Path:
    """Validate a file to be written: name length, not an input, not a folder, overwrite.

    Args:
        target: the file to write.
        overwrite: allow replacing an existing file (never one in `protect`).
        protect: files that must never be replaced (a job's inputs).
        error: the LivesepError subclass raised (e.g. AudioError for audio outputs).
    """
    out = Path(target)
    check_name(out, error)
    for src in protect:
        if _same_file(out, src):
            raise error(f"{out}: output would overwrite the input")
    if out.exists() and not out.is_file():
        raise error(f"{out}: output path is not a file")
    if out.exists() and not overwrite:
        raise error(f"{out}: output exists (use --overwrite / overwrite=True to replace it)")
    return out


class AtomicFile:
    """A temporary file beside `target`, published by `commit()` or dropped by `abort()`.

    The temporary is created empty and exclusively (`O_EXCL | O_NOFOLLOW`: a file or link
    planted at its name is never followed); the caller writes it by path (`tmp`). Used as
    a context manager, leaving the block without `commit()` deletes it.

    Args:
        target: the file to publish.
        overwrite: replace an existing target (checked now and again at the rename).
        protect: files the target must not be (see `check_target`).
        suffix: the temporary's extension (default: the target's), for writers that pick a
            format from it.
        error: the LivesepError subclass raised.

    Raises:
        LivesepError (`error`): a check fails, or the OS refuses (`os_error_message`).
    """

    def __init__(
        self,
        target: str | os.PathLike[str],
        overwrite: bool = True,
        protect: Sequence[str | os.PathLike[str]] = (),
        suffix: str | None = None,
        error: type[LivesepError] = LivesepError,
    ) -> None:
        self.path = check_target(target, overwrite, protect, error)
        self.overwrite = overwrite
        self.error = error
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            clean_once(folder)
            self.tmp = folder / temp_name(self.path.suffix if suffix is None else suffix)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(self.tmp, flags, 0o600)
            os.fchmod(fd, FILE_MODE)
            os.close(fd)
        except OSError as exc:
            raise error(os_error_message(self.path, exc)) from None

    def commit(self) -> Path:
        """Rename the temporary over the target."""
        if not self.overwrite and self.path.exists():
            self.abort()
            raise self.error(f"{self.path}: output appeared while writing; not replaced")
        try:
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise self.error(os_error_message(self.path, exc)) from None
        return self.path

    def abort(self) -> None:
        """Delete the temporary (if still there)."""
        try:
            self.tmp.unlink()
        except OSError:
            pass

    def fail(self, exc: OSError) -> LivesepError:
        """Delete the temporary and return the one-line error for a failed write."""
        self.abort()
        return self.error(os_error_message(self.path, exc))

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()  # after commit() the temporary is gone and this does nothing


@contextmanager
def atomic_path(
    target: str | os.PathLike[str],
    overwrite: bool = True,
    protect: Sequence[str | os.PathLike[str]] = (),
    suffix: str | None = None,
    error: type[LivesepError] = LivesepError,
) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` when the block ends
    without an error, delete it otherwise. Arguments as `AtomicFile`; an OSError raised by
    the block (disk full, ...) becomes a one-line `error`."""
    with AtomicFile(target, overwrite, protect, suffix, error) as f:
        try:
            yield f.tmp
        except OSError as exc:
            raise f.fail(exc) from None
        f.commit()


def write_bytes(target: str | os.PathLike[str], data: bytes, overwrite: bool = True) -> Path:
    """Write `data` to `target` atomically (fsync-ed before the rename)."""
    with atomic_path(target, overwrite) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    return Path(target)


def write_text(target: str | os.PathLike[str], text: str, overwrite: bool = True) -> Path:
    """Write UTF-8 `text` to `target` atomically."""
    return write_bytes(target, text.encode("utf-8"), overwrite)


def temp_dir_beside(target: str | os.PathLike[str]) -> Path:
    """A fresh temporary folder (DIR_MODE) beside `target`, named like the temp files."""
    out = Path(target)
    check_name(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        clean_once(out.parent)
        tmp = out.parent / temp_name()
        tmp.mkdir()
        tmp.chmod(DIR_MODE)
    except OSError as exc:
        raise LivesepError(os_error_message(out, exc)) from None
    return tmp
