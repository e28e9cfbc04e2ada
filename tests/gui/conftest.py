"""GUI test setup: headless Qt, a tiny bundle, a noise file, and windows that clean up."""

from __future__ import annotations

import os

# Before any Qt import (pytest-qt creates the QApplication lazily, in the qapp fixture).
os.environ["QT_QPA_PLATFORM"] = "offscreen"

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import soundfile  # noqa: E402
from helpers.tiny_bundle import make_delay_bundle  # noqa: E402

RATE = 16000  # Hz, the tiny bundle's rate (file mode runs without resampling)
NOISE_STD = 0.1  # white-noise amplitude of the test file (RMS, full scale 1.0)


@pytest.fixture
def bundle(tmp_path: Path):
    """The torch-free tiny delay bundle: query gain speech 1, dog barking 0.25, silence 0."""
    return make_delay_bundle(tmp_path)


@pytest.fixture
def noise_file(tmp_path: Path) -> Path:
    """2 s of white noise at RATE (stationary, so RMS ratios measure the engine's gain)."""
    rng = np.random.default_rng(0)
    path = tmp_path / "noise.wav"
    noise = (NOISE_STD * rng.standard_normal(2 * RATE)).astype(np.float32)
    soundfile.write(path, noise, RATE, subtype="FLOAT")
    return path


@pytest.fixture
def settings_path(tmp_path: Path) -> str:
    """A fresh ini file: tests never touch the user's real settings."""
    return str(tmp_path / "settings.ini")


@pytest.fixture
def make_window(qtbot, settings_path):
    """Factory: build_window(LaunchOptions(**kw)) with the temp ini; closed after the test."""
    from livesep.gui.app import LaunchOptions, build_window

    windows = []

    def make(**kw):
        kw.setdefault("settings", settings_path)
        # As LIVESEP_NO_EXPERT does for the commands (tests/conftest.py): the tiny bundle's
        # query gains stand for the model; tests/gui/test_expert.py turns it on.
        kw.setdefault("expert", False)
        window = build_window(LaunchOptions(**kw))
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.controller.shutdown()
