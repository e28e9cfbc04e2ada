"""The text-queried model as a live path: a bundle's step graph, one hop per call.

A request with k sounds runs as one batched call over k condition slots of `rows` rows
(row j*rows + c). Each slot shape has two runners: the one playing and the one a new
request fades in on, continuing from the playing one's state. A request is prepared off
the audio path (`prepare`: the film graph runs there) and switched in by reference
between hops (`switch`: in-place copies only, no allocation). The runner owns the hop
buffers: the hop is written straight into its bound input and the estimate read from its
bound output.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from livesep.bundle import Bundle
from livesep.query import MAX_SOUNDS, Request

RunnerFactory = Callable[[Bundle, int], Any]


def condition_slots(request: Request) -> int:
    """Condition rows one hop runs for `request`: 1 for one sound, else `MAX_SOUNDS`
    (padded), so the step graph sees two batch shapes only and a plain query costs what
    it always did."""
    return 1 if len(request.active) == 1 else MAX_SOUNDS


@dataclass(frozen=True)
class Conditioning:
    """A request made ready for the step graph (off the audio path)."""

    k: int  # condition slots
    cond: np.ndarray  # float32 [k*rows, cond_dim] film output, row j*rows + c
    weights: np.ndarray  # float32 [k] +1 keep, -1 remove, 0 padding
    mixture: float  # weight of the dry signal (1 when the request keeps nothing)


class Slot:
    """A runner with `k` condition slots and the request it runs:
    output = sum_j weights[j] * estimate_j + mixture * dry."""

    def __init__(self, runner: Any, k: int) -> None:
        self.runner = runner
        self.k = k
        self.weights = np.zeros(k, np.float32)  # [k]
        self.mixture = 0.0


def fork_state(src: Slot, dst: Slot, rows: int) -> None:
    """Make `dst` continue from `src`'s current state, in place; condition slot j of `dst`
    takes the state of slot min(j, src.k - 1) (the STFT part is the same in every slot)."""
    for s, d in zip(src.runner.state_buffers(), dst.runner.state_buffers(), strict=True):
        if not (isinstance(s, np.ndarray) and isinstance(d, np.ndarray)):  # GPU: a copy
            index = np.minimum(np.arange(dst.k), src.k - 1)  # [dst.k]
            per_slot = s.numpy().reshape(src.k, rows, *s.shape()[1:])[index]
            d.update_inplace(np.ascontiguousarray(per_slot.reshape(d.shape())))
            continue
        for j in range(dst.k):
            i = min(j, src.k - 1)
            np.copyto(d[j * rows : (j + 1) * rows], s[i * rows : (i + 1) * rows])


class ModelPath:
    """The model's hop: x [hop, C] -> the request's target [B, hop] and dry weight.

    Args:
        bundle: the model.
        rows: batch rows per condition slot (channels, or 1 for a downmix).
        crossfade_hops: hops over which a new request fades in.
        factory: (bundle, batch) -> runner.
    """

    name = "model"

    def __init__(self, bundle: Bundle, rows: int, crossfade_hops: int, factory: RunnerFactory):
        self.bundle = bundle
        self.rate = bundle.sample_rate  # Hz
        self.hop = bundle.graph_block("step")  # samples per step call
        self.latency = bundle.latency_samples  # samples (algorithmic)
        self.rows = rows
        self.crossfade_hops = crossfade_hops
        self._factory = factory
        self._pool: dict[int, list[Slot]] = {}  # condition slots -> two runners (fade)
        self._lock = threading.Lock()
        self.active: Slot | None = None  # the request being played
        self.next: Slot | None = None  # the request fading in
        self.fade_left = 0  # hops of cross-fade still to run
        hop = self.hop
        self._ya = np.zeros((rows, hop), np.float32)  # [B, hop] active request's target
        self._yb = np.zeros((rows, hop), np.float32)  # [B, hop] fading-in request's
        self.mix = np.zeros((hop, 1), np.float32)  # [hop, 1] the requests' dry weight
        self._ramp = (np.arange(hop, dtype=np.float32) + 1) / hop  # [hop]
        self._w = np.zeros(hop, np.float32)  # [hop] scratch: fade weight
        self._term = np.zeros((rows, hop), np.float32)  # [B, hop] scratch
        self.provider = str(getattr(self.slots(1)[0].runner, "provider", "?"))

    def slots(self, k: int) -> list[Slot]:
        """The two runners with `k` condition slots, made on first use (off the audio
        path: by the thread that prepares a request that needs them)."""
        with self._lock:
            if k not in self._pool:
                runners = [self._factory(self.bundle, k * self.rows) for _ in range(2)]
                self._pool[k] = [Slot(r, k) for r in runners]
            return self._pool[k]

    def prepare(self, request: Request) -> Conditioning:
        """The conditioning for `request` (any thread but the audio one: runs film)."""
        k = condition_slots(request)
        slots = self.slots(k)
        conditions, weights = request.padded(k)  # [k, D], [k]
        rows = np.repeat(conditions, self.rows, axis=0)  # [k*rows, D], row j*rows + c
        cond = slots[0].runner.condition(rows)  # [k*rows, cond_dim]
        return Conditioning(k, cond, weights, request.mixture)

    def switch(self, c: Conditioning) -> None:
        """Play `c` from the next hop on, cross-faded (worker; in-place copies only)."""
        pair = self._pool[c.k]
        if self.active is None:  # first request: nothing to fade from
            slot = pair[0]
        else:
            if self.fade_left:  # a fade in progress completes now
                self.active, self.next, self.fade_left = self.next, None, 0
            assert self.active is not None
            slot = pair[1] if pair[0] is self.active else pair[0]
            fork_state(self.active, slot, self.rows)
        slot.runner.set_cond(c.cond)  # into the bound buffer
        slot.weights[:] = c.weights
        slot.mixture = c.mixture
        if self.active is None:
            self.active = slot
        else:
            self.next = slot
            self.fade_left = self.crossfade_hops

    def reset(self) -> None:
        """Zero every runner's state; a fade in progress completes."""
        with self._lock:
            for pair in self._pool.values():
                for slot in pair:
                    slot.runner.reset()
        if self.fade_left:
            self.active, self.next, self.fade_left = self.next, None, 0

    def estimate(self, x: np.ndarray) -> np.ndarray:
        """The request's target [B, hop] (delayed by `latency`) for the hop x [hop, C];
        its dry weight goes to `mix` [hop, 1]. One step call per request (two fading)."""
        active = self.active
        if active is None:
            self._ya.fill(0.0)
            self.mix.fill(0.0)
            return self._ya
        self._run(active, x, self._ya)
        self.mix.fill(active.mixture)
        if not self.fade_left:
            return self._ya
        fading = self.next
        assert fading is not None
        self._run(fading, x, self._yb)
        done = self.crossfade_hops - self.fade_left  # hops already faded
        np.add(self._ramp, done, out=self._w)
        self._w /= self.crossfade_hops  # [hop] 0 -> 1 over the fade
        self._yb -= self._ya
        self._yb *= self._w
        self._ya += self._yb  # [B, hop]
        self._w *= fading.mixture - active.mixture
        self.mix[:, 0] += self._w
        self.fade_left -= 1
        if not self.fade_left:
            self.active, self.next = fading, None
        return self._ya

    def _run(self, slot: Slot, x: np.ndarray, out: np.ndarray) -> None:
        """out [B, hop] = sum_j weights[j] * the estimate of condition slot j."""
        rows, runner = self.rows, slot.runner
        audio = runner.audio  # [k*rows, hop] the runner's bound input
        if rows == x.shape[1]:
            audio[:rows] = x.T  # [B=C, hop]
        else:
            np.mean(x, axis=1, out=audio[0])  # [hop] downmix
        for j in range(1, slot.k):
            audio[j * rows : (j + 1) * rows] = audio[:rows]
        est = runner.process(audio, out=runner.out)  # [k*rows, hop], one batched call
        np.multiply(est[:rows], slot.weights[0], out=out)
        for j in range(1, slot.k):
            if slot.weights[j]:
                np.multiply(est[j * rows : (j + 1) * rows], slot.weights[j], out=self._term)
                out += self._term
