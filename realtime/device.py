"""The device side's lifecycle: the PortAudio stream, the worker thread, and file mode.

`DeviceStream` opens the duplex stream on the host's callback, runs the host's worker loop
on its own thread (worker="thread"), asks CPython to hand the GIL over often while
streaming, and drives the same callback + worker code from an array when no device is
used (`process`). The device latency PortAudio reports is kept after the stream closes.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import numpy as np

from livesep.errors import LivesepError
from livesep.realtime.host import DeviceHost

# While streaming, a thread holding the GIL must hand it over this often: the callback needs
# it within a fraction of a period (CPython's default is 5 ms, a whole 256-frame period).
SWITCH_INTERVAL_S = 0.0005


class DeviceStream:
    """Starts and stops `host` on a device, or runs it over arrays.

    Args:
        host: the callback, rings and worker step.
        device_rate: Hz.
        channels: C.
        inline: hops run in the callback (no worker thread).
    """

    def __init__(self, host: DeviceHost, device_rate: int, channels: int, inline: bool) -> None:
        self.host, self.device_rate, self.channels, self.inline = (
            host,
            device_rate,
            channels,
            inline,
        )
        self._stream: Any = None
        self._thread: threading.Thread | None = None
        self._stop_flag = False
        self._old_switch = sys.getswitchinterval()
        self._latency: tuple[float, float] = (0.0, 0.0)  # seconds, as PortAudio reported

    @property
    def running(self) -> bool:
        return self._stream is not None

    def start(
        self,
        input_device: int | str | None,
        output_device: int | str | None,
        blocksize: int,
        output_channels: int | None,
        feed: Any,
    ) -> None:
        """Open the stream (`realtime.stream.open_engine_stream`) and start processing."""
        from livesep.realtime.stream import open_engine_stream

        if self._stream is not None:
            raise LivesepError("engine already started")
        stream = open_engine_stream(
            self.host.callback,
            self.device_rate,
            self.channels,
            input_device,
            output_device,
            blocksize,
            output_channels,
            feed,
        )
        self._stop_flag = False
        if not self.inline:
            self._thread = threading.Thread(
                target=self.host.worker_loop, args=(lambda: self._stop_flag,), name="livesep-worker"
            )
            self._thread.start()
        self._stream = stream
        self._old_switch = sys.getswitchinterval()
        sys.setswitchinterval(min(self._old_switch, SWITCH_INTERVAL_S))
        stream.start()

    def stop(self) -> None:
        """Stop and close the stream and the worker (idempotent)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()
            self._keep_latency(stream)
            stream.close()
            sys.setswitchinterval(self._old_switch)
        self._stop_flag = True
        if self._thread is not None:
            os.write(self.host.wake_w, b"\0")
            self._thread.join()
            self._thread = None

    def process(self, audio: np.ndarray, block: int) -> np.ndarray:
        """Run `audio` float32[T, C] through the callback (and worker) block by block.

        Returns:
            float32[T, C]: the stream output, delayed by the host's `latency_frames`.
        """
        if self.running:
            raise LivesepError("engine.process needs the device stream stopped")
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim != 2 or audio.shape[1] != self.channels:
            raise LivesepError(f"audio must be [T, {self.channels}], got {audio.shape}")
        total = audio.shape[0]
        out = np.zeros_like(audio)
        inp = np.zeros((block, self.channels), np.float32)
        outb = np.zeros((block, self.channels), np.float32)
        for start in range(0, total, block):
            n = min(block, total - start)
            inp[:n] = audio[start : start + n]
            inp[n:] = 0.0  # the last block is padded to keep the period constant
            self.host.callback(inp, outb, block, None, None)
            if not self.inline:
                while self.host.work():
                    pass
            out[start : start + n] = outb[:n]
        return out

    def _keep_latency(self, stream: Any) -> None:
        lat = stream.latency
        self._latency = (lat[0], lat[1]) if isinstance(lat, tuple) else (0.0, lat)

    def latencies(self) -> tuple[float, float]:
        """(input, output) device latency in seconds as PortAudio reports it."""
        if self._stream is not None:
            self._keep_latency(self._stream)
        d_in, d_out = float(self._latency[0]), float(self._latency[1])
        # PipeWire's JACK reports nonsense (hours): an unknown latency counts as 0
        return (d_in if 0.0 <= d_in < 1.0 else 0.0), (d_out if 0.0 <= d_out < 1.0 else 0.0)
