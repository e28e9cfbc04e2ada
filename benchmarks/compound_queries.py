"""Keep and remove in one query, on the shipped model: does the sign come out right?

Mixture: the demo's speech and drums stems (examples/stems, our own renders) plus a third
sound, a violin melody rendered through FluidR3_GM with fluidsynth (as the demo's drums;
needs the tools `examples/make_example.py` unpacks, cached in ~/.cache/livesep), all
mono at 16 kHz, each at its own peak 0.3. The drums play the noise to remove. Each query's
output is scored (SDR, dB) against speech + violin (what removing the drums should leave),
against the speech alone, and against the drums (what the wrong sign would give).

    .venv/bin/python benchmarks/compound_queries.py [--bundle models/default]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

ROOT = Path(__file__).resolve().parent.parent
RATE = 16000  # Hz
QUERIES = [
    "drums",
    "remove the drums",
    "everything but the drums",
    "no drums",
    "a man speaking",
    "a man speaking, not the drums",
    "a man speaking and a violin, not the drums",
]


def _stem(name: str, n: int | None = None) -> np.ndarray:
    audio, rate = sf.read(ROOT / "examples" / "stems" / name, dtype="float32", always_2d=True)
    x = soxr.resample(audio.mean(axis=1), rate, RATE).astype(np.float32)
    return x if n is None else np.pad(x, (0, max(0, n - x.size)))[:n]


def _violin(n: int) -> np.ndarray:
    from livesep.training.debs import PackageStore
    from livesep.training.renderers import builtin_tune, render_midi, write_midi

    store = PackageStore(Path.home() / ".cache" / "livesep")
    synth, env, _ = store.tool("fluidsynth", "fluidsynth")
    sf2 = store.unpack("fluid-soundfont-gm").root / "usr/share/sounds/sf2/FluidR3_GM.sf2"
    with tempfile.TemporaryDirectory() as tmp:
        midi, wav = Path(tmp, "v.mid"), Path(tmp, "v.wav")
        write_midi(midi, builtin_tune(np.random.default_rng(3), False, 24.0), 40, 120.0, 90)
        render_midi(synth, env, sf2, midi, wav, RATE)
        audio, _ = sf.read(wav, dtype="float32", always_2d=True)
    x = audio.mean(axis=1)
    return np.pad(x, (0, max(0, n - x.size)))[:n].astype(np.float32)


def _peak(x: np.ndarray, level: float = 0.3) -> np.ndarray:
    return (x * level / (np.abs(x).max() + 1e-9)).astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "models" / "default")
    args = parser.parse_args(argv)

    from livesep.metrics import sdr
    from livesep.separate import Separator

    speech = _peak(_stem("speech.wav"))
    n = speech.size
    drums, violin = _peak(_stem("drums.wav", n)), _peak(_violin(n))
    mixture = speech + drums + violin  # [T]
    rest = speech + violin
    sep = Separator(args.bundle)
    print(f"bundle {sep.description}; {n / RATE:.1f} s at {RATE} Hz: speech + drums + violin")
    print(f"{'query':<44} {'reads as':<34} vs speech+violin  vs speech  vs drums  (dB SDR)")
    print(
        f"{'(the mixture itself)':<44} {'':<34} {float(sdr(mixture, rest)):8.2f}  "
        f"{float(sdr(mixture, speech)):8.2f}  {float(sdr(mixture, drums)):8.2f}"
    )
    outputs = sep.separate_array(mixture, RATE, QUERIES)
    for query, y in zip(QUERIES, outputs, strict=True):
        request = sep.read(query)
        print(
            f"{query!r:<44} {request.describe()[:34]:<34} {float(sdr(y, rest)):8.2f}  "
            f"{float(sdr(y, speech)):8.2f}  {float(sdr(y, drums)):8.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
