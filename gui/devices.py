"""Audio devices as the pickers show them (sounddevice / PortAudio, no Qt).

PortAudio enumerates devices once, when it initialises; `list_devices(refresh=True)`
re-initialises it so a device plugged in (or a JACK server started) after launch appears.
Refresh only while no stream is open: re-initialising closes every open stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DeviceInfo:
    """One PortAudio device."""

    index: int
    name: str
    hostapi: str
    default_samplerate: float  # Hz
    max_input_channels: int
    max_output_channels: int
    default_input: bool = False
    default_output: bool = False

    @property
    def label(self) -> str:
        """Picker text, e.g. "system (JACK Audio Connection Kit, 48000 Hz, 2 in / 2 out)"."""
        return (
            f"{self.name} ({self.hostapi}, {self.default_samplerate:.0f} Hz, "
            f"{self.max_input_channels} in / {self.max_output_channels} out)"
        )

    @property
    def key(self) -> str:
        """Stable identity across restarts (indices move when devices come and go)."""
        return f"{self.hostapi}: {self.name}"


def _sounddevice() -> Any:
    """The sounddevice module, or None when PortAudio is missing."""
    try:
        import sounddevice
    except OSError:  # the PortAudio library is not installed
        return None
    return sounddevice


def list_devices(refresh: bool = False) -> list[DeviceInfo]:
    """Every PortAudio device; [] when PortAudio is unavailable.

    Args:
        refresh: re-initialise PortAudio first (closes open streams; see module docstring).
    """
    sd = _sounddevice()
    if sd is None:
        return []
    if refresh:
        sd._terminate()  # sounddevice has no public re-scan; this pair is its documented idiom
        sd._initialize()
    hostapis = sd.query_hostapis()
    default_in, default_out = (int(i) for i in sd.default.device)
    devices = []
    for dev in sd.query_devices():
        devices.append(
            DeviceInfo(
                index=int(dev["index"]),
                name=str(dev["name"]),
                hostapi=str(hostapis[dev["hostapi"]]["name"]),
                default_samplerate=float(dev["default_samplerate"]),
                max_input_channels=int(dev["max_input_channels"]),
                max_output_channels=int(dev["max_output_channels"]),
                default_input=int(dev["index"]) == default_in,
                default_output=int(dev["index"]) == default_out,
            )
        )
    return devices


def inputs(devices: list[DeviceInfo]) -> list[DeviceInfo]:
    return [d for d in devices if d.max_input_channels > 0]


def outputs(devices: list[DeviceInfo]) -> list[DeviceInfo]:
    return [d for d in devices if d.max_output_channels > 0]


def find_device(devices: list[DeviceInfo], spec: str | int | None) -> DeviceInfo | None:
    """The device named by `spec`: an index, a `key`, an exact name or a name substring.

    Returns None when `spec` is None/blank or matches nothing.
    """
    if spec is None or str(spec).strip() == "":
        return None
    text = str(spec).strip()
    if text.isdigit():
        return next((d for d in devices if d.index == int(text)), None)
    for match in (
        lambda d: d.key == text,
        lambda d: d.name == text,
        lambda d: text.lower() in d.name.lower(),
    ):
        found = [d for d in devices if match(d)]
        if found:
            return found[0]
    return None
