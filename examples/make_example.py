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
HERE = Path(__file__).resolve().parent
OUT = HERE / "speech_and_drums.wav"
STEMS = HERE / "stems"  # the two sources, mono: left = speech + 0.8 drums, right = speech + drums
DRUMS_GAIN = (0.8, 1.0)  # drums level in the left and right channels


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
    speech = _pcm16(speech)
    drums = _pcm16(drums)
    mix = np.stack([speech + g * drums for g in DRUMS_GAIN], axis=1)  # [T, 2]
    sf.write(OUT, mix, RATE, subtype="FLOAT")
    STEMS.mkdir(exist_ok=True)
    sf.write(STEMS / "speech.wav", speech, RATE, subtype="PCM_16")
    sf.write(STEMS / "drums.wav", drums, RATE, subtype="PCM_16")
    print(f"wrote {OUT} ({SECONDS} s, {RATE} Hz, stereo) and its stems in {STEMS}")


def _pcm16(x: np.ndarray) -> np.ndarray:
    """Round to 16-bit steps so the stems stored as PCM_16 sum exactly to the mixture."""
    return (np.round(x * 32768.0) / 32768.0).astype(np.float32)


if __name__ == "__main__":
    main()
