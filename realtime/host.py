"""The device host: the audio callback, the rings between it and the worker, the steady
timeline (plan, resync) and the worker thread.

Ring positions are absolute device-sample counters and the callback advances the input
writer and the output reader together, so input frame p and output frame p belong to the
same callback. The chain's output j goes to position j + P (`buffer_frames`) and is its
input j - D (`Chain.delay_frames`), so every output frame leaves exactly P + D frames after
its input (`latency_frames`), or not at all: a late frame is dropped by the ring (counted)
and the callback conceals it (`realtime.conceal`). A backlog longer than the latency means
the worker stalled: whole pattern grains of input whose output is already late are
dropped and the chain runs on, on the same timeline (a resync: no silence is written).

P is planned when the first callback reveals the device period: the exact largest
shortfall of the chain's lanes for that period (`Lane.outputs_after`, which already gives
a worker thread one period to run in) plus, for a worker thread, one more period of
margin, plus `safety_frames`.
"""

from __future__ import annotations

import math
import os
import select
from collections.abc import Callable
from typing import Any

import numpy as np

from livesep.realtime.chain import Chain
from livesep.realtime.conceal import Concealer
from livesep.realtime.guard import InputGuard, OutputLimiter
from livesep.realtime.lane import MAX_READ
from livesep.realtime.ring import Ring, TimedRing
from livesep.realtime.stats import Counters

RING_SECONDS = 2.0  # capacity of the input/output rings and monitor taps
IDLE_WAIT_S = 0.05  # worker wake-up when no callback arrives (stopping, file mode)


