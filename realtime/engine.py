"""The real-time engine: device audio in, the described sound extracted or removed, out.

Threads and who owns what:
- the PortAudio callback (`_callback`) copies input into `_in_ring`, output out of
  `_out_ring` and into the monitor taps, counts status flags, and wakes the worker. It never
  allocates buffers, logs, or waits.
- the worker (`_work`, on its own thread, or inside the callback with worker="callback")
  applies control messages, resamples device -> model rate, runs the step graph hop by hop,
  mixes, resamples back and writes `_out_ring`.
- any other thread calls the controls (messages) and `stats()` / `monitor()` (reads).

Timeline. Ring positions are absolute device-sample counters and the callback advances the
input writer and the output reader together, so input frame p and output frame p belong to
the same callback. The worker writes the chain's output frame j at position j + P
(`buffer_frames`), and the chain's output j is its input j - D (`delay_frames`: the model's
algorithmic latency plus the two fixed resampler delays, at the device rate). Every output
frame therefore leaves exactly P + D frames after its input (`latency_frames`), or not at
all: a late frame is dropped by the ring (counted) and the callback conceals it
(`realtime.conceal`: the last output/dry gain on the delayed dry signal, faded back out
over a hop), so latency cannot creep and nothing cuts to dry or to silence. A backlog
longer than the latency means the worker stalled: it drops whole pattern grains of input
whose output is already late (`realtime.resample.grain`), and the chain runs on without a
reset, on the same timeline (a resync: no silence is written).

P is planned when the first callback reveals the device period: the exact largest
shortfall of the resample + whole-hop chain for that period (`worst_shortfall`, which
already gives a worker thread one period to run in) plus, for a worker thread, one more
period of margin, plus `safety_frames`. At 48 kHz / 256 with the default bundle that is
38.2 ms end to end with worker="callback" and 48.8 ms with a worker thread.
"""

from __future__ import annotations

import os
import select
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from livesep.bundle import Bundle, load_bundle
from livesep.errors import LivesepError
from livesep.query import MAX_SOUNDS, MODES, QueryReader, Request, default_encoder, parse_request
from livesep.realtime.conceal import FALLBACKS, Concealer
from livesep.realtime.controls import Control, ControlQueue, QueryEncoder
from livesep.realtime.guard import InputGuard, OutputLimiter
from livesep.realtime.resample import StreamResampler, grain, worst_shortfall
from livesep.realtime.ring import Ring, TimedRing
from livesep.realtime.stats import EngineStats, TimingWindow, peak_dbfs

RING_SECONDS = 2.0  # capacity of the input/output rings and monitor taps
MAX_READ = 8192  # device frames the worker takes from the input ring at once
PEAK_SECONDS = 0.1  # window of the peak meters in stats()
IDLE_WAIT_S = 0.05  # worker wake-up when no callback arrives (stopping, file mode)
# While streaming, a thread holding the GIL must hand it over this often: the callback needs
# it within a fraction of a period (CPython's default is 5 ms, a whole 256-frame period).
SWITCH_INTERVAL_S = 0.0005

RunnerFactory = Callable[[Bundle, int], Any]


def default_runner(bundle: Bundle, batch: int, providers: Any = None, threads: int = 1) -> Any:
    from livesep.runner import StepRunner

    return StepRunner(bundle, providers=providers, threads=threads, batch=batch)


def condition_slots(request: Request) -> int:
    """Condition rows one hop runs for `request`: 1 for one sound, else `MAX_SOUNDS`
    (padded), so the step graph sees two batch shapes only and a plain query costs what
    it always did."""
    return 1 if len(request.active) == 1 else MAX_SOUNDS


class _Slot:
    """A runner with `k` condition slots of `rows` rows each (row j*rows + c) and the
    request it runs: output = sum_j weights[j] * estimate_j + mixture * dry."""

    def __init__(self, runner: Any, k: int, rows: int, hop: int) -> None:
        self.runner = runner
        self.k = k
        self.x = np.zeros((k * rows, hop), np.float32)  # [k*rows, hop] the hop, per slot
        self.est = np.zeros((k * rows, hop), np.float32)  # [k*rows, hop] estimates
        self.weights = np.zeros(k, np.float32)  # [k] +1 keep, -1 remove, 0 padding
        self.mixture = 0.0  # weight of the dry signal (1 when the request keeps nothing)


