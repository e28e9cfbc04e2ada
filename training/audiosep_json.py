"""AudioSep's own data format as corpus manifest records.

AudioSep trains from JSON files `{"data": [{"wav": PATH, "caption": TEXT}, ...]}`
(AudioCaps, Clotho, WavCaps, VGGSound, AudioSet lists). `read_audiosep_json` turns each
entry into a manifest record (see `livesep.training.manifest`), so such datasets train
unchanged: the class is the entry's "class"/"label" when it has one, else the caption.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import soundfile as sf

from livesep.training.corpus_sources import CorpusError
from livesep.training.manifest import SPLITS, validate_record


def read_audiosep_json(
    path: str | os.PathLike[str],
    split: str = "train",
    root: str | os.PathLike[str] | None = None,
    probe: bool = True,
) -> list[dict[str, Any]]:
    """Read an AudioSep data JSON into manifest records.

    Args:
        path: the JSON file.
        split: "train", "val" or "zeroshot", given to every record.
        root: folder that relative "wav" paths are relative to (default: the JSON's folder).
            Records carry absolute paths, so the manifest can be written anywhere.
        probe: read each file's header for duration_s and sample_rate (a missing or
            unreadable file is then an error); without it both are taken from the entry
            ("duration", "sample_rate") and must be there.

    Returns:
        One record per entry, in file order.

    Raises:
        CorpusError: unreadable JSON, wrong layout, an entry without wav/caption, a missing
            audio file (naming the file and the entry index).
    """
    path = Path(path)
    if split not in SPLITS:
        raise CorpusError(f"split {split!r} is not one of {SPLITS}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise CorpusError(f'{path}: expected {{"data": [{{"wav": ..., "caption": ...}}]}}')
    base = Path(root) if root is not None else path.parent
    return [
        _record(entry, f"{path}: entry {i}", base, split, probe)
        for i, entry in enumerate(data["data"])
    ]


def _record(entry: Any, where: str, base: Path, split: str, probe: bool) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise CorpusError(f"{where}: an entry must be an object")
    wav, caption = entry.get("wav"), entry.get("caption")
    if not isinstance(wav, str) or not wav:
        raise CorpusError(f"{where}: missing 'wav'")
    if not isinstance(caption, str) or not caption.strip():
        raise CorpusError(f"{where}: missing or empty 'caption'")
    audio = (base / wav).resolve()
    duration: Any
    rate: Any
    if probe:
        try:
            info = sf.info(audio)
        except (sf.LibsndfileError, RuntimeError, OSError) as exc:
            raise CorpusError(f"{where}: cannot read audio {audio}: {exc}") from exc
        duration, rate = float(info.duration), int(info.samplerate)
    else:
        duration, rate = entry.get("duration"), entry.get("sample_rate")
    label = entry.get("class", entry.get("label"))
    cls = label if isinstance(label, str) and label.strip() else caption.strip()
    record = {
        "path": str(audio),
        "class": cls,
        "captions": [caption.strip()],
        "split": split,
        "source": {"package": "audiosep-json", "version": "", "path": wav},
        "license": str(entry.get("license", "unknown")),
        "duration_s": duration,
        "sample_rate": rate,
    }
    return validate_record(record, where)
