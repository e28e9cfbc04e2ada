"""The processing chain: the lanes (the model, the speech expert), which one plays, and the
cross-fade from one to the other.

Timeline. The chain's output frame j goes to ring position j + P (the host's buffering)
and is the playing lane's output for input j - D (`delay_frames`, that lane's). One lane
plays at a time and writes its output straight into the host's output ring. A request for
the other lane starts it, from silence, at the next pattern grain of the input (so its
hop and resampler phases are those the buffering was planned for) while the playing lane
runs on; both lanes' outputs are then mixed index by index: j of the old lane (input
j - D_old) with j of the new (input j - D_new). The new lane is silent for its own delay
plus one hop (its start-up), then fades in over the cross-fade and the old lane stops.
So the output never gaps or steps; the latency moves from P + D_old to P + D_new across
the fade and is reported for the lane that plays (docs/CONTRACTS.md "Engine").
Requests that arrive during a lane switch wait for its end (the latest one wins).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from livesep.realtime.lane import MAX_READ, Lane
from livesep.realtime.ring import TimedRing
from livesep.realtime.stats import Counters


class Chain:
    """Device blocks in, the playing lane's output (or a fade between two) into `out_ring`.

    Args:
        lanes: name -> lane ("model" first: it plays from the start).
        out_ring: the host's output ring (written at the chain's output positions).
        counters: late hops are counted here.
        crossfade_hops: hops (of the incoming lane) over which a lane switch fades.
    """

    def __init__(
        self, lanes: dict[str, Lane], out_ring: TimedRing, counters: Counters, crossfade_hops: int
    ) -> None:
        self.lanes = lanes
        self.out_ring = out_ring
        self.counters = counters
        self.crossfade_hops = crossfade_hops
        self.grain = math.lcm(*(lane.grain for lane in lanes.values()))  # device frames
        channels = next(iter(lanes.values())).channels
        size = 2 * MAX_READ
        self._pend = {name: np.zeros((size, channels), np.float32) for name in lanes}  # [n, C]
        self._count = dict.fromkeys(lanes, 0)  # frames pending per lane
        self._mixed = np.zeros((size, channels), np.float32)  # [n, C] scratch
        self._w = np.zeros((size, 1), np.float32)  # [n, 1] scratch: incoming weight
        self._index = np.arange(size, dtype=np.float32)  # [n] 0, 1, 2, ...
        self._emitters = {name: self._pender(name) for name in lanes}
        self.playing: Lane = next(iter(lanes.values()))
        self.incoming: Lane | None = None  # the lane fading in
        self.wanted: Lane | None = None  # a lane to start at the next grain
        self.deferred: tuple[Lane, Any] | None = None  # (lane, request) after the switch
        self.pos = 0  # input frames pushed since the reset
        self._fade_at = 0  # output frames of the incoming lane since its start
        self._fade_from = self._fade_len = 0

    @property
    def delay_frames(self) -> int:
        """The playing lane's signal delay at the device rate."""
        return self.playing.delay_frames

    def reset(self) -> None:
        """Start over (a new plan): the lane a switch was heading for plays, from silence."""
        target = self.wanted or self.incoming or self.playing
        self.playing, self.incoming, self.wanted = target, None, None
        self.playing.reset()
        self.pos = 0
        self._count = dict.fromkeys(self.lanes, 0)
        if self.deferred is not None:
            lane, request = self.deferred
            self.deferred = None
            self.request(lane, request)

    def request(self, lane: Lane, request: Any) -> None:
        """Play a prepared request on `lane` (worker, between blocks; no allocation)."""
        self.wanted = None  # a lane not started yet is not needed any more
        if self.incoming is not None:
            self.deferred = (lane, request)  # a lane switch is under way: after it
            return
        lane.path.switch(request)
        if lane is not self.playing:
            self.wanted = lane

    def push(self, block: np.ndarray) -> None:
        """Process the device frames `block` [n, C]."""
        if self.wanted is not None:
            first = min((-self.pos) % self.grain, block.shape[0])  # frames to the grain
            if first:
                self._push(block[:first])
                block = block[first:]
            if self.pos % self.grain == 0:
                self._start(self.wanted)
        if block.shape[0]:
            self._push(block)

    def _push(self, block: np.ndarray) -> None:
        self.pos += block.shape[0]
        if self.incoming is None:
            self.playing.push(block, self._write)
            return
        self.playing.push(block, self._emitters[self.playing.path.name])
        self.incoming.push(block, self._emitters[self.incoming.path.name])
        self._mix()

    def _write(self, out: np.ndarray) -> None:
        if self.out_ring.write_timed(out):
            self.counters.late_hops += 1

    def _pender(self, name: str) -> Any:
        def emit(out: np.ndarray) -> None:
            n = self._count[name]
            self._pend[name][n : n + out.shape[0]] = out
            self._count[name] = n + out.shape[0]

        return emit

    def _start(self, lane: Lane) -> None:
        """Start `lane` from silence now (at a grain boundary), fading in after start-up."""
        self.wanted = None
        lane.reset()
        self.incoming = lane
        hop_frames = round(lane.hop * lane.down.in_rate / lane.down.out_rate)  # device frames
        self._fade_at = 0
        self._fade_from = lane.delay_frames + hop_frames  # silent start-up of the lane
        self._fade_len = self.crossfade_hops * hop_frames

    def _mix(self) -> None:
        """Write the frames both lanes have produced: old * (1 - w) + new * w."""
        old, new = self.playing.path.name, self.incoming.path.name  # type: ignore[union-attr]
        n = min(self._count[old], self._count[new])
        if not n:
            return
        w = self._w[:n]  # [n, 1] the incoming lane's weight, 0 -> 1 over the fade
        np.add(self._index[:n], self._fade_at - self._fade_from, out=w[:, 0])
        w /= self._fade_len
        np.clip(w, 0.0, 1.0, out=w)
        y = self._mixed[:n]
        np.subtract(self._pend[new][:n], self._pend[old][:n], out=y)
        y *= w
        y += self._pend[old][:n]  # [n, C]
        self._write(y)
        self._fade_at += n
        for name in (old, new):
            rest = self._count[name] - n
            self._pend[name][:rest] = self._pend[name][n : n + rest]
            self._count[name] = rest
        if self._fade_at >= self._fade_from + self._fade_len:
            self._finish()

    def _finish(self) -> None:
        """The incoming lane plays alone from now on; what it has pending is written."""
        assert self.incoming is not None
        name = self.incoming.path.name
        self.playing, self.incoming = self.incoming, None
        if self._count[name]:
            self._write(self._pend[name][: self._count[name]])
        self._count = dict.fromkeys(self.lanes, 0)
        if self.deferred is not None:
            lane, request = self.deferred
            self.deferred = None
            self.request(lane, request)
