"""Fuzz: 200 random byte strings and 200 random WAV headers through `livesep separate` and
`livesep live --input-file`. Whatever the bytes: no traceback, a clean exit status, the
input untouched, and nothing written unless the file was good audio (then one valid output).
"""

from __future__ import annotations

import csv
import struct

import numpy as np
import pytest
from helpers.hostile import one_line_errors, snapshot

from livesep.audio import read_audio
from livesep.cli import main

N_CASES = 200  # per kind


def random_bytes(rng: np.random.Generator) -> bytes:
    n = int(rng.choice([0, 1, 4, 12, 44, 100, 1000, 5000]))
    data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    if rng.random() < 0.3:  # a plausible magic number in front of garbage
        data = rng.choice([b"RIFF", b"fLaC", b"OggS", b"ID3", b"FORM"]) + data
    return data


def _pick(rng: np.random.Generator, plausible: list[int], hostile: list[int]) -> int:
    """Mostly a plausible value (so files get past the parser to the later checks)."""
    return int(rng.choice(plausible if rng.random() < 0.75 else hostile))


def random_wav_header(rng: np.random.Generator) -> bytes:
    """A RIFF/WAVE file whose fmt fields and chunk sizes are drawn from plausible and
    hostile values (rates 0 to 2^32-1, 0 to 65535 channels, odd sizes, NaN/Inf data)."""
    tag = _pick(rng, [1, 3], [0, 2, 6, 7, 0xFFFE, int(rng.integers(0, 65536))])
    channels = _pick(rng, [1, 2], [0, 3, 64, 65, 255, 65535])
    rate = _pick(rng, [8000, 16000, 44100], [0, 1, 4000, 7999, 768001, 2**31 - 1, 2**32 - 1])
    bits = _pick(rng, [32] if tag == 3 else [16, 24], [0, 1, 8, 64, 13])
    align = max(channels * bits // 8, 0) % 65536
    byte_rate = (rate * align) % 2**32
    frames = int(rng.integers(0, 400))
    body = rng.integers(0, 256, frames * max(align, 1), dtype=np.uint8).tobytes()
    if tag == 3 and bits == 32:  # float data, often with NaN/Inf inside
        values = (0.1 * rng.standard_normal(len(body) // 4)).astype(np.float32)
        if rng.random() < 0.5:
            values[:: max(len(values) // 3, 1)] = rng.choice([np.nan, np.inf, -np.inf])
        body = values.tobytes()
    data_size = _pick(rng, [len(body)], [0, 2**32 - 1, len(body) * 7, max(len(body) - 3, 0)])
    fmt = struct.pack("<HHIIHH", tag, channels, rate, byte_rate, align, bits)
    fmt_size = _pick(rng, [16], [18, 40, 2, 0])
    fmt = (fmt + b"\0" * 24)[:fmt_size]
    chunks = b"fmt " + struct.pack("<I", fmt_size) + fmt
    chunks += b"data" + struct.pack("<I", data_size) + body
    riff_size = _pick(rng, [4 + len(chunks)], [0, 2**32 - 1])
    return b"RIFF" + struct.pack("<I", riff_size) + b"WAVE" + chunks


def _cases(tmp_path, kind: str) -> list:
    rng = np.random.default_rng(24 if kind == "bytes" else 2024)
    make = random_bytes if kind == "bytes" else random_wav_header
    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    for i in range(N_CASES):
        path = folder / f"case{i:03d}.wav"
        path.write_bytes(make(rng))
        paths.append(path)
    return paths


def _readable(path) -> bool:
    try:
        read_audio(path)
    except Exception:  # noqa: BLE001 -- any refusal counts as unreadable here
        return False
    return True


@pytest.mark.parametrize("kind", ["bytes", "wav-header"])
def test_fuzz_through_separate(bundle, tmp_path, capsys, kind):
    inputs = _cases(tmp_path, kind)
    before = snapshot(tmp_path / "in")
    out = tmp_path / "out"
    jobs = tmp_path / "jobs.csv"
    with jobs.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["input", "query", "output"])
        for i, path in enumerate(inputs):
            w.writerow([str(path), "speech", str(out / f"o{i:03d}.wav")])
    status = main(["separate", "--batch", str(jobs), "--bundle", str(bundle.path), "--quiet"])
    err = capsys.readouterr().err
    one_line_errors(err)
    assert snapshot(tmp_path / "in") == before  # inputs untouched
    good = {i for i, p in enumerate(inputs) if _readable(p)}
    written = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert written == [f"o{i:03d}.wav" for i in sorted(good)]  # no temp files, nothing else
    failed = N_CASES - len(good)
    assert status == (1 if failed else 0)
    assert err.count("failed:") == failed
    if kind == "bytes":
        assert not good  # random bytes are never audio
    for i in good:
        assert read_audio(out / f"o{i:03d}.wav")[0].shape == read_audio(inputs[i])[0].shape


@pytest.mark.parametrize("kind", ["bytes", "wav-header"])
def test_fuzz_through_live_file_mode(bundle, tmp_path, capsys, kind):
    inputs = _cases(tmp_path, kind)
    before = snapshot(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    accepted = 0
    for i, path in enumerate(inputs):
        dst = out / f"o{i:03d}.wav"
        argv = ["live", "--query", "speech", "--bundle", str(bundle.path)]
        status = main(argv + ["--input-file", str(path), "--output-file", str(dst)])
        assert status in (0, 1)
        assert dst.exists() == (status == 0)
        accepted += status == 0
    err = capsys.readouterr().err
    one_line_errors(err)
    assert snapshot(tmp_path / "in") == before
    assert len(list(out.iterdir())) == accepted  # no temp files left
    assert err.count("livesep live: error:") == N_CASES - accepted
