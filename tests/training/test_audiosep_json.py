"""AudioSep's {"data": [{"wav", "caption"}]} JSON read into manifest records."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from livesep.cli import main as livesep_main
from livesep.training.audiosep_json import read_audiosep_json
from livesep.training.corpus_sources import CorpusError
from livesep.training.manifest import audio_path, read_manifest


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    (tmp_path / "wavs").mkdir()
    sf.write(tmp_path / "wavs" / "a.wav", np.zeros(16000 * 2, np.float32), 16000)
    sf.write(tmp_path / "wavs" / "b.flac", np.zeros((44100, 2), np.float32), 44100)
    data = {
        "data": [
            {"wav": "wavs/a.wav", "caption": "A dog barks twice in a quiet room."},
            {"wav": str(tmp_path / "wavs" / "b.flac"), "caption": "rain", "class": "weather"},
        ]
    }
    path = tmp_path / "audiocaps_train.json"
    path.write_text(json.dumps(data))
    return path


def test_reads_entries_as_records(dataset: Path) -> None:
    records = read_audiosep_json(dataset, split="val")
    assert [r["class"] for r in records] == ["A dog barks twice in a quiet room.", "weather"]
    assert [r["captions"] for r in records] == [["A dog barks twice in a quiet room."], ["rain"]]
    assert {r["split"] for r in records} == {"val"}
    assert [(r["duration_s"], r["sample_rate"]) for r in records] == [(2.0, 16000), (1.0, 44100)]
    assert all(Path(r["path"]).is_absolute() and Path(r["path"]).exists() for r in records)
    assert records[0]["source"] == {"package": "audiosep-json", "version": "", "path": "wavs/a.wav"}


def test_root_overrides_the_json_folder(dataset: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere" / "x.json"
    moved.parent.mkdir()
    moved.write_text(dataset.read_text())
    with pytest.raises(CorpusError, match="entry 0: cannot read audio"):
        read_audiosep_json(moved)
    assert len(read_audiosep_json(moved, root=tmp_path)) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not JSON"),
        ('{"items": []}', "expected"),
        ('{"data": [{"caption": "x"}]}', "entry 0: missing 'wav'"),
        ('{"data": [{"wav": "wavs/a.wav", "caption": "  "}]}', "entry 0: missing or empty"),
        ('{"data": [{"wav": "wavs/a.wav", "caption": "x"}, 3]}', "entry 1: an entry must be"),
        ('{"data": [{"wav": "nope.wav", "caption": "x"}]}', "entry 0: cannot read audio"),
    ],
)
def test_bad_input_is_named(dataset: Path, content: str, message: str) -> None:
    bad = dataset.with_name("bad.json")
    bad.write_text(content)
    with pytest.raises(CorpusError, match=message):
        read_audiosep_json(bad)


def test_bad_split_and_missing_file(dataset: Path) -> None:
    with pytest.raises(CorpusError, match="split 'test'"):
        read_audiosep_json(dataset, split="test")
    with pytest.raises(CorpusError, match="cannot read"):
        read_audiosep_json(dataset.with_name("missing.json"))


def test_without_probe_takes_fields_from_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    entry = {"wav": "/data/x.wav", "caption": "x", "duration": 10.0, "sample_rate": 32000}
    path.write_text(json.dumps({"data": [entry]}))
    (record,) = read_audiosep_json(path, probe=False)
    assert (record["duration_s"], record["sample_rate"]) == (10.0, 32000)
    path.write_text(json.dumps({"data": [{"wav": "/data/x.wav", "caption": "x"}]}))
    with pytest.raises(CorpusError, match="duration_s"):
        read_audiosep_json(path, probe=False)


def test_cli_import_writes_a_valid_manifest(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "manifest.jsonl"
    assert livesep_main(["data", "import-audiosep", str(dataset), "--out", str(out)]) == 0
    records = read_manifest(out)
    assert len(records) == 2 and {r["split"] for r in records} == {"train"}
    assert all(audio_path(out, r).exists() for r in records)  # absolute paths survive
    assert (
        livesep_main(["data", "import-audiosep", str(tmp_path / "no.json"), "--out", str(out)]) == 1
    )
