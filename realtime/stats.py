"""Engine statistics: counters the audio threads bump and the snapshot `Engine.stats()`
returns (`snapshot`, assembled from the parts)."""

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


def snapshot(
    counters: Counters,
    host: Any,
    lane: Any,
    device_latency: tuple[float, float],
    levels: tuple[np.ndarray, np.ndarray],
    **controls: Any,
) -> EngineStats:
    """The `EngineStats` of the parts: the counters, the host's plan and guards, the lane
    that plays, PortAudio's (input, output) latency in seconds, the latest (input, output)
    samples for the peaks, and the controls' fields as given (provider, query, ...)."""
    c = counters
    med, p99 = c.timing.quantiles()
    hop_s = lane.hop / lane.path.rate  # seconds per hop of the playing lane
    lat = max(host.latency_frames, 0)
    algo_ms = 1000.0 * lane.algorithmic_s
    res_ms = 1000.0 * lane.resample_s
    buf_ms = 1000.0 * (lat - lane.delay_frames if lat else 0) / host.device_rate
    dev_ms = 1000.0 * sum(device_latency)
    limiter, guard, conceal = host.limiter, host.in_guard, host.conceal
    return EngineStats(
        device_rate=host.device_rate,
        period_frames=host.period,
        callbacks=c.callbacks,
        input_underflows=c.flags[0],
        input_overflows=c.flags[1],
        output_underflows=c.flags[2],
        output_overflows=c.flags[3],
        fallback_frames=conceal.frames,
        late_hops=c.late_hops,
        resyncs=max(c.resyncs, 0),
        hops=c.hops,
        rtf_median=med / hop_s,
        rtf_p99=p99 / hop_s,
        algorithmic_ms=algo_ms,
        buffering_ms=buf_ms,
        device_latency_ms=dev_ms,
        latency_ms=(algo_ms + res_ms + buf_ms + dev_ms) if host.latency_frames >= 0 else 0.0,
        input_peak_dbfs=peak_dbfs(levels[0]),
        output_peak_dbfs=peak_dbfs(levels[1]),
        input_nonfinite=guard.nonfinite,
        input_clipped=guard.clipped,
        output_nonfinite=limiter.nonfinite,
        limited_frames=limiter.limited_frames,
        resample_ms=res_ms,
        fallback_runs=conceal.runs,
        skipped_frames=c.skipped,
        path=lane.path.name,
        **controls,
    )


def peak_dbfs(block: np.ndarray) -> float:
    """Peak level of `block` in dBFS (1.0 = 0 dBFS)."""
    peak = float(np.max(np.abs(block))) if block.size else 0.0
    return 20.0 * math.log10(peak) if peak > 1e-6 else SILENCE_DBFS
