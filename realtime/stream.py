"""Device I/O through PortAudio (sounddevice): device lookup and the duplex stream.

sounddevice is imported lazily so that file-driven use works without libportaudio.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from livesep.errors import AudioError

_named = False  # the JACK client name is set once, before the first stream


def sounddevice() -> Any:
    """The sounddevice module, or `AudioError` when PortAudio is missing.

    The first call names the process's JACK client "livesep" (`realtime.routing`).
    """
    global _named
    try:
        import sounddevice as sd
    except OSError as exc:  # sounddevice raises OSError when libportaudio is not installed
        raise AudioError(f"PortAudio not available ({exc}); install libportaudio2") from None
    if not _named:
        from livesep.realtime.routing import set_client_name

        _named = True
        set_client_name(sd)
    return sd


def refresh() -> None:
    """Re-scan devices (PortAudio lists devices once, at initialisation)."""
    sd = sounddevice()
    sd._terminate()
    sd._initialize()


def resolve_device(spec: int | str | None, kind: str) -> int | None:
    """Device index for `spec` (index, exact name or name substring); None = the default.

    Args:
        spec: what the user gave.
        kind: "input" or "output".

    Raises:
        AudioError: no device or several devices match, or it has no channels of `kind`.
    """
    if spec is None:
        return None
    sd = sounddevice()
    devices = list(sd.query_devices())
    key = f"max_{kind}_channels"
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        index = int(spec)
        if not 0 <= index < len(devices):
            raise AudioError(f"{kind} device {index} does not exist ({len(devices)} devices)")
    else:
        matches = [i for i, d in enumerate(devices) if d["name"] == spec]
        if not matches:
            matches = [i for i, d in enumerate(devices) if spec.lower() in d["name"].lower()]
        if len(matches) != 1:
            found = "no" if not matches else f"{len(matches)}"
            raise AudioError(f"{kind} device {spec!r}: {found} devices match (see livesep devices)")
        index = matches[0]
    if devices[index][key] < 1:
        raise AudioError(f"device {index} ({devices[index]['name']}) has no {kind} channels")
    return index


def describe_devices() -> str:
    """One line per device and host API (for `livesep devices`)."""
    sd = sounddevice()
    apis = sd.query_hostapis()
    lines = []
    for i, d in enumerate(sd.query_devices()):
        api = apis[d["hostapi"]]["name"]
        lines.append(
            f"{i:>3}  {d['name']}  [{api}]  in {d['max_input_channels']}, "
            f"out {d['max_output_channels']}, {d['default_samplerate']:.0f} Hz"
        )
    if not lines:
        lines.append("no audio devices (start a JACK server, e.g. `jackd -d dummy -r 48000`)")
    return "\n".join(lines)


def open_duplex(
    callback: Callable[..., None],
    samplerate: int,
    channels: int,
    input_device: int | str | None = None,
    output_device: int | str | None = None,
    blocksize: int = 0,
) -> Any:
    """An unstarted float32 duplex `sounddevice.Stream` calling `callback`.

    Raises:
        AudioError: the devices cannot be opened at this rate / channel count.
    """
    sd = sounddevice()
    device = (resolve_device(input_device, "input"), resolve_device(output_device, "output"))
    try:
        return sd.Stream(
            samplerate=samplerate,
            blocksize=blocksize,
            device=device,
            channels=channels,
            dtype="float32",
            latency="low",
            callback=callback,
        )
    except sd.PortAudioError as exc:
        raise AudioError(
            f"cannot open audio devices {device} at {samplerate} Hz, {channels} ch: {exc}"
        ) from None


def open_engine_stream(
    callback: Callable[..., None],
    samplerate: int,
    channels: int,
    input_device: int | str | None = None,
    output_device: int | str | None = None,
    blocksize: int = 0,
    output_channels: int | None = None,
    feed: Any = None,
) -> Any:
    """The engine's unstarted stream: duplex, or output-only fed by `feed` (a `FileFeed`).

    Args:
        callback: the engine's duplex callback (input `channels`, output `channels`).
        output_channels: device output channels (default `channels`); with more, the
            engine's first channel is copied to the extra ones (mono to stereo).
        feed: play this instead of a device input (`realtime.routing.FileFeed`).

    Raises:
        AudioError: the devices cannot be opened at this rate / channel count.
    """
    from livesep.realtime.routing import fan_out

    out_ch = output_channels or channels
    if out_ch < channels:
        raise AudioError(f"{out_ch} output channels for a {channels}-channel engine")
    cb = fan_out(callback, channels) if out_ch > channels else callback
    if feed is None and out_ch == channels:
        return open_duplex(cb, samplerate, channels, input_device, output_device, blocksize)
    sd = sounddevice()
    out_dev = resolve_device(output_device, "output")
    try:
        if feed is not None:
            return sd.OutputStream(
                samplerate=samplerate,
                blocksize=blocksize,
                device=out_dev,
                channels=out_ch,
                dtype="float32",
                latency="low",
                callback=feed.output_callback(cb),
            )
        return sd.Stream(
            samplerate=samplerate,
            blocksize=blocksize,
            device=(resolve_device(input_device, "input"), out_dev),
            channels=(channels, out_ch),
            dtype="float32",
            latency="low",
            callback=cb,
        )
    except sd.PortAudioError as exc:
        raise AudioError(
            f"cannot open audio output {out_dev} at {samplerate} Hz, {out_ch} ch: {exc}"
        ) from None
