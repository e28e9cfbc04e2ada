"""Streaming sample-rate conversion between the device and the model (soxr).

soxr's streaming resampler removes its own filter delay (an impulse at input time t comes
out at t * out_rate / in_rate) but withholds samples and releases them in bursts, so the
withheld amount is buffering the engine must plan for, not signal delay.
`worst_shortfall` measures it for a given period by simulating the exact block pattern.
Measured (1 s of noise, worst withheld output samples; see benchmarks/RESULTS.md):
48k->32k / 32k->48k: QQ 1 / 3, LQ 320 / 480, MQ 602 / 900, HQ 585 / 862.
"""

from __future__ import annotations

import math

import numpy as np
import soxr

from livesep.errors import LivesepError

QUALITIES = ("QQ", "LQ", "MQ", "HQ", "VHQ")


class StreamResampler:
    """Converts float32[n, channels] blocks from `in_rate` to `out_rate`, continuously.

    With equal rates it is the identity (returns its input, no copy).
    """

    def __init__(self, in_rate: int, out_rate: int, channels: int, quality: str = "LQ") -> None:
        if quality not in QUALITIES:
            raise LivesepError(f"resample quality {quality!r} unknown (one of {QUALITIES})")
        self.in_rate = int(in_rate)
        self.out_rate = int(out_rate)
        self.channels = int(channels)
        self.quality = quality
        self.identity = self.in_rate == self.out_rate
        self._stream: soxr.ResampleStream | None = None
        self.reset()

    def reset(self) -> None:
        """Forget all history (a fresh resampler: the next output starts a new timeline)."""
        if not self.identity:
            self._stream = soxr.ResampleStream(
                self.in_rate, self.out_rate, self.channels, dtype="float32", quality=self.quality
            )

    def process(self, block: np.ndarray) -> np.ndarray:
        """Resample `block[n, channels]` -> float32[m, channels] (m varies from call to call)."""
        if self._stream is None:
            return block
        return self._stream.resample_chunk(block)

    def ratio(self) -> float:
        return self.out_rate / self.in_rate


def worst_shortfall(
    device_rate: int,
    model_rate: int,
    period: int,
    hop: int,
    quality: str,
    in_callback: bool = False,
    seconds: float = 2.0,
) -> int:
    """Device frames the output ring must hold ahead so the chain never runs dry.

    Simulates the engine's path (device blocks of `period` -> resample -> whole hops of
    `hop` model samples -> resample back) with instant processing and returns the largest
    shortfall of produced vs consumed output frames seen at a callback, i.e. the minimum
    prefill for a worker that processes everything available before the next callback.

    Args:
        device_rate, model_rate: Hz.
        period: device frames per callback.
        hop: model samples per step-graph call.
        quality: soxr quality.
        in_callback: hops run inside the callback before it reads the output (else on a
            worker after the callback returned).
        seconds: length of the simulation.
    """
    down = StreamResampler(device_rate, model_rate, 1, quality)
    up = StreamResampler(model_rate, device_rate, 1, quality)
    noise = np.random.default_rng(0).standard_normal((period, 1)).astype(np.float32) * 0.1
    pending = 0  # model samples waiting for a whole hop
    produced = 0  # device frames out of the chain
    worst = 0
    n_blocks = max(1, math.ceil(seconds * device_rate / period))
    for k in range(n_blocks):
        # The callback for block k consumes frames [k*period, (k+1)*period) of output
        # (prefill included) after the chain has processed blocks 0..k-1.
        if not in_callback:
            worst = max(worst, (k + 1) * period - produced)
        pending += down.process(noise).shape[0]
        hops, pending = divmod(pending, hop)
        if hops:
            produced += up.process(np.zeros((hops * hop, 1), np.float32)).shape[0]
        if in_callback:
            worst = max(worst, (k + 1) * period - produced)
    return worst