def fork_state(src: _Slot, dst: _Slot, rows: int) -> None:
    """Make `dst` continue from `src`'s current state; condition slot j of `dst` takes the
    state of slot min(j, src.k - 1) (the STFT part of the state is the same in every slot)."""
    states = {}
    index = np.minimum(np.arange(dst.k), src.k - 1)  # [dst.k]
    for name, value in src.runner.states().items():  # [src.k*rows, *shape]
        per_slot = value.reshape(src.k, rows, *value.shape[1:])[index]  # [dst.k, rows, ...]
        states[name] = per_slot.reshape(dst.k * rows, *value.shape[1:])
    dst.runner.load_states(states)


class Engine:
    """Streams audio through a bundle's step graph; see docs/CONTRACTS.md "Engine".

    Args:
        bundle: bundle directory or `Bundle`.
        device_rate: device sample rate in Hz (None: the bundle's).
        channels: device channels in and out.
        channel_mode: "batch" (each channel its own batch row) or "downmix" (one row).
        worker: "callback" (hops run in the audio callback: on JACK its real-time thread)
            or "thread" (a normal-priority worker thread, planned one period more).
        fallback: for output frames processing delivered too late: "hold" (the last
            output/dry gain applied to the delayed dry input), "dry" or "silence".
        crossfade_hops: hops over which a new query fades in (>= 1).
        resample_quality: filter length of the fixed-delay resampler when device_rate !=
            the model's rate (`realtime.resample.QUALITIES`).
        providers, threads: ONNX Runtime execution providers and intra-op threads.
        query: initial query text.
        encoder: a TextEncoder for queries the bundle does not cache (default: a
            torch-free one, `livesep.query.default_encoder(bundle, torch_free=True)`).
        runner_factory: (bundle, batch) -> runner; tests and benchmarks inject stand-ins.
        safety_frames: extra output buffering in device frames (jitter margin).
        snap: snap queries onto the bundle's training captions (`set_snap` changes it).
        texts: sound descriptions to encode before the model's sessions load (the first
            query's, e.g.): a text encoder built for them is released before the model
            takes its memory, so a new first query peaks no higher than a cached one.
    """

    def __init__(
        self,
        bundle: Bundle | str | os.PathLike[str],
        *,
        device_rate: int | None = None,
        channels: int = 1,
        channel_mode: str = "batch",
        worker: str = "callback",
        fallback: str = "hold",
        crossfade_hops: int = 2,
        resample_quality: str = "LQ",
        providers: Any = None,
        threads: int = 1,
        query: str | None = None,
        encoder: Any = None,
        runner_factory: RunnerFactory | None = None,
        safety_frames: int = 0,
        snap: bool = True,
        texts: Sequence[str] = (),
    ) -> None:
        self.bundle = bundle if isinstance(bundle, Bundle) else load_bundle(Path(bundle))
        b = self.bundle
        if channel_mode not in ("batch", "downmix"):
            raise LivesepError(f"channel_mode {channel_mode!r}: use 'batch' or 'downmix'")
        if worker not in ("thread", "callback"):
            raise LivesepError(f"worker {worker!r}: use 'thread' or 'callback'")
        if fallback not in FALLBACKS:
            raise LivesepError(f"fallback {fallback!r}: use one of {FALLBACKS}")
        if channels < 1 or crossfade_hops < 1:
            raise LivesepError("channels and crossfade_hops must be >= 1")
        self.model_rate = b.sample_rate  # Hz
        self.device_rate = int(device_rate or b.sample_rate)  # Hz
        self.channels = channels
        self.rows = channels if channel_mode == "batch" else 1  # batch rows through the model
        self.channel_mode = channel_mode
        self.inline = worker == "callback"
        self.fallback = fallback
        self.crossfade_hops = crossfade_hops
        self.resample_quality = resample_quality
        self.safety_frames = int(safety_frames)
        self.hop = b.graph_block("step")  # model samples per step call
        self.latency_model = b.latency_samples  # model samples (algorithmic)

        self._factory = runner_factory or (
            lambda bun, batch: default_runner(bun, batch, providers, threads)
        )
        self.queries = QueryReader(
            b,
            encoder=(lambda: default_encoder(b, torch_free=True)) if encoder is None else encoder,
            snap=snap,
        )
        if texts:
            self.queries.embed(list(texts))  # before the runners (see `texts`)
        self._pool: dict[int, list[_Slot]] = {}  # condition slots -> two runners (fade)
        self._pool_lock = threading.Lock()
        self.provider = str(getattr(self._slots(1)[0].runner, "provider", "?"))
        self._encoder = QueryEncoder(self.queries, self.set_request, self._set_error)
        self._source: tuple[Any, ...] | None = None  # what the current request was read from
        self._controls = ControlQueue()
        self._alloc()
        # The signal delay at the device rate: the model's plus the two resamplers'.
        self.resample_s = self._down.delay_s + self._up.delay_s  # seconds
        self.delay_frames = round(
            self.latency_model * self.device_rate / self.model_rate
            + self.resample_s * self.device_rate
        )
        self._grain = grain(self.device_rate, self.model_rate, self.hop)  # device frames
        self._init_params()
        self.reset()
        self._stream: Any = None
        self._old_switch = sys.getswitchinterval()
        self._thread: threading.Thread | None = None
        self._stop_flag = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        if query is not None:
            self.set_query(query)

    # -- setup ----------------------------------------------------------------------------

    def _alloc(self) -> None:
        """Every buffer the audio path uses, allocated once."""
        ring = int(RING_SECONDS * self.device_rate)  # device frames
        c, hop, lat = self.channels, self.hop, self.latency_model
        self._in_ring = Ring(ring, c)
        self._out_ring = TimedRing(ring, c)
        self._dry_ring = Ring(ring, c)  # callback-only: source of the dry fallback
        self._mon_in = Ring(ring, c)
        self._mon_out = Ring(ring, c)
        self._in_block = np.zeros((MAX_READ, c), np.float32)  # [n, C] device rate
        fifo = hop + int(np.ceil(MAX_READ * self.model_rate / self.device_rate)) + 64
        self._fifo = np.zeros((fifo, c), np.float32)  # [n, C] model rate, pending hop input
        self._x_rows = np.zeros((self.rows, hop), np.float32)  # [B, hop] model input
        self._ya = np.zeros((self.rows, hop), np.float32)  # [B, hop] active request's target
        self._yb = np.zeros((self.rows, hop), np.float32)  # [B, hop] fading-in request's
        self._mix = np.zeros((hop, 1), np.float32)  # [hop, 1] the requests' dry weight
        self._dry_line = np.zeros((lat + hop, c), np.float32)  # [L + hop, C] dry delay
        self._dry_d = np.zeros((hop, c), np.float32)  # [hop, C] dry delayed by L
        self._y = np.zeros((hop, c), np.float32)  # [hop, C] mixed output, model rate
        self._ramp = ((np.arange(hop, dtype=np.float32) + 1) / hop)[:, None]  # [hop, 1]
        self._coef = np.zeros((hop, 1), np.float32)  # [hop, 1] scratch
        self._coef_d = np.zeros((hop, 1), np.float32)  # [hop, 1] scratch
        self._timing = TimingWindow()
        self._down = StreamResampler(self.device_rate, self.model_rate, c, self.resample_quality)
        self._up = StreamResampler(self.model_rate, self.device_rate, c, self.resample_quality)
        self._dry_block = np.zeros((MAX_READ, c), np.float32)  # [n, C] callback: dry delayed
        hop_frames = round(hop * self.device_rate / self.model_rate)  # device frames
        self._conceal = Concealer(self.fallback, c, MAX_READ, hop_frames)

    def _init_params(self) -> None:
        self._query: str | None = None
        self._warning: str | None = None  # what the model does not know of the query
        self._active: _Slot | None = None  # the request being played
        self._next: _Slot | None = None  # the request fading in
        self._mode = "extract"
        self._wet = 1.0
        self._gain_db = 0.0
        self._bypass = False
        self._applied = self._coefficients()  # (target coef, dry coef, gain) at hop end
        self._error: str | None = None

    def reset(self) -> None:
        """Clear rings, chain state and counters (streams must be stopped)."""
        for ring in (self._in_ring, self._out_ring, self._dry_ring, self._mon_in, self._mon_out):
            ring.buffer.fill(0.0)
            ring.write_pos = ring.read_pos = 0
        self._period = 0  # device frames per callback (largest seen)
        self._planned = 0  # the period `buffer_frames` was planned for
        self.buffer_frames = 0
        self.latency_frames = -1  # unknown until the first callback
        self._fifo_len = 0
        self._fade_left = 0  # hops of query cross-fade still to run
        self._timing = TimingWindow()
        self._flags = [0, 0, 0, 0]  # input under/overflow, output under/overflow
        self._callbacks = 0
        self._conceal.reset()
        self._skipped = 0  # input frames dropped by resyncs
        self._late_hops = 0
        self._resyncs = -1  # the first plan is not a resync
        self._hops = 0
        self._in_guard = InputGuard()  # non-finite / out-of-range input, cleaned and counted
        self._limiter = OutputLimiter(self.device_rate)  # nothing above 0 dBFS leaves
        self._reset_chain()

    def _reset_chain(self) -> None:
        self._down.reset()
        self._up.reset()
        self._fifo_len = 0
        self._dry_line.fill(0.0)
        for slots in list(self._pool.values()):
            for slot in slots:
                slot.runner.reset()
        if self._fade_left:
            self._active, self._next = self._next, None
            self._fade_left = 0

    def _slots(self, k: int) -> list[_Slot]:
        """The two runners with `k` condition slots, made on first use (off the audio path:
        by the thread that prepares a request that needs them)."""
        with self._pool_lock:
            if k not in self._pool:
                batch = k * self.rows
                runners = [self._factory(self.bundle, batch) for _ in range(2)]
                self._pool[k] = [_Slot(r, k, self.rows, self.hop) for r in runners]
            return self._pool[k]

    # -- controls (any thread) ----------------------------------------------------------

    def set_query(self, text: str) -> None:
        """Play what `text` asks for (`livesep.query`: "voice, not wind", "remove the dog"),
        cross-faded in. A text the reader has seen (or the bundle caches) switches at the
        next hop; a new one is encoded on a background thread first, off the audio path.

        Raises:
            QueryError: an empty query or one with too many sounds (checked here).
        """
        mode = self._mode
        parse_request(text, mode)  # errors raise on the caller's thread
        self._source = ("text", text)
        if self.queries.needs_encoder(text, mode):
            self._encoder.submit(lambda: self.queries.read(text, mode))
        else:
            self.set_request(self.queries.read(text, mode))

    def set_query_blocking(self, text: str) -> Request:
        """Like `set_query` but reads on this thread (errors raise here); returns the
        request, whose `warnings()` say what the model does not know."""
        request = self.queries.read(text, self._mode)
        self._source = ("text", text)
        self.set_request(request)
        return request

    def set_parts(self, keep: list[str], remove: list[str]) -> Request:
        """Keep and remove sounds given as lists (not parsed); reads on this thread."""
        request = self.queries.read_parts(keep, remove)
        self._source = ("parts", keep, remove)
        self.set_request(request)
        return request

    def set_embedding(self, embedding: np.ndarray, label: str | None = None) -> None:
        """Condition on a text embedding float32[D] directly (extracted, or removed in
        remove mode)."""
        request = self.queries.from_embedding(embedding, label, self._mode)
        self._source = ("embedding", request.sounds[0].embedding, label)
        self.set_request(request)

    def set_request(self, request: Request) -> None:
        """Play `request` from the next hop on, cross-faded (any thread but the audio one)."""
        self._slots(condition_slots(request))  # a new runner shape is made here, not in a hop
        self._controls.put(Control("request", request))

    def set_mode(self, mode: str) -> None:
        """ "extract" or "remove" what a query that removes nothing names (a query that
        says what to remove is played as written); the current query cross-fades."""
        if mode not in MODES:
            raise LivesepError(f"mode {mode!r}: use one of {MODES}")
        self._mode = mode
        self._reread()

    def set_snap(self, on: bool) -> None:
        """Snap queries onto the bundle's training captions (on) or use them raw (off)."""
        self.queries.snap = bool(on)
        self._reread()

    def _reread(self) -> None:
        """Read the current query again (after a mode or snap change)."""
        source = self._source
        if source is None:
            return
        if source[0] == "text":
            self.set_query(source[1])
        elif source[0] == "parts":
            self.set_parts(source[1], source[2])
        else:
            self.set_embedding(source[1], source[2])

    def set_mix(self, wet: float) -> None:
        """Dry/wet: 1 = processed only, 0 = dry (delayed) only."""
        if not 0.0 <= wet <= 1.0:
            raise LivesepError(f"mix {wet}: wet must be in [0, 1]")
        self._controls.put(Control("wet", float(wet)))

    def set_gain_db(self, gain_db: float) -> None:
        """Output gain in dB."""
        if not -120.0 <= gain_db <= 24.0:
            raise LivesepError(f"gain {gain_db} dB outside [-120, 24]")
        self._controls.put(Control("gain_db", float(gain_db)))

    def set_bypass(self, on: bool) -> None:
        """Output the dry signal, delayed by the same latency."""
        self._controls.put(Control("bypass", bool(on)))

    def _set_error(self, message: str) -> None:
        self._error = message

    # -- worker side --------------------------------------------------------------------

    def _coefficients(self) -> tuple[float, float, float]:
        """(target coefficient, dry coefficient, linear gain) of the current settings.

        out = gain * ((1 - bypass) * (wet * processed + (1 - wet) * dry) + bypass * dry),
        processed = the request's target + its mixture weight * dry (`_run_model`).
        """
        by = 1.0 if self._bypass else 0.0
        wet = self._wet
        c_target = (1.0 - by) * wet
        c_dry = (1.0 - by) * (1.0 - wet) + by
        return c_target, c_dry, 10.0 ** (self._gain_db / 20.0)

    def _apply_controls(self) -> None:
        while (msg := self._controls.get()) is not None:
            if msg.kind == "request":
                self._switch_request(msg.value)
            elif msg.kind == "wet":
                self._wet = msg.value
            elif msg.kind == "gain_db":
                self._gain_db = msg.value
            elif msg.kind == "bypass":
                self._bypass = msg.value

    def _switch_request(self, request: Request) -> None:
        k = condition_slots(request)
        conditions, weights = request.padded(k)  # [k, D], [k]
        rows = np.repeat(conditions, self.rows, axis=0)  # [k*rows, D], row j*rows + c
        if self._active is None:  # first query: nothing to fade from
            slot = self._pool[k][0]
        else:
            if self._fade_left:  # a fade in progress completes now
                self._active, self._next = self._next, None
            assert self._active is not None
            slot = next(s for s in self._pool[k] if s is not self._active)
            fork_state(self._active, slot, self.rows)
        slot.runner.set_embedding(rows)
        slot.weights[:] = weights
        slot.mixture = request.mixture
        if self._active is None:
            self._active = slot
        else:
            self._next = slot
            self._fade_left = self.crossfade_hops
        self._query = request.text
        self._warning = "; ".join(request.warnings()) or None

    def _plan(self, period: int) -> None:
        short = worst_shortfall(
            self.device_rate,
            self.model_rate,
            period,
            self.hop,
            self.resample_quality,
            in_callback=self.inline,
        )
        # A normal-priority thread misses a one-period deadline under load (measured: 540
        # concealed runs in 30 s on a busy 2-core box): give it one more period.
        worker_room = 0 if self.inline else period
        self.buffer_frames = short + worker_room + self.safety_frames
        self.latency_frames = self.buffer_frames + self.delay_frames
        self._planned = period

    def _resync(self) -> None:
        """Return to the steady timeline: plan, or drop input whose output is already late.

        On the same plan the chain is not reset: whole grains of input are dropped
        together with their (late, concealed) output positions, so every later frame
        keeps its latency and the chain runs on without a gap of silence. A new plan (the
        first callback, or the device period changed) restarts the chain.
        """
        if self._period == self._planned:
            late = self._out_ring.read_pos - self._out_ring.write_pos  # output frames
            skip = max(late, 0) // self._grain * self._grain
            if skip:
                self._in_ring.skip(skip)
                self._out_ring.write_pos += skip  # positions the reader already passed
                self._skipped += skip
                self._resyncs += 1
            return
        first = self._planned == 0
        self._plan(self._period)
        if first:  # start of the stream: nothing to drop, the timeline starts at 0
            in_pos = self._in_ring.read_pos
        else:
            in_pos = self._in_ring.write_pos
            self._in_ring.read_pos = in_pos
        self._reset_chain()
        gap = in_pos + self.buffer_frames - self._out_ring.write_pos
        if gap > 0:
            self._out_ring.fill_timed(gap)
        self._resyncs += 1

    def _work(self) -> bool:
        """Process what the input ring holds; returns False when there was nothing to do."""
        self._apply_controls()
        if self._period == 0:
            return False
        backlog = self._in_ring.available()
        if self._period != self._planned or backlog > self.latency_frames + self._period:
            self._resync()
            if self._in_ring.available() <= 0:
                return True
            backlog = self._in_ring.available()
        if backlog <= 0:
            return False
        n = min(backlog, MAX_READ)
        block = self._in_block[:n]  # [n, C]
        self._in_ring.read(block)
        x = self._down.process(block)  # [m, C] model rate
        m = x.shape[0]
        self._fifo[self._fifo_len : self._fifo_len + m] = x
        self._fifo_len += m
        done = 0
        while self._fifo_len - done >= self.hop:
            self._process_hop(self._fifo[done : done + self.hop])
            done += self.hop
        if done:
            rest = self._fifo_len - done
            self._fifo[:rest] = self._fifo[done : self._fifo_len]
            self._fifo_len = rest
        return True

    def _process_hop(self, x: np.ndarray) -> None:
        """One hop: x [hop, C] model rate -> output ring (device rate)."""
        t0 = time.perf_counter()
        lat, hop = self.latency_model, self.hop
        target = self._run_model(x)  # [B, hop]
        self._dry_line[lat:] = x  # dry delay line: x enters at the end ...
        self._dry_d[:] = self._dry_line[:hop]  # ... and leaves L samples later
        self._dry_line[:lat] = self._dry_line[hop:]
        t_view = target.T if self.rows == self.channels else target[0][:, None]  # [hop, C|1]
        c_t, c_d, g = self._coefficients()
        p_t, p_d, p_g = self._applied
        ramp = self._ramp  # [hop, 1], ramps to 1 at the hop's last sample
        np.multiply(ramp, (c_t * g - p_t * p_g), out=self._coef)
        self._coef += p_t * p_g  # [hop, 1] target coefficient
        np.multiply(t_view, self._coef, out=self._y)  # [hop, C]
        np.multiply(ramp, (c_d * g - p_d * p_g), out=self._coef_d)
        self._coef_d += p_d * p_g  # [hop, 1] dry coefficient ...
        np.multiply(self._coef, self._mix, out=self._coef)
        self._coef_d += self._coef  # ... plus the request's own mixture term
        self._y += self._dry_d * self._coef_d
        self._applied = (c_t, c_d, g)
        out = self._up.process(self._y)  # [n, C] device rate
        if out.shape[0] and self._out_ring.write_timed(out):
            self._late_hops += 1
        self._hops += 1
        self._timing.add(time.perf_counter() - t0)

    def _run_model(self, x: np.ndarray) -> np.ndarray:
        """The request's target [B, hop] (delayed by L) for the hop x [hop, C]; its dry
        weight goes to `_mix` [hop, 1]. One step call per request (two while fading)."""
        if self.rows == self.channels:
            self._x_rows[:] = x.T  # [B=C, hop]
        else:
            np.mean(x, axis=1, out=self._x_rows[0])  # [hop] downmix
        active = self._active
        if active is None:
            self._ya.fill(0.0)
            self._mix.fill(0.0)
            return self._ya
        self._estimate(active, self._ya)
        self._mix.fill(active.mixture)
        if not self._fade_left:
            return self._ya
        fading = self._next
        assert fading is not None
        self._estimate(fading, self._yb)
        done = self.crossfade_hops - self._fade_left  # hops already faded
        w = (done + self._ramp[:, 0]) / self.crossfade_hops  # [hop] 0 -> 1 over the fade
        self._ya += (self._yb - self._ya) * w  # [B, hop]
        self._mix[:, 0] += (fading.mixture - active.mixture) * w
        self._fade_left -= 1
        if not self._fade_left:
            self._active, self._next = fading, None
        return self._ya

    def _estimate(self, slot: _Slot, out: np.ndarray) -> None:
        """out [B, hop] = sum_j weights[j] * the estimate of condition slot j."""
        rows = self.rows
        for j in range(slot.k):
            slot.x[j * rows : (j + 1) * rows] = self._x_rows
        slot.runner.process(slot.x, out=slot.est)  # [k*rows, hop], one batched call
        np.multiply(slot.est[:rows], slot.weights[0], out=out)
        for j in range(1, slot.k):
            if slot.weights[j]:
                out += slot.weights[j] * slot.est[j * rows : (j + 1) * rows]

    def _worker_loop(self) -> None:
        while not self._stop_flag:
            if self._work():
                continue
            select.select([self._wake_r], [], [], IDLE_WAIT_S)
            try:
                os.read(self._wake_r, 4096)
            except BlockingIOError:
                pass

    # -- audio callback -----------------------------------------------------------------

    def _callback(
        self, indata: np.ndarray, outdata: np.ndarray, frames: int, t: Any, status: Any
    ) -> None:
        # NB: runs on PortAudio's thread. Only copies into preallocated buffers and int
        # counters; no allocation of arrays, no logging, no waiting. (The guards allocate
        # only on a block holding bad samples.)
        indata = self._in_guard.clean(indata)
        if status:
            self._count_flags(status)
        self._callbacks += 1
        if frames > self._period:
            self._period = frames  # the worker plans the buffering for it
        if not self._in_ring.write(indata):
            self._in_ring.write_pos += frames  # keep device time; the worker resyncs
        self._dry_ring.force_write(indata)
        if self.inline:
            self._work()
        valid = self._out_ring.read_timed(outdata)
        self._conceal_missing(outdata, valid, frames)
        self._limiter.process(outdata)
        self._mon_in.force_write(indata)
        self._mon_out.force_write(outdata)
        if not self.inline:
            try:
                os.write(self._wake_w, b"\0")
            except BlockingIOError:
                pass

    def _count_flags(self, status: Any) -> None:
        flags = self._flags
        flags[0] += bool(status.input_underflow)
        flags[1] += bool(status.input_overflow)
        flags[2] += bool(status.output_underflow)
        flags[3] += bool(status.output_overflow)

    def _conceal_missing(self, outdata: np.ndarray, valid: int, frames: int) -> None:
        """Conceal output frames [valid:] and fade real output back in (`realtime.conceal`)."""
        lat = self.latency_frames
        dry = self._delayed_dry(frames, lat)
        # before the first plan the output is start-up silence, not a dropout
        self._conceal.process(outdata, dry, valid, count=lat >= 0)

    def _delayed_dry(self, frames: int, lat: int) -> np.ndarray:
        """The input of `frames` frames ago by the steady latency, [frames, C] (a view)."""
        dry = self._dry_block[:frames]
        if 0 <= lat <= self._dry_ring.capacity - frames:
            self._dry_ring._copy_out(self._dry_ring.write_pos - frames - lat, dry)
        else:
            dry.fill(0.0)
        return dry

    # -- streams --------------------------------------------------------------------------

    def start(
        self,
        input_device: int | str | None = None,
        output_device: int | str | None = None,
        blocksize: int = 0,
        output_channels: int | None = None,
        feed: Any = None,
    ) -> None:
        """Open the device stream and start processing.

        `output_channels` above `channels` copies the engine's first channel to the extra
        ones (mono to both sides); `feed` (`realtime.routing.FileFeed`) replaces the input
        device: an output-only stream plays it in real time.
        """
        from livesep.realtime.stream import open_engine_stream

        if self._stream is not None:
            raise LivesepError("engine already started")
        self.reset()
        stream = open_engine_stream(
            self._callback,
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
            self._thread = threading.Thread(target=self._worker_loop, name="livesep-worker")
            self._thread.start()
        self._stream = stream
        self._old_switch = sys.getswitchinterval()
        sys.setswitchinterval(min(self._old_switch, SWITCH_INTERVAL_S))
        stream.start()

    def stop(self) -> None:
        """Stop and close the device stream and the worker (idempotent)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()
            lat = stream.latency
            self._device_latency = tuple(lat) if isinstance(lat, tuple) else (0.0, lat)
            stream.close()
            sys.setswitchinterval(self._old_switch)
        self._stop_flag = True
        if self._thread is not None:
            os.write(self._wake_w, b"\0")
            self._thread.join()
            self._thread = None

    def close(self) -> None:
        self.stop()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._stream is not None

    # -- file-driven mode -----------------------------------------------------------------

    def process(self, audio: np.ndarray, block: int = 256) -> np.ndarray:
        """Run `audio` float32[T, channels] (device rate) through the engine, no device.

        The same callback and worker code run block by block, as fast as the CPU allows.

        Returns:
            float32[T, channels]: the stream output, delayed by `latency_frames`.
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
            self._callback(inp, outb, block, None, None)
            if not self.inline:
                while self._work():
                    pass
            out[start : start + n] = outb[:n]
        return out

    # -- reading --------------------------------------------------------------------------

    @property
    def monitor_capacity(self) -> int:
        return self._mon_in.capacity

    @property
    def monitor_position(self) -> int:
        return self._mon_out.write_pos

    def monitor(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The latest `n` device-rate samples in and out, mono (mean over channels)."""
        if not 0 < n <= self.monitor_capacity:
            raise LivesepError(f"monitor length {n} outside 1..{self.monitor_capacity}")
        buf = np.empty((n, self.channels), np.float32)
        self._mon_in.peek_latest(buf)
        inp = buf.mean(axis=1)
        self._mon_out.peek_latest(buf)
        return inp, buf.mean(axis=1)

    def stats(self) -> EngineStats:
        """A snapshot of counters, timings, latency and levels."""
        med, p99 = self._timing.quantiles()
        hop_s = self.hop / self.model_rate
        dev_in, dev_out = self._device_latencies()
        lat = max(self.latency_frames, 0)
        algo_ms = 1000.0 * self.latency_model / self.model_rate
        res_ms = 1000.0 * self.resample_s
        buf_ms = 1000.0 * (lat - self.delay_frames if lat else 0) / self.device_rate
        dev_ms = 1000.0 * (dev_in + dev_out)
        n = min(int(PEAK_SECONDS * self.device_rate), self.monitor_capacity)
        inp, out = self.monitor(n)
        return EngineStats(
            provider=self.provider,
            device_rate=self.device_rate,
            model_rate=self.model_rate,
            period_frames=self._period,
            callbacks=self._callbacks,
            input_underflows=self._flags[0],
            input_overflows=self._flags[1],
            output_underflows=self._flags[2],
            output_overflows=self._flags[3],
            fallback_frames=self._conceal.frames,
            late_hops=self._late_hops,
            resyncs=max(self._resyncs, 0),
            hops=self._hops,
            rtf_median=med / hop_s,
            rtf_p99=p99 / hop_s,
            algorithmic_ms=algo_ms,
            buffering_ms=buf_ms,
            device_latency_ms=dev_ms,
            latency_ms=(algo_ms + res_ms + buf_ms + dev_ms) if self.latency_frames >= 0 else 0.0,
            input_peak_dbfs=peak_dbfs(inp),
            output_peak_dbfs=peak_dbfs(out),
            query=self._query,
            query_warning=self._warning,
            mode=self._mode,
            wet=self._wet,
            gain_db=self._gain_db,
            bypass=self._bypass,
            error=self._error,
            input_nonfinite=self._in_guard.nonfinite,
            input_clipped=self._in_guard.clipped,
            output_nonfinite=self._limiter.nonfinite,
            limited_frames=self._limiter.limited_frames,
            resample_ms=res_ms,
            fallback_runs=self._conceal.runs,
            skipped_frames=self._skipped,
        )

    _device_latency: tuple[float, float] = (0.0, 0.0)

    def _device_latencies(self) -> tuple[float, float]:
        """(input, output) device latency in seconds as PortAudio reports it."""
        if self._stream is not None:
            lat = self._stream.latency
            self._device_latency = (lat[0], lat[1]) if isinstance(lat, tuple) else (0.0, lat)
        d_in, d_out = float(self._device_latency[0]), float(self._device_latency[1])
        # PipeWire's JACK reports nonsense (hours): an unknown latency counts as 0
        return (d_in if 0.0 <= d_in < 1.0 else 0.0), (d_out if 0.0 <= d_out < 1.0 else 0.0)
