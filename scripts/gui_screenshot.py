"""Regenerate docs/gui.png: the GUI running with audio flowing (file-driven, headless).

    .venv/bin/python scripts/gui_screenshot.py [--out docs/gui.png] [--bundle PATH]

Writes a synthetic demo signal (a gliding harmonic "voice" with syllable envelopes, short
bark-like bursts and a little noise) to a temporary file and runs `livesep gui` on it with
`--screenshot --quit-after`. Without --bundle it uses the torch-free test bundle of
tests/helpers/tiny_bundle.py, whose "dog barking" query is a plain 0.25 gain (no real
separation): the picture shows the application, not a model's quality.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parent.parent
RATE = 16000  # Hz
SECONDS = 6.0  # length of the demo signal (loops)
WAIT_S = 5.5  # seconds of running before the screenshot (fills the 5 s spectrograms)


def demo_signal(rate: int = RATE, seconds: float = SECONDS, seed: int = 0) -> np.ndarray:
    """float32 [T] demo mixture, peak about 0.5."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    f0 = 150 + 40 * np.sin(2 * np.pi * 0.3 * t)  # Hz, slow glide
    phase = 2 * np.pi * np.cumsum(f0) / rate
    syllables = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None) ** 2  # ~6 syllables/s
    voice = sum(np.sin(k * phase) / k for k in range(1, 25)) * syllables
    barks = np.zeros_like(t)
    for start in (0.8, 1.1, 3.2, 3.45, 5.0):
        n = int(0.12 * rate)
        i = int(start * rate)
        env = np.exp(-np.arange(n) / (0.03 * rate))
        tone = np.sin(2 * np.pi * 600 * np.arange(n) / rate) * (1 + rng.standard_normal(n))
        barks[i : i + n] += env * tone
    mix = 0.15 * voice + 0.35 * barks + 0.01 * rng.standard_normal(t.shape)
    return (0.5 * mix / np.max(np.abs(mix))).astype(np.float32)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "docs" / "gui.png"))
    p.add_argument("--bundle", help="bundle directory (default: the tiny test bundle)")
    p.add_argument("--query", default="dog barking")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bundle = args.bundle
        if bundle is None:
            sys.path.insert(0, str(ROOT / "tests"))
            from helpers.tiny_bundle import make_delay_bundle

            bundle = str(make_delay_bundle(tmp).path)
        audio = Path(tmp) / "demo.wav"
        soundfile.write(audio, demo_signal(), RATE)
        cmd = [sys.executable, "-m", "livesep.cli", "gui", "--bundle", bundle]
        cmd += ["--input-file", str(audio), "--query", args.query]
        cmd += ["--settings", str(Path(tmp) / "settings.ini")]
        cmd += ["--screenshot", args.out, "--quit-after", str(WAIT_S)]
        env = dict(os.environ)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        rc = subprocess.call(cmd, env=env)
    if rc == 0:
        shrink_png(args.out)
    return rc


def shrink_png(path: str) -> None:
    """Re-save `path` with a 256-colour palette (~6x smaller; the README needs no more)."""
    from PyQt6.QtCore import Qt
    from PyQt6.QtGui import QImage

    flags = Qt.ImageConversionFlag.ThresholdDither | Qt.ImageConversionFlag.AvoidDither
    img = QImage(path).convertToFormat(QImage.Format.Format_Indexed8, flags)
    if not img.save(path, "PNG", 0):
        raise OSError(f"{path}: could not re-save the screenshot")


if __name__ == "__main__":
    sys.exit(main())
