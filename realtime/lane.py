"""One processing path at its own rate, between device-rate blocks in and out.

device block -> fixed-delay resampler -> whole hops -> the path's estimate, mixed with the
input delayed alike (`Mixer`) -> resampler back -> device frames. The path (`ModelPath`,
`ExpertPath`) has `rate` (Hz), `hop` and `latency` (samples at its rate) and
`estimate(x [hop, C]) -> target [B, hop]` with its dry weight in `mix` [hop, 1]. The
lane's signal delay at the device rate (`delay_frames`) is the path's latency plus the two
resamplers' fixed delays. Preallocated; `push` runs on the audio path.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from livesep.realtime.mixer import Mixer, Settings
from livesep.realtime.resample import StreamResampler, grain
from livesep.realtime.stats import Counters

MAX_READ = 8192  # device frames the worker hands the chain at once


class Lane:
    """A path with its resamplers, hop FIFO, dry delay line and mixer.

    Args:
        path: the estimator.
        device_rate: Hz.
        channels: device channels C.
        quality: resampler quality (`realtime.resample.QUALITIES`).
        settings: the mixer's shared controls.
        counters: each hop is counted and timed here.
    """

    def __init__(
        self,
        path: Any,
        device_rate: int,
        channels: int,
        quality: str,
        settings: Settings,
        counters: Counters,
    ) -> None:
        self.path = path
        self.counters = counters
        rate, hop, lat = path.rate, path.hop, path.latency
        self.hop = hop
        self.down = StreamResampler(device_rate, rate, channels, quality)
        self.up = StreamResampler(rate, device_rate, channels, quality)
        self.resample_s = self.down.delay_s + self.up.delay_s  # seconds
        self.algorithmic_s = lat / rate  # seconds
        self.delay_frames = round(lat * device_rate / rate + self.resample_s * device_rate)
        self.grain = grain(device_rate, rate, hop)  # device frames
        fifo = hop + math.ceil(MAX_READ * rate / device_rate) + 64
        self._fifo = np.zeros((fifo, channels), np.float32)  # [n, C] pending hop input
        self._fifo_len = 0
        self._dry_line = np.zeros((lat + hop, channels), np.float32)  # [L + hop, C] a ring
        self._dry_at = 0  # where the next hop of input goes in the ring
        self._dry_d = np.zeros((hop, channels), np.float32)  # [hop, C] dry delayed by L
        self._y = np.zeros((hop, channels), np.float32)  # [hop, C] mixed, path rate
        self.mixer = Mixer(settings, hop, channels)
        self.channels = channels

    def reset(self) -> None:
        """Start over from silence (resamplers, FIFO, dry line, the path's state)."""
        self.down.reset()
        self.up.reset()
        self._fifo_len = 0
        self._dry_line.fill(0.0)
        self._dry_at = 0
        self.path.reset()

    def push(self, block: np.ndarray, emit: Callable[[np.ndarray], None]) -> int:
        """Run the device frames `block` [n, C]; `emit` gets each hop's device-rate output
        [m, C] (a view, valid during the call). Returns the hops run."""
        x = self.down.process(block)  # [m, C] path rate
        m = x.shape[0]
        self._fifo[self._fifo_len : self._fifo_len + m] = x
        self._fifo_len += m
        done = hops = 0
        while self._fifo_len - done >= self.hop:
            t0 = time.perf_counter()
            out = self._hop(self._fifo[done : done + self.hop])  # [k, C] device rate
            if out.shape[0]:
                emit(out)
            self.counters.hops += 1
            self.counters.timing.add(time.perf_counter() - t0)
            done += self.hop
            hops += 1
        if done:
            rest = self._fifo_len - done
            self._fifo[:rest] = self._fifo[done : self._fifo_len]
            self._fifo_len = rest
        return hops

    def outputs_after(self, t: int) -> int:
        """Device frames the lane has released once `t` input frames arrived (from reset)."""
        hops = self.down.outputs_after(t) // self.hop
        return self.up.outputs_after(hops * self.hop)

    def _hop(self, x: np.ndarray) -> np.ndarray:
        """One hop: x [hop, C] path rate -> mixed output [k, C] at the device rate."""
        lat, hop, size = self.path.latency, self.hop, self._dry_line.shape[0]
        target = self.path.estimate(x)  # [B, hop]
        _ring_copy(x, self._dry_line, self._dry_at, into=True)  # x enters the dry ring ...
        _ring_copy(self._dry_d, self._dry_line, (self._dry_at - lat) % size, into=False)
        self._dry_at = (self._dry_at + hop) % size  # ... and leaves L samples later
        t_view = target.T if target.shape[0] == self.channels else target[0][:, None]
        self.mixer.mix(t_view, self.path.mix, self._dry_d, self._y)  # [hop, C]
        return self.up.process(self._y)  # [k, C] device rate


def _ring_copy(block: np.ndarray, ring: np.ndarray, at: int, into: bool) -> None:
    """Copy `block` [n, C] into `ring` [N, C] from index `at` on, wrapping (`into`), or
    fill `block` from there (no temporaries: the two never overlap)."""
    n = block.shape[0]
    first = min(n, ring.shape[0] - at)
    if into:
        ring[at : at + first] = block[:first]
        ring[: n - first] = block[first:]
    else:
        block[:first] = ring[at : at + first]
        block[first:] = ring[: n - first]