def shortfall(chain: Chain, period: int, in_callback: bool) -> int:
    """Device frames the output ring must hold ahead so no lane of `chain` runs dry.

    Every lane releases a deterministic number of frames after each block; during a lane
    switch both must have produced a frame before it is written, so the plan takes the
    smaller of the lanes' counts over one cycle of the block pattern. A worker thread
    processes block k between callbacks k and k + 1; `in_callback`: before callback k reads.
    """
    lanes = list(chain.lanes.values())
    cycle = math.lcm(period, chain.grain)  # the pattern's repeat
    worst = 0
    for k in range(cycle // period + 1):
        done = (k + 1 if in_callback else k) * period  # input frames processed
        produced = min(lane.outputs_after(done) for lane in lanes)
        worst = max(worst, (k + 1) * period - produced)
    return worst


class DeviceHost:
    """Moves device audio between the callback and the chain on a steady timeline.

    Args:
        chain: the processing chain (writes `out_ring`).
        out_ring: the output ring the chain writes.
        counters: the engine's counters.
        device_rate: Hz.
        channels: C.
        concealer: fills output frames the chain delivered too late.
        inline: hops run inside the callback (else on the worker thread).
        safety_frames: extra output buffering in device frames.
        before_work: called on the worker before each batch of input (control messages).
    """

    def __init__(
        self,
        chain: Chain,
        out_ring: TimedRing,
        counters: Counters,
        device_rate: int,
        channels: int,
        concealer: Concealer,
        inline: bool,
        safety_frames: int,
        before_work: Callable[[], None],
    ) -> None:
        ring = int(RING_SECONDS * device_rate)  # device frames
        self.chain, self.out_ring, self.counters = chain, out_ring, counters
        self.device_rate, self.inline, self.safety_frames = device_rate, inline, safety_frames
        self.conceal, self.before_work = concealer, before_work
        self.in_ring = Ring(ring, channels)
        self.dry_ring = Ring(ring, channels)  # callback-only: source of the dry fallback
        self.mon_in = Ring(ring, channels)
        self.mon_out = Ring(ring, channels)
        self._in_block = np.zeros((MAX_READ, channels), np.float32)  # [n, C]
        self._dry_block = np.zeros((MAX_READ, channels), np.float32)  # [n, C] dry delayed
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.reset()

    @property
    def latency_frames(self) -> int:
        """End-to-end frames of the playing lane (-1 until the first plan)."""
        return self.buffer_frames + self.chain.delay_frames if self.planned else -1

    def reset(self) -> None:
        """Clear rings, guards, the chain and the plan (streams must be stopped)."""
        for ring in (self.in_ring, self.out_ring, self.dry_ring, self.mon_in, self.mon_out):
            ring.buffer.fill(0.0)
            ring.write_pos = ring.read_pos = 0
        self.period = 0  # device frames per callback (largest seen)
        self.planned = 0  # the period `buffer_frames` was planned for
        self.buffer_frames = 0
        self.conceal.reset()
        self.in_guard = InputGuard()  # non-finite / out-of-range input, cleaned and counted
        self.limiter = OutputLimiter(self.device_rate)  # nothing above 0 dBFS leaves
        self.chain.reset()

    # -- the audio callback ---------------------------------------------------------------

    def callback(
        self, indata: np.ndarray, outdata: np.ndarray, frames: int, t: Any, status: Any
    ) -> None:
        # NB: runs on PortAudio's thread. Only copies into preallocated buffers and int
        # counters; no allocation of arrays, no logging, no waiting. (The guards allocate
        # only on a block holding bad samples.)
        indata = self.in_guard.clean(indata)
        if status:
            self.counters.count_flags(status)
        self.counters.callbacks += 1
        if frames > self.period:
            self.period = frames  # the worker plans the buffering for it
        if not self.in_ring.write(indata):
            self.in_ring.write_pos += frames  # keep device time; the worker resyncs
        self.dry_ring.force_write(indata)
        if self.inline:
            self.work()
        valid = self.out_ring.read_timed(outdata)
        lat = self.latency_frames
        # before the first plan the output is start-up silence, not a dropout
        self.conceal.process(outdata, self._delayed_dry(frames, lat), valid, count=lat >= 0)
        self.limiter.process(outdata)
        self.mon_in.force_write(indata)
        self.mon_out.force_write(outdata)
        if not self.inline:
            try:
                os.write(self.wake_w, b"\0")
            except BlockingIOError:
                pass

    def _delayed_dry(self, frames: int, lat: int) -> np.ndarray:
        """The input of `frames` frames ago by the steady latency, [frames, C] (a view)."""
        dry = self._dry_block[:frames]
        if 0 <= lat <= self.dry_ring.capacity - frames:
            self.dry_ring._copy_out(self.dry_ring.write_pos - frames - lat, dry)
        else:
            dry.fill(0.0)
        return dry

    # -- the worker -----------------------------------------------------------------------

    def work(self) -> bool:
        """Process what the input ring holds; returns False when there was nothing to do."""
        self.before_work()
        if self.period == 0:
            return False
        backlog = self.in_ring.available()
        if self.period != self.planned or backlog > self.latency_frames + self.period:
            self._resync()
            if self.in_ring.available() <= 0:
                return True
            backlog = self.in_ring.available()
        if backlog <= 0:
            return False
        block = self._in_block[: min(backlog, MAX_READ)]  # [n, C]
        self.in_ring.read(block)
        self.chain.push(block)
        return True

    def worker_loop(self, stopping: Callable[[], bool]) -> None:
        while not stopping():
            if self.work():
                continue
            select.select([self.wake_r], [], [], IDLE_WAIT_S)
            try:
                os.read(self.wake_r, 4096)
            except BlockingIOError:
                pass

    def _plan(self, period: int) -> None:
        short = shortfall(self.chain, period, self.inline)
        # A normal-priority thread misses a one-period deadline under load (measured: 540
        # concealed runs in 30 s on a busy 2-core box): give it one more period.
        worker_room = 0 if self.inline else period
        self.buffer_frames = short + worker_room + self.safety_frames
        self.planned = period

    def _resync(self) -> None:
        """Return to the steady timeline: plan, or drop input whose output is already late.

        On the same plan the chain is not reset: whole grains of input are dropped
        together with their (late, concealed) output positions, so every later frame
        keeps its latency and the chain runs on without a gap of silence. A new plan (the
        first callback, or the device period changed) restarts the chain.
        """
        if self.period == self.planned:
            late = self.out_ring.read_pos - self.out_ring.write_pos  # output frames
            skip = max(late, 0) // self.chain.grain * self.chain.grain
            if skip:
                self.in_ring.skip(skip)
                self.out_ring.write_pos += skip  # positions the reader already passed
                self.counters.skipped += skip
                self.counters.resyncs += 1
            return
        first = self.planned == 0
        self._plan(self.period)
        if first:  # start of the stream: nothing to drop, the timeline starts at 0
            in_pos = self.in_ring.read_pos
        else:
            in_pos = self.in_ring.write_pos
            self.in_ring.read_pos = in_pos
        self.chain.reset()
        gap = in_pos + self.buffer_frames - self.out_ring.write_pos
        if gap > 0:
            self.out_ring.fill_timed(gap)
        self.counters.resyncs += 1

    def close(self) -> None:
        for fd in (self.wake_r, self.wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
