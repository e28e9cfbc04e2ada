"""benchmarks/speech_expert.py end to end on a tiny synthetic corpus and the tiny bundle."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers.tiny_bundle import make_delay_bundle

from livesep import expert
from livesep.separate import Separator

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "speech_expert.py"
spec = importlib.util.spec_from_file_location("speech_expert_bench", SCRIPT)
assert spec is not None and spec.loader is not None
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

pytestmark = pytest.mark.skipif(not expert.available(), reason="the speech extra is missing")
RATE = 16000


def _corpus(root: Path) -> Path:
    rng = np.random.default_rng(0)
    rows = []
    clips = [
        ("male speech", "ktuberling-data", "val"),
        ("female speech", "klettres-data", "val"),
        ("male speech", "flite", "val"),  # synthetic: left out
        ("wind", "ufoai-sound", "val"),
        ("piano", "timgm6mb-soundfont", "val"),  # a render: left out
        ("laughter", "trackballs-data", "val"),  # vocal: left out
        ("rain", "supertuxkart-data", "train"),  # not held out: left out
    ]
    for i, (cls, package, split) in enumerate(clips):
        path = f"audio/{i}.wav"
        (root / "audio").mkdir(parents=True, exist_ok=True)
        sf.write(root / path, 0.1 * rng.standard_normal(RATE), RATE)
        rows.append({"path": path, "class": cls, "split": split, "source": {"package": package}})
    (root / "manifest.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return root


def test_pools_keep_recorded_held_out_speech_and_non_vocal_noise(tmp_path):
    speech, noise = bench.pools(_corpus(tmp_path))
    assert [r["source"]["package"] for r in speech["male speech"]] == ["ktuberling-data"]
    assert [r["source"]["package"] for r in speech["female speech"]] == ["klettres-data"]
    assert [r["class"] for r in noise] == ["wind"]


def test_the_bench_runs_and_the_routed_path_equals_the_expert(tmp_path, capsys):
    sets = bench.build(_corpus(tmp_path / "c"), items=4, rate=RATE, seed=0)
    assert [len(sets[k]) for k in ("noisy", "mf", "mf+noise")] == [4, 2, 2]
    assert [it["snr"] for it in sets["noisy"]] == [0.0, 0.0, 5.0, 5.0]
    first = sets["noisy"][0]
    snr = 10 * np.log10(bench.energy(first["speech"]) / bench.energy(first["noise"]))
    assert abs(snr - first["snr"]) < 1e-3
    # No cached texts: the route reads a bundle's cache as MiniLM's vectors, and the tiny
    # bundle's stand-in vectors are not (a real bundle's are).
    tiny = make_delay_bundle(tmp_path / "b", embeddings={})
    model, routed = Separator(tiny, expert=False), Separator(tiny, expert=True)
    bench.run_quality(model, routed, sets, RATE)
    bench.run_cost(model, seconds=0.1)
    out = capsys.readouterr().out
    assert 'paired: livesep "speech" (routed) - DFN3 alone: SDRi   0.00 +- 0.00' in out
    assert "DFN3 expert (48 kHz)" in out and "model step" in out
