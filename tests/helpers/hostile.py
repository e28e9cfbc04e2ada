"""Helpers of the hostile-input suite (tests/hostile): folder snapshots, subprocesses."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from helpers.tiny_bundle import DIM, default_embeddings, make_delay_bundle
from livesep.audio import write_audio
from livesep.bundle import Bundle
from livesep.query import parse_request

RATE = 16000  # Hz, the tiny bundle's rate
REPO = Path(__file__).resolve().parents[2]
ESCAPE_QUERY = "\x1b]0;owned\x07\x1b[2J\x1b[31mdog\x9b1m"  # retitle, clear, colour
EXTRA_QUERIES = ["speech!!!", "speech???", "¿¿", "??", ESCAPE_QUERY]


def _unit(i: int) -> list[float]:
    v = np.zeros(DIM, np.float32)
    v[i] = 1.0
    return v.tolist()


def make_hostile_bundle(folder: Path) -> Bundle:
    """The tiny delay bundle with every query the suite sends cached (no text encoder
    loads) and a two-caption query bank (so `separate` prints how each query reads).

    Queries are parsed before they are encoded (`livesep.query`): each sound a query
    names is cached too (ESCAPE_QUERY's ';' splits it into two)."""
    embeddings = default_embeddings()
    embeddings.update({q: _unit(10 + i) for i, q in enumerate(EXTRA_QUERIES)})
    sounds = dict.fromkeys(s for q in EXTRA_QUERIES for s, _ in parse_request(q))
    for i, text in enumerate(sounds, start=10 + len(EXTRA_QUERIES)):
        embeddings.setdefault(text, _unit(i))
    bank = {"a dog barking": _unit(10), "rain": _unit(11)}
    return make_delay_bundle(folder, embeddings=embeddings, query_bank=bank)


def noise_wav(path: Path, seconds: float = 0.5, seed: int = 0, channels: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    x = (0.1 * rng.standard_normal((channels, int(seconds * RATE)))).astype(np.float32)
    return write_audio(path, x, RATE)


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under `folder` (hidden ones included)."""
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def temps(folder: Path) -> list[str]:
    """Temporary files livesep (or an older livesep) could have left in `folder`."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and "tmp" in p.name)


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(REPO / "tests"), e.get("PYTHONPATH", "")])
    e["QT_QPA_PLATFORM"] = "offscreen"
    return e


def run_python(code: str, *args: str, **kw) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter (argv[1:] = args); text output captured."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
        **kw,
    )


def one_line_errors(stderr: str) -> None:
    """No traceback; every line is a livesep message."""
    assert "Traceback" not in stderr, stderr[-3000:]
