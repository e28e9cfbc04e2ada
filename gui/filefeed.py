"""File-driven mode: play an audio file through an engine in real time, looping.

For demos, screenshots and tests without an audio device. A background thread hands the
engine one block at a time through `Engine.process` (the same callback + worker code a
device stream runs) and sleeps until the block's deadline, so meters, spectrograms and
stats move as they would live. The processed audio is only monitored, not played.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

BLOCK_SECONDS = 0.010  # seconds per block handed to the engine (one 10 ms period)
MAX_LAG_SECONDS = 0.5  # further behind than this, restart the clock instead of bursting


def read_audio_file(path: str | Path) -> tuple[np.ndarray, int]:
    """Read a sound file as mono float32 [T] and its sample rate in Hz.

    The same validation as every other input (`livesep.audio.read_audio`).

    Raises:
        AudioError: the file is missing, unreadable, empty, non-finite or at a bad rate.
    """
    from livesep.audio import read_audio  # lazily: only file-driven mode needs soundfile

    data, rate = read_audio(path)  # [C, T]
    return np.ascontiguousarray(data.mean(axis=0), dtype=np.float32), int(rate)  # [T]


class FileFeeder:
    """Loops `audio` through `engine.process` at real-time pace on a daemon thread."""

    def __init__(self, engine: Any, audio: np.ndarray, sample_rate: int) -> None:
        self.engine = engine
        self.audio = np.asarray(audio, np.float32).reshape(-1, 1)  # [T, 1]
        self.sample_rate = sample_rate
        self.block = max(1, int(round(BLOCK_SECONDS * sample_rate)))  # frames per block
        self.frames_fed = 0
        self.error: str | None = None  # set when the thread died on an exception
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="livesep-file-feed", daemon=True)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _next_block(self, pos: int) -> np.ndarray:
        """`block` frames [block, 1] starting at `pos`, wrapping around the file's end."""
        idx = (pos + np.arange(self.block)) % self.audio.shape[0]
        return self.audio[idx]

    def _run(self) -> None:
        period = self.block / self.sample_rate  # seconds
        deadline = time.perf_counter()
        try:
            while not self._stop.is_set():
                # block=: the engine pads its blocks to this size; ours are exact.
                self.engine.process(self._next_block(self.frames_fed), block=self.block)
                self.frames_fed += self.block
                deadline += period
                lag = time.perf_counter() - deadline
                if lag > MAX_LAG_SECONDS:
                    deadline = time.perf_counter()
                elif lag < 0:
                    self._stop.wait(-lag)
        except Exception as exc:  # reported to the GUI by the view model's poll
            self.error = f"file playback stopped: {type(exc).__name__}: {exc}"
