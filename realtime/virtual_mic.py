"""A PipeWire virtual microphone fed by the engine (`livesep live --virtual-mic [NAME]`).

PipeWire's null-audio-sink with media.class "Audio/Source/Virtual" (PipeWire's class for
a virtual source; with plain "Audio/Source" the null sink has no input ports to feed) is a
source node that browsers, OBS and call apps list as a microphone; what is written to its
input ports is what they record. The engine joins the same graph through PipeWire's JACK
library (one clock, no bridge) as the client "NAME-engine", and PortAudio links its
outputs to the node's inputs. The node lives as long as the `pw-cli` process that created
it, which is stopped by its PID.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from livesep.errors import AudioError
from livesep.realtime.jack import stop_process

DEFAULT_NAME = "livesep"
START_TIMEOUT_S = 5.0


def node_props(name: str, rate: int, period: int) -> str:
    """The SPA-JSON properties of the source node."""
    return (
        "{ factory.name=support.null-audio-sink "
        f'node.name="{name}" node.description="{name}" '
        "media.class=Audio/Source/Virtual audio.position=[ FL FR ] "
        f"audio.rate={rate} node.latency={period}/{rate} object.linger=false }}"
    )


def check_name(name: str) -> str:
    """The node name, or `AudioError` for one PipeWire or the shell would misread."""
    if not name or not all(c.isalnum() or c in "-_." for c in name) or len(name) > 64:
        raise AudioError(f"virtual microphone name {name!r}: use 1-64 letters, digits, - _ .")
    return name


class VirtualMic:
    """The source node NAME while the context is open.

    Args:
        name: node.name (what apps show and `pw-record --target` takes).
        rate: Hz; the graph's rate (PipeWire's default 48000).
        period: frames per quantum asked for (node.latency; PipeWire's default is 1024).
    """

    def __init__(self, name: str = DEFAULT_NAME, rate: int = 48000, period: int = 256) -> None:
        self.name = check_name(name)
        self.rate = rate
        self.period = period
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> VirtualMic:
        if shutil.which("pw-cli") is None:
            raise AudioError("pw-cli not found (apt-get install pipewire-bin)")
        # The engine's own node asks for the same quantum (pipewire-jack reads this).
        os.environ.setdefault("PIPEWIRE_LATENCY", f"{self.period}/{self.rate}")
        self.proc = subprocess.Popen(
            ["pw-cli"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdin is not None
        self.proc.stdin.write(
            f"create-node adapter {node_props(self.name, self.rate, self.period)}\n"
        )
        self.proc.stdin.flush()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AudioError(
                    f"could not create the PipeWire node {self.name!r} (is PipeWire running?)"
                )
            time.sleep(0.1)
        return self

    def exists(self) -> bool:
        """True once a source node with this name is in the graph."""
        result = subprocess.run(["pw-cli", "ls", "Node"], capture_output=True, text=True)
        blocks = result.stdout.split("\tid ")
        return any(
            f'node.name = "{self.name}"' in b and 'media.class = "Audio/Source/Virtual"' in b
            for b in blocks
        )

    def stop(self) -> None:
        """Remove the node (by stopping its pw-cli, by PID)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        stop_process(proc)
        if proc.stdin is not None:
            proc.stdin.close()

    def __enter__(self) -> VirtualMic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run(
    args: argparse.Namespace,
    make_engine: Callable[[argparse.Namespace, int], Any],
    wait: Callable[[Any, float | None], None],
) -> Any:
    """`livesep live --virtual-mic`: the engine's output as the source node `args.virtual_mic`.

    The input is `--input` (a device) or `--input-file`, played in real time on PipeWire's
    clock. Returns the engine's final statistics.
    """
    from livesep.realtime import routing

    name = check_name(args.virtual_mic)
    rate = int(args.device_rate or 48000)  # Hz, PipeWire's default graph rate
    period = int(args.blocksize or 256)  # frames per quantum asked for
    routing.use_pipewire_jack()
    routing.use_client_name(f"{name}-engine")
    feed, duration = None, args.duration
    if args.input_file:
        feed = routing.FileFeed(_file_at(args.input_file, rate))
        args.channels = feed.audio.shape[1]
        if duration is None:
            duration = feed.audio.shape[0] / rate + 1.0  # the file, then the latency's tail
    with VirtualMic(name, rate, period):
        from livesep.realtime.stream import sounddevice

        sd = sounddevice()  # PortAudio starts now and lists the node as a device
        if feed is None:
            _check_input(sd, args.input, name)
        engine = make_engine(args, rate)
        try:
            engine.start(args.input, name, args.blocksize, output_channels=2, feed=feed)
            wait(engine, duration)
            return engine.stats()
        finally:
            engine.close()


def _file_at(path: str, rate: int) -> np.ndarray:
    """The file's audio float32[T, C] (C <= 2, more are averaged) at `rate`."""
    from livesep.audio import read_audio, resample

    audio_cf, file_rate = read_audio(path)  # [C, T], validated
    if audio_cf.shape[0] > 2:
        audio_cf = audio_cf.mean(axis=0, keepdims=True)  # [1, T]
    return np.ascontiguousarray(resample(audio_cf, file_rate, rate).T)  # [T', C]


def _check_input(sd: Any, spec: str | None, name: str) -> None:
    """Refuse an input that is the virtual microphone itself (a feedback loop)."""
    from livesep.realtime.stream import resolve_device

    index = resolve_device(spec, "input")
    if index is None:
        index = sd.default.device[0]
    if index is None or index < 0:
        raise AudioError("no input device: give --input (see `pw-jack livesep devices`)")
    if sd.query_devices(index)["name"] == name:
        raise AudioError(f"the input would be the virtual microphone {name!r}: give --input")
