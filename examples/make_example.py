"""Rebuild examples/speech_and_drums.wav: a man speaking over a drum groove.

The speech is flite's `rms` voice reading a sentence that is not in the training corpus;
the drums are a GM drum pattern rendered through FluidR3_GM (MIT licence) with
fluidsynth. Both are our own renders, so the file carries no third-party recording. The
mixture is 44.1 kHz stereo (the drums slightly panned) to exercise livesep's rate and
channel handling.

    python examples/make_example.py   # needs apt (tools are unpacked, not installed)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from livesep.training.debs import PackageStore
from livesep.training.renderers import drum_pattern, render_flite, render_midi, write_midi

RATE = 44100  # Hz, output rate
SECONDS = 8.0  # s, output length
TEXT = (
    "Good evening. Tonight we take a walk along the old harbour, where the fishing boats "
    "come home before the storm, and the lights go on one by one."
)
OUT = Path(__file__).resolve().parent / "speech_and_drums.wav"


def _load(path: Path) -> np.ndarray:
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)  # [T]
    return soxr.resample(mono, rate, RATE).astype(np.float32)


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    return np.pad(x, (0, max(0, n - len(x))))[:n]


def main() -> None:
    store = PackageStore(Path.home() / ".cache" / "livesep")
    flite, flite_env, _ = store.tool("flite", "flite")
    synth, synth_env, _ = store.tool("fluidsynth", "fluidsynth")
    sf2 = store.unpack("fluid-soundfont-gm").root / "usr/share/sounds/sf2/FluidR3_GM.sf2"
    n = int(SECONDS * RATE)
    with tempfile.TemporaryDirectory() as tmp:
        speech_wav, midi, drums_wav = Path(tmp, "s.wav"), Path(tmp, "d.mid"), Path(tmp, "d.wav")
        render_flite(flite, flite_env, "rms", TEXT, speech_wav)
        pattern = drum_pattern(np.random.default_rng(7), bars=5)
        write_midi(midi, pattern, program=-1, bpm=96.0, velocity=100)
        render_midi(synth, synth_env, sf2, midi, drums_wav, RATE)
        speech = _fit(_load(speech_wav), n)  # [T]
        drums = _fit(_load(drums_wav), n)  # [T]
    speech *= 0.3 / (np.abs(speech).max() + 1e-9)
    drums *= 0.3 / (np.abs(drums).max() + 1e-9)
    mix = np.stack([speech + 0.8 * drums, speech + 1.0 * drums], axis=1)  # [T, 2]
    sf.write(OUT, mix, RATE, subtype="PCM_16")
    print(f"wrote {OUT} ({SECONDS} s, {RATE} Hz, stereo)")


if __name__ == "__main__":
    main()
