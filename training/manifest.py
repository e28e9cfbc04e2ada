"""The corpus manifest: JSON lines, one record per clip (see docs/CONTRACTS.md).

```json
{"path": "audio/rain/0ad-data__rain_11__1a2b3c4d_000.wav", "class": "rain",
 "captions": ["rain", "isolate rain", ...], "split": "train",
 "source": {"package": "0ad-data", "version": "0.0.26-1", "path": "..."},
 "license": "CC-BY-SA-3.0", "duration_s": 8.12, "sample_rate": 32000}
```
`path` is relative to the manifest's folder (or absolute). `split` is "train", "val" or
"zeroshot" (classes never used in training).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from livesep.training.corpus_sources import CorpusError

SPLITS = ("train", "val", "zeroshot")
REQUIRED: dict[str, type | tuple[type, ...]] = {
    "path": str,
    "class": str,
    "captions": list,
    "split": str,
    "source": dict,
    "license": str,
    "duration_s": (int, float),
    "sample_rate": int,
}


def validate_record(record: Any, where: str) -> dict[str, Any]:
    """Check one record's fields and types; returns it.

    Raises:
        CorpusError: naming `where` (file:line) and the bad field.
    """
    if not isinstance(record, dict):
        raise CorpusError(f"{where}: a record must be a JSON object")
    for key, kind in REQUIRED.items():
        if key not in record:
            raise CorpusError(f"{where}: missing field {key!r}")
        if not isinstance(record[key], kind) or isinstance(record[key], bool):
            raise CorpusError(f"{where}: field {key!r} has the wrong type")
    if record["split"] not in SPLITS:
        raise CorpusError(f"{where}: split {record['split']!r} is not one of {SPLITS}")
    captions = record["captions"]
    if not captions or not all(isinstance(c, str) and c.strip() for c in captions):
        raise CorpusError(f"{where}: captions must be a non-empty list of non-empty strings")
    if not record["path"] or not record["class"].strip():
        raise CorpusError(f"{where}: empty path or class")
    if record["duration_s"] <= 0 or record["sample_rate"] <= 0:
        raise CorpusError(f"{where}: duration_s and sample_rate must be positive")
    if "package" not in record["source"]:
        raise CorpusError(f"{where}: source needs a 'package'")
    return record


def read_manifest(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read and validate a manifest (JSON lines; blank lines ignored).

    Raises:
        CorpusError: missing file, bad JSON or a bad record (file:line named).
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CorpusError(f"cannot read manifest {path}: {exc.strerror}") from exc
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path}:{number}: not JSON ({exc.msg})") from exc
        records.append(validate_record(record, f"{path}:{number}"))
    if not records:
        raise CorpusError(f"manifest {path} has no records")
    return records


def write_manifest(path: str | os.PathLike[str], records: Iterable[dict[str, Any]]) -> None:
    """Write records as JSON lines, atomically (a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    os.replace(tmp, path)


def audio_path(manifest: str | os.PathLike[str], record: dict[str, Any]) -> Path:
    """The audio file of `record`: its path joined to the manifest's folder."""
    return Path(manifest).parent / record["path"]
