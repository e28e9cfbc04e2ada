"""Where the engine's audio goes: the JACK client name, PipeWire's JACK, mono fan-out, files.

- Under JACK (and PipeWire's JACK) the engine is a client named `CLIENT_NAME` ("livesep")
  with ports in_1.. and out_1.. (PortAudio's names), set before PortAudio initialises.
- `use_pipewire_jack()` loads PipeWire's libjack before PortAudio, so the engine becomes a
  node in the PipeWire graph (one clock: no bridge between two servers).
- `fan_out` sends a mono engine output to every channel of a stereo device.
- `FileFeed` plays a file in real time as the engine's input (an output-only stream).
"""

from __future__ import annotations

import ctypes
import glob
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from livesep.errors import AudioError

CLIENT_NAME = "livesep"
# Where Debian/Ubuntu/Fedora/Arch put PipeWire's libjack (pw-jack's LD_LIBRARY_PATH).
PIPEWIRE_JACK_GLOBS = (
    "/usr/lib/*/pipewire-0.3/jack/libjack.so.0",
    "/usr/lib*/pipewire-0.3/jack/libjack.so.0",
)

_name_buffer: Any = None  # PortAudio keeps the pointer: the name must outlive it
_pipewire_jack: Any = None
_client_name = CLIENT_NAME


def use_client_name(name: str) -> None:
    """The JACK client name to use when PortAudio first loads (before any stream)."""
    global _client_name
    _client_name = name


def set_client_name(sd: Any, name: str | None = None) -> None:
    """Name the process's JACK client (PortAudio's `PaJack_SetClientName`) and re-initialise.

    Call before any stream is open; PortAudio builds without JACK are left as they are.
    """
    global _name_buffer
    try:
        pa = ctypes.CDLL(sd._libname)
        setter = pa.PaJack_SetClientName
    except (OSError, AttributeError):
        return
    _name_buffer = ctypes.create_string_buffer((name or _client_name).encode())
    setter(_name_buffer)
    sd._terminate()
    sd._initialize()


def pipewire_jack_library() -> str | None:
    """Path of PipeWire's libjack.so.0, or None when pipewire-jack is not installed."""
    for pattern in PIPEWIRE_JACK_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def use_pipewire_jack() -> None:
    """Make PortAudio's JACK host API talk to PipeWire (as `pw-jack` does).

    Raises:
        AudioError: pipewire-jack is missing, or PortAudio was already loaded.
    """
    global _pipewire_jack
    if _pipewire_jack is not None:
        return
    if "sounddevice" in sys.modules:
        raise AudioError("PipeWire's JACK must be loaded before PortAudio (sounddevice)")
    path = pipewire_jack_library()
    if path is None:
        raise AudioError("PipeWire's JACK library not found (apt-get install pipewire-jack)")
    # PortAudio links libjack.so.0: the loader reuses this one, already loaded, by soname.
    _pipewire_jack = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)


def fan_out(callback: Callable[..., None], channels: int) -> Callable[..., None]:
    """A duplex callback for a device with more output channels than the engine has.

    The engine writes its `channels` columns; the first is copied to every extra column
    (mono to both sides of a stereo output).
    """

    def wrapped(indata: np.ndarray, outdata: np.ndarray, frames: int, t: Any, st: Any) -> None:
        callback(indata, outdata[:, :channels], frames, t, st)
        outdata[:, channels:] = outdata[:, :1]

    return wrapped


class FileFeed:
    """Audio float32[T, C] handed out block by block in real time, then zeros.

    Args:
        audio: the file's samples at the device rate.
        max_frames: the longest block asked for.
    """

    def __init__(self, audio: np.ndarray, max_frames: int = 8192) -> None:
        self.audio = np.ascontiguousarray(audio, dtype=np.float32)
        self.pos = 0
        self._block = np.zeros((max_frames, self.audio.shape[1]), np.float32)  # [n, C]

    @property
    def done(self) -> bool:
        return self.pos >= self.audio.shape[0]

    def read(self, frames: int) -> np.ndarray:
        """The next `frames` frames [frames, C] (a view of a preallocated block)."""
        block = self._block[:frames]
        n = max(0, min(frames, self.audio.shape[0] - self.pos))
        block[:n] = self.audio[self.pos : self.pos + n]
        block[n:] = 0.0
        self.pos += frames
        return block

    def output_callback(self, callback: Callable[..., None]) -> Callable[..., None]:
        """An output-only stream callback that feeds this file to duplex `callback`."""

        def wrapped(outdata: np.ndarray, frames: int, t: Any, st: Any) -> None:
            callback(self.read(frames), outdata, frames, t, st)

        return wrapped
