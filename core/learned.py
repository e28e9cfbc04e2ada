"""Learned queries: conditioning vectors fitted to a user's examples (`livesep learn`).

A learned query is what `livesep learn NAME FILE ...` fitted: a vector in the bundle's
embedding space (the same size as a text embedding, so it runs through the same `film`
and step graphs at no extra cost per hop), tied to the bundle it was fitted for. Hosts
use it as `@NAME` anywhere a sound can be named (`livesep.query`); this module only
stores and loads them (numpy only, no torch).

Layout (one folder per query, under `queries_dir()`):

    $XDG_DATA_HOME/livesep/queries/      (default ~/.local/share/livesep/queries/)
      NAME/
        query.json     {"format", "name", "bundle_digest", "bundle_name", "dim",
                        "vector": [D floats], "sdri_db", "start_sdri_db", "settings",
                        "examples": [file names], "not": [file names], "created"}
        examples/      copies of the example files, as given (for `--refit`)
        not/           copies of the `--not` files

`LIVESEP_QUERIES_DIR` overrides the folder (tests). Every write goes through
`livesep.atomic`; a new query's folder is filled as a temporary folder and renamed into
place, so a half-learned query never appears.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from livesep.atomic import temp_dir_beside, write_bytes, write_text
from livesep.errors import LivesepError, QueryError

__all__ = [
    "FORMAT",
    "LearnedQuery",
    "NAME_PATTERN",
    "QueryStore",
    "check_name",
    "queries_dir",
]

FORMAT = "livesep-learned-query-1"
QUERY_FILE = "query.json"
NAME_MAX = 64  # characters of a query name
# Letters, digits, "-" and "_", starting with a letter or digit: no path separators, no
# dots (no "..", no hidden folders), no spaces (the name is one word of a query).
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"
_NAME = re.compile(rf"^{NAME_PATTERN}$")


def check_name(name: str) -> str:
    """`name` if it is a valid learned-query name.

    Raises:
        QueryError: empty, too long, or with characters other than letters, digits, "-"
            and "_" (no paths, no dots, no spaces).
    """
    if not isinstance(name, str) or not _NAME.match(name):
        shown = name if isinstance(name, str) and len(name) <= NAME_MAX else "that name"
        raise QueryError(
            f"learned query name {shown!r} is not allowed: use 1-{NAME_MAX} letters, digits, "
            "'-' or '_', starting with a letter or digit"
        )
    return name


def queries_dir() -> Path:
    """Where learned queries live: $LIVESEP_QUERIES_DIR, else
    $XDG_DATA_HOME/livesep/queries, else ~/.local/share/livesep/queries."""
    given = os.environ.get("LIVESEP_QUERIES_DIR")
    if given:
        return Path(given)
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "livesep" / "queries"


@dataclass(frozen=True)
class LearnedQuery:
    """One stored learned query."""

    name: str
    vector: np.ndarray  # float32 [D]: the conditioning, in the bundle's embedding space
    bundle_digest: str  # sha256 of the bundle it was fitted for (`Bundle.digest`)
    bundle_name: str = ""
    sdri_db: float | None = None  # SDRi on the held-out examples, fitted vector
    start_sdri_db: float | None = None  # the same, starting vector (before fitting)
    settings: dict[str, Any] = field(default_factory=dict)
    examples: tuple[Path, ...] = ()  # the stored copies
    negatives: tuple[Path, ...] = ()  # the stored copies of the --not files
    created: str = ""

    def check_bundle(self, digest: str) -> None:
        """Raise `QueryError` unless the query was fitted for the bundle with `digest`."""
        if digest != self.bundle_digest:
            raise QueryError(
                f"learned query @{self.name} was fitted for another bundle "
                f"({self.bundle_name or '?'}, digest {self.bundle_digest[:12]}), not this one "
                f"(digest {digest[:12]}); run `livesep learn --refit` for this bundle"
            )

    def summary(self) -> str:
        """'dog  held-out SDRi 7.1 dB (from 0.3)  bundle default 1a2b3c4d5e6f  3 files'."""
        sdri = "?" if self.sdri_db is None else f"{self.sdri_db:.1f} dB"
        start = "" if self.start_sdri_db is None else f" (from {self.start_sdri_db:.1f})"
        return (
            f"{self.name:<20} held-out SDRi {sdri}{start}  bundle {self.bundle_name or '?'} "
            f"{self.bundle_digest[:12]}  {len(self.examples)} example file(s)"
        )


class QueryStore:
    """The folder of learned queries (`queries_dir()` unless given)."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else queries_dir()

    def path(self, name: str) -> Path:
        return self.root / check_name(name)

    def exists(self, name: str) -> bool:
        return (self.path(name) / QUERY_FILE).is_file()

    def names(self) -> list[str]:
        """Names of the stored queries, sorted."""
        if not self.root.is_dir():
            return []
        folders = (p for p in self.root.iterdir() if _NAME.match(p.name))
        return sorted(p.name for p in folders if (p / QUERY_FILE).is_file())

    def load(self, name: str) -> LearnedQuery:
        """The stored query `name`.

        Raises:
            QueryError: no such query, or its file is unreadable or malformed.
        """
        folder = self.path(name)
        file = folder / QUERY_FILE
        if not file.is_file():
            known = ", ".join("@" + n for n in self.names()) or "none"
            raise QueryError(
                f"no learned query @{name} in {self.root} (learned: {known}); "
                f"teach it with `livesep learn {name} FILE ...`"
            )
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            vector = np.asarray(data["vector"], dtype=np.float32)  # [D]
            if data.get("format") != FORMAT or vector.ndim != 1 or not vector.size:
                raise ValueError("not a learned query file")
            if not np.all(np.isfinite(vector)):
                raise ValueError("non-finite values in the vector")
            return LearnedQuery(
                name=name,
                vector=vector,
                bundle_digest=str(data["bundle_digest"]),
                bundle_name=str(data.get("bundle_name", "")),
                sdri_db=_opt_float(data.get("sdri_db")),
                start_sdri_db=_opt_float(data.get("start_sdri_db")),
                settings=dict(data.get("settings", {})),
                examples=tuple(folder / "examples" / n for n in data.get("examples", [])),
                negatives=tuple(folder / "not" / n for n in data.get("not", [])),
                created=str(data.get("created", "")),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise QueryError(f"{file}: cannot read learned query @{name}: {exc}") from None

    def save(
        self,
        query: LearnedQuery,
        examples: Sequence[str | os.PathLike[str]] = (),
        negatives: Sequence[str | os.PathLike[str]] = (),
        replace: bool = False,
    ) -> LearnedQuery:
        """Store `query` with copies of its example files; returns it as stored.

        A new query's folder is built as a temporary folder and renamed into place. With
        `replace` an existing query's `query.json` is rewritten (atomically) and its
        stored examples kept when `examples` is empty (a refit); the inputs are only read.

        Raises:
            LivesepError: the name exists (without `replace`), or a write fails.
        """
        folder = self.path(query.name)
        if folder.exists() and not replace:
            raise LivesepError(
                f"learned query @{query.name} exists ({folder}); pick another name, "
                f"`livesep learn --forget {query.name}` first, or --replace"
            )
        if folder.exists() and not examples:
            ex_names = [p.name for p in query.examples]
            not_names = [p.name for p in query.negatives]
            write_text(folder / QUERY_FILE, _to_json(query, ex_names, not_names))
            return self.load(query.name)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = temp_dir_beside(folder)
        try:
            ex_names = _copy_files(examples, tmp / "examples")
            not_names = _copy_files(negatives, tmp / "not")
            write_text(tmp / QUERY_FILE, _to_json(query, ex_names, not_names))
            if folder.exists():  # --replace of a whole query: old folder out, new in
                old = temp_dir_beside(folder)
                os.replace(folder, old / "old")
                os.replace(tmp, folder)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, folder)
        except OSError as exc:
            raise LivesepError(f"{folder}: cannot store learned query: {exc.strerror}") from None
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return self.load(query.name)

    def forget(self, name: str) -> Path:
        """Delete the stored query `name` (its folder, examples included).

        Raises:
            QueryError: no such query.
        """
        folder = self.path(name)
        if not (folder / QUERY_FILE).is_file():
            raise QueryError(f"no learned query @{name} in {self.root}")
        trash = temp_dir_beside(folder)  # renamed first: a crash never leaves half a query
        os.replace(folder, trash / "gone")
        shutil.rmtree(trash, ignore_errors=True)
        return folder


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _copy_files(files: Sequence[str | os.PathLike[str]], dest: Path) -> list[str]:
    """Copy `files` into `dest` (distinct names: a repeated name gets a -2, -3 suffix)."""
    dest.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    for src in files:
        src = Path(src)
        name = src.name
        n = 1
        while name in names:
            n += 1
            name = f"{src.stem}-{n}{src.suffix}"
        write_bytes(dest / name, src.read_bytes())
        names.append(name)
    return names


def _to_json(query: LearnedQuery, examples: list[str], negatives: list[str]) -> str:
    data = {
        "format": FORMAT,
        "name": query.name,
        "bundle_digest": query.bundle_digest,
        "bundle_name": query.bundle_name,
        "dim": int(query.vector.size),
        "vector": [float(v) for v in np.asarray(query.vector, np.float32)],
        "sdri_db": query.sdri_db,
        "start_sdri_db": query.start_sdri_db,
        "settings": query.settings,
        "examples": examples,
        "not": negatives,
        "created": query.created or time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return json.dumps(data, indent=1) + "\n"
