"""The speech expert (DeepFilterNet3, `livesep.expert`) as a live path at 48 kHz.

One `SpeechExpert` stream per batch row, each with its own state, one 480-sample frame per
hop; the estimate lags its input by the expert's latency (1440 samples, 30 ms), and the
lane delays the dry signal alike, so "remove the speech" is the input minus the estimate,
sample-aligned. Every sound of a request is the expert's one estimate (as offline,
`livesep.separate`), so a request is a weight (+1 keep, -1 remove, summed) and a dry
weight; a new request on this path cross-fades the two over `crossfade_hops` hops (the
estimate is the same, so the fade is exact and costs nothing).

A lane starts from silence: the runtime has no reset short of loading the model again
(~0.4 s), so once the streams have run, the next `prepare` (off the audio path) makes
fresh ones that the lane's start (`reset`) swaps in by reference; the ones it retires are
freed by the `prepare` after. Runs on the audio path: `estimate` and `switch` only copy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from livesep.query import Request


@dataclass(frozen=True)
class ExpertRequest:
    """A request as the expert path plays it: target = weight * estimate + mixture * dry."""

    weight: float  # +1 per kept sound, -1 per removed one
    mixture: float  # weight of the dry signal (1 when nothing is kept)


class ExpertPath:
    """The expert's hop: x [hop, C] at 48 kHz -> the request's target [B, hop].

    Args:
        rows: batch rows (channels, or 1 for a downmix): one stream each.
        crossfade_hops: hops over which a new request's weights fade in.
        factory: () -> a `livesep.expert.SpeechExpert`-like stream (tests inject options).

    Raises:
        ExpertUnavailable: the `speech` extra is not installed.
    """

    name = "expert"

    def __init__(self, rows: int, crossfade_hops: int, factory: Callable[[], Any] | None = None):
        from livesep.expert import RATE, SpeechExpert, info

        self.rate = RATE  # Hz
        self.hop = info().hop  # samples per frame
        self.latency = info().latency  # samples the estimate lags its input
        self.label = info().name
        self.rows = rows
        self.crossfade_hops = crossfade_hops
        self._factory = factory or SpeechExpert
        self._lock = threading.Lock()
        self.streams = self._fresh()
        self.spare: list[Any] | None = None  # fresh streams for the next lane start
        self._retired: list[Any] | None = None
        self._used = False  # `streams` hold state: the next start wants fresh ones
        hop = self.hop
        self._x = np.zeros((rows, hop), np.float32)  # [B, hop] downmix scratch
        self._est = np.zeros((rows, hop), np.float32)  # [B, hop] the expert's estimate
        self._target = np.zeros((rows, hop), np.float32)  # [B, hop]
        self.mix = np.zeros((hop, 1), np.float32)  # [hop, 1] dry weight
        self._w = np.zeros((hop, 1), np.float32)  # [hop, 1] scratch: the weight's ramp
        self._ramp = ((np.arange(hop, dtype=np.float32) + 1) / hop)[:, None]  # [hop, 1]
        self.playing = ExpertRequest(0.0, 0.0)  # silence until the first request
        self._from = self.playing
        self.fade_left = 0

    def _fresh(self) -> list[Any]:
        return [self._factory() for _ in range(self.rows)]

    def prepare(self, request: Request) -> ExpertRequest:
        """The expert's form of `request`; makes fresh streams for the next lane start when
        the last start used them (any thread but the audio one: loads the model)."""
        with self._lock:
            retired, self._retired = self._retired, None
            if retired is not None:
                for stream in retired:
                    stream.close()
            if self.spare is None and self._used:
                self.spare = self._fresh()
        return ExpertRequest(float(request.weights.sum()), request.mixture)

    def switch(self, request: ExpertRequest) -> None:
        """Play `request` from the next hop on, its weights cross-faded (worker)."""
        self._from = self._reached() if self.fade_left else self.playing
        self.playing = request
        self.fade_left = self.crossfade_hops

    def _reached(self) -> ExpertRequest:
        """The (weight, mixture) the fade in progress has reached (at the last hop's end)."""
        done = (self.crossfade_hops - self.fade_left) / self.crossfade_hops
        f, p = self._from, self.playing
        return ExpertRequest(
            f.weight + (p.weight - f.weight) * done, f.mixture + (p.mixture - f.mixture) * done
        )

    def reset(self) -> None:
        """Start from silence: fresh streams if prepared (a reference swap), fade done."""
        if self._used and self.spare is not None:
            self._retired, self.streams, self.spare = self.streams, self.spare, None
            self._used = False
        self.fade_left = 0

    def estimate(self, x: np.ndarray) -> np.ndarray:
        """The request's target [B, hop] (delayed by `latency`) for x [hop, C] at 48 kHz;
        its dry weight goes to `mix` [hop, 1]."""
        self._used = True
        if x.shape[1] == self.rows:
            for r, stream in enumerate(self.streams):
                stream.process(x[:, r], out=self._est[r])
        else:
            np.mean(x, axis=1, out=self._x[0])  # [hop] downmix
            self.streams[0].process(self._x[0], out=self._est[0])
        p = self.playing
        if not self.fade_left:
            np.multiply(self._est, p.weight, out=self._target)
            self.mix.fill(p.mixture)
            return self._target
        f = self._from
        done = self.crossfade_hops - self.fade_left  # hops already faded
        np.add(self._ramp, done, out=self._w)
        self._w /= self.crossfade_hops  # [hop, 1] 0 -> 1 over the fade
        np.multiply(self._w, p.mixture - f.mixture, out=self.mix)
        self.mix += f.mixture  # [hop, 1]
        self._w *= p.weight - f.weight
        self._w += f.weight  # [hop, 1] the estimate's weight
        np.multiply(self._est, self._w.T, out=self._target)  # [B, hop]
        self.fade_left -= 1
        return self._target
