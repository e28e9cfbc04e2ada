"""Checks shared by the GUI tests: image content and waiting for audio to flow."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def image_gray(path: str | Path) -> np.ndarray:
    """A PNG as a uint8 grayscale array [H, W] (read with Qt: no extra dependency)."""
    from PyQt6.QtGui import QImage

    img = QImage(str(path))
    assert not img.isNull(), f"{path}: not a readable image"
    img = img.convertToFormat(QImage.Format.Format_Grayscale8)
    ptr = img.constBits()
    assert ptr is not None
    ptr.setsize(img.sizeInBytes())
    rows = np.frombuffer(ptr, np.uint8).reshape(img.height(), img.bytesPerLine())
    return rows[:, : img.width()].copy()


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def wait_audio(qtbot, controller, seconds: float, timeout_ms: int = 10000) -> None:
    """Block (processing Qt events) until `seconds` more of audio went through the engine."""
    engine = controller.engine
    start = engine.monitor_position
    need = int(seconds * controller.sample_rate)
    qtbot.waitUntil(lambda: engine.monitor_position - start >= need, timeout=timeout_ms)


def output_ratio(controller, seconds: float = 0.5) -> float:
    """RMS(out) / RMS(in) over the last `seconds` of the monitor taps."""
    inp, out = controller.engine.monitor(int(seconds * controller.sample_rate))
    return rms(out) / rms(inp)
