"""Engine statistics: counters the audio threads bump and the snapshot `Engine.stats()` returns."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

RTF_WINDOW = 1000  # hops kept for the RTF median / p99
SILENCE_DBFS = -120.0  # level reported for digital silence


@dataclass(frozen=True)
class EngineStats:
    """A snapshot of the engine's state; see docs/CONTRACTS.md "Engine"."""

    provider: str
    device_rate: int  # Hz
    model_rate: int  # Hz
    period_frames: int  # device frames per callback (0 before the first callback)
    callbacks: int
    input_underflows: int  # PortAudio callback flags
    input_overflows: int
    output_underflows: int
    output_overflows: int
    fallback_frames: int  # output frames concealed (processing late; `realtime.conceal`)
    late_hops: int  # hops whose output arrived (partly) after its play time
    resyncs: int  # times the worker dropped input to return to the steady latency
    hops: int
    rtf_median: float  # processing time / audio time per hop
    rtf_p99: float
    algorithmic_ms: float
    buffering_ms: float
    device_latency_ms: float  # input + output latency reported by PortAudio
    latency_ms: float  # end to end: device + algorithmic + resampling + buffering
    input_peak_dbfs: float  # last 100 ms
    output_peak_dbfs: float
    query: str | None
    query_warning: str | None  # "warning: the model does not know ..." lines, or None
    mode: str
    wet: float
    gain_db: float
    bypass: bool
    error: str | None  # last error of a background task (query encoding), or None
    input_nonfinite: int = 0  # NaN/Inf input samples replaced with 0 (`realtime.guard`)
    input_clipped: int = 0  # input samples beyond +-4 (+12 dBFS) clipped
    output_nonfinite: int = 0  # non-finite output samples replaced with 0
    limited_frames: int = 0  # output frames the 0 dBFS limiter turned down
    resample_ms: float = 0.0  # the two fixed resampler delays (device <-> model rate)
    fallback_runs: int = 0  # separate runs of concealed output (each late hop or stall)
    skipped_frames: int = 0  # input frames dropped by resyncs (their output was late)
    path: str = "model"  # the lane that plays: "model" or "expert" (the speech expert)
    expert: str | None = None  # the speech expert when it is on and installed, else None
    expert_note: str | None = None  # why it is not: "--no-expert", or what the extra adds

    def to_dict(self) -> dict[str, object]:
        from dataclasses import asdict

        return asdict(self)


class Counters:
    """What the audio threads count: plain ints, each bumped by one thread (no locks)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.flags = [0, 0, 0, 0]  # input under/overflow, output under/overflow
        self.callbacks = 0
        self.hops = 0
        self.late_hops = 0
        self.resyncs = -1  # the first plan is not a resync
        self.skipped = 0  # input frames dropped by resyncs
        self.timing = TimingWindow()  # seconds per hop

    def count_flags(self, status: Any) -> None:
        """Count a PortAudio callback's status flags."""
        flags = self.flags
        flags[0] += bool(status.input_underflow)
        flags[1] += bool(status.input_overflow)
        flags[2] += bool(status.output_underflow)
        flags[3] += bool(status.output_overflow)


class TimingWindow:
    """The last `RTF_WINDOW` processing times, preallocated; written by one thread."""

    def __init__(self, size: int = RTF_WINDOW) -> None:
        self.values = np.zeros(size, dtype=np.float64)  # seconds
        self.count = 0

    def add(self, seconds: float) -> None:
        self.values[self.count % self.values.shape[0]] = seconds
        self.count += 1

    def quantiles(self) -> tuple[float, float]:
        """(median, p99) of the stored times in seconds; (0, 0) when empty."""
        n = min(self.count, self.values.shape[0])
        if n == 0:
            return 0.0, 0.0
        window = self.values[:n].copy()
        return float(np.median(window)), float(np.percentile(window, 99))


def peak_dbfs(block: np.ndarray) -> float:
    """Peak level of `block` in dBFS (1.0 = 0 dBFS)."""
    peak = float(np.max(np.abs(block))) if block.size else 0.0
    return 20.0 * math.log10(peak) if peak > 1e-6 else SILENCE_DBFS
