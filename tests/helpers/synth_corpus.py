"""A tiny synthetic corpus in the corpus-manifest format, for training/evaluation tests.

Four easily told apart "classes" (steady tones, noise bursts, chirps, click trains), a few
clips each, written at 16 kHz (so loading exercises resampling). Splits: tone/noise/chirp
have train and val clips (val captions never used in training); clicks is zero-shot.
Embeddings: `write_caption_cache` writes the run's caption-embedding cache directly, one
fixed random direction per class (plus a little per-caption noise), so tests never load a
text encoder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

FILE_RATE = 16000  # Hz, rate of the written clips
ENCODER = "synthetic"  # encoder name stored in the cache (never instantiated)

CAPTIONS = {
    "tone": (["a steady tone", "a sine beep"], ["a pure whistle tone"]),
    "noise": (["bursts of noise", "hissing noise"], ["static hiss bursts"]),
    "chirp": (["a rising chirp", "a frequency sweep"], ["a sweeping chirp sound"]),
    "clicks": ([], ["a train of clicks"]),
}


def _tone(rng: np.random.Generator, n: int) -> np.ndarray:
    t = np.arange(n) / FILE_RATE
    return np.sin(2 * np.pi * rng.uniform(300, 900) * t)


def _noise(rng: np.random.Generator, n: int) -> np.ndarray:
    gate = (np.arange(n) // int(0.1 * FILE_RATE)) % 2  # 100 ms on, 100 ms off
    return rng.standard_normal(n) * gate * 0.5


def _chirp(rng: np.random.Generator, n: int) -> np.ndarray:
    t = np.arange(n) / FILE_RATE
    f0, f1 = rng.uniform(200, 500), rng.uniform(2000, 3500)
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * t[-1]))
    return np.sin(phase)


def _clicks(rng: np.random.Generator, n: int) -> np.ndarray:
    out = np.zeros(n)
    period = int(FILE_RATE / rng.uniform(8, 15))
    out[::period] = 1.0
    return out


GENERATORS = {"tone": _tone, "noise": _noise, "chirp": _chirp, "clicks": _clicks}


def make_corpus(root: Path, clips_per_split: int = 3, seconds: float = 1.5, seed: int = 0) -> Path:
    """Write clips + `manifest.jsonl` under `root`; returns `root`."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    lines = []
    n = int(seconds * FILE_RATE)
    for cls, (train_caps, val_caps) in CAPTIONS.items():
        splits = (
            [("train", train_caps), ("val", val_caps)] if train_caps else [("zeroshot", val_caps)]
        )
        for split, caps in splits:
            for i in range(clips_per_split):
                audio = 0.5 * GENERATORS[cls](rng, n) * rng.uniform(0.3, 1.0)
                rel = f"audio/{cls}_{split}_{i}.wav"
                (root / "audio").mkdir(exist_ok=True)
                sf.write(root / rel, audio.astype(np.float32), FILE_RATE)
                row = {
                    "path": rel,
                    "class": cls,
                    "captions": caps,
                    "split": split,
                    "duration_s": seconds,
                    "sample_rate": FILE_RATE,
                    "source": "synthetic",
                    "license": "CC0",
                }
                lines.append(json.dumps(row))
    (root / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return root


def caption_vectors(dim: int = 384, seed: int = 0) -> dict[str, np.ndarray]:
    """caption -> unit vector; captions of one class share a direction."""
    rng = np.random.default_rng(seed)
    out = {}
    for train_caps, val_caps in CAPTIONS.values():
        base = rng.standard_normal(dim)
        for caption in train_caps + val_caps:
            v = base + 0.1 * rng.standard_normal(dim)
            out[caption] = (v / np.linalg.norm(v)).astype(np.float32)
    return out


def write_caption_cache(run_dir: Path, dim: int = 384, seed: int = 0) -> Path:
    """Write `embeddings.npz` (the training caption cache) for every synthetic caption."""
    run_dir.mkdir(parents=True, exist_ok=True)
    table = caption_vectors(dim, seed)
    path = run_dir / "embeddings.npz"
    np.savez(
        path,
        encoder=np.array(ENCODER),
        texts=np.array(list(table)),
        vectors=np.stack(list(table.values())),
    )
    return path


TINY_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "tiny.yaml"


def tiny_overrides(corpus: Path, run: Path, steps: int = 12) -> list[str]:
    """configs/tiny.yaml made smaller still (0.5 s segments, batch 2, no GRU) on this corpus
    with the pre-filled caption cache."""
    return [
        f"data.corpus={corpus}",
        f"out_dir={run}",
        f"data.text_encoder={ENCODER}",
        "data.segment_s=0.5",
        "batch_size=2",
        f"steps={steps}",
        "model.config.gru_hidden=0",
        "val_items_per_class=1",
    ]
