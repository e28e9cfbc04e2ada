"""The real-time engine: device audio in, the described sound extracted or removed, out.

The engine is the controls and the assembly of three parts, each in its own module:
- the device host (`realtime.host.DeviceHost`): the PortAudio callback, the rings, the
  steady timeline (plan, resync, concealment) and the worker step; its stream, worker
  thread and file mode are `realtime.device.DeviceStream`;
- the processing chain (`realtime.chain.Chain`): one lane per path (`realtime.lane`:
  resample, the path's hop, the mixer with its delayed dry signal, resample back): the
  text-queried model (`realtime.model_path`) and, when on and installed, the speech
  expert (`realtime.expert_path`), and the cross-fade between lanes;
- the statistics (`realtime.stats`): counters the audio threads bump, and `stats()`.

Threads: the callback only moves buffers (and, with worker="callback", runs the worker
there); the worker applies control messages between blocks and runs the chain; any other
thread calls the controls and reads `stats()` / `monitor()`. A request is prepared (read,
routed, the film graph run) on the caller's thread or the background query encoder and
crosses to the worker as one reference: switching never allocates on the audio path.

At 48 kHz / 256 with the default bundle the model path is 38.2 ms end to end with
worker="callback" and 48.8 ms with a worker thread (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from livesep.bundle import Bundle, load_bundle
from livesep.errors import LivesepError
from livesep.query import (
    MODES,
    QueryReader,
    Request,
    default_encoder,
    learned_name,
    parse_request,
)
from livesep.realtime.chain import Chain
from livesep.realtime.conceal import FALLBACKS, Concealer
from livesep.realtime.controls import Control, ControlQueue, QueryEncoder
from livesep.realtime.device import DeviceStream
from livesep.realtime.expert_path import ExpertPath
from livesep.realtime.host import RING_SECONDS, DeviceHost
from livesep.realtime.lane import MAX_READ, Lane
from livesep.realtime.mixer import Settings
from livesep.realtime.model_path import ModelPath, RunnerFactory, condition_slots
from livesep.realtime.ring import TimedRing
from livesep.realtime.stats import Counters, EngineStats, snapshot

__all__ = ["Engine", "condition_slots", "default_runner"]

PEAK_SECONDS = 0.1  # window of the peak meters in stats()


def default_runner(bundle: Bundle, batch: int, providers: Any = None, threads: int = 1) -> Any:
    from livesep.runner import StepRunner

    return StepRunner(bundle, providers=providers, threads=threads, batch=batch)


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
        expert: route requests for speech in general ("voice", "remove the speech";
            `livesep.speech_route`) to the speech expert (`livesep.expert`, DeepFilterNet3
            at 48 kHz; the `speech` extra) when it is installed; off or missing, every
            request plays on the model and `stats().expert_note` says why.
        expert_factory: () -> a speech-expert stream (tests inject options).
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
        expert: bool = False,
        expert_factory: Callable[[], Any] | None = None,
        texts: Sequence[str] = (),
    ) -> None:
        self.bundle = b = bundle if isinstance(bundle, Bundle) else load_bundle(Path(bundle))
        if channel_mode not in ("batch", "downmix"):
            raise LivesepError(f"channel_mode {channel_mode!r}: use 'batch' or 'downmix'")
        if worker not in ("thread", "callback"):
            raise LivesepError(f"worker {worker!r}: use 'thread' or 'callback'")
        if fallback not in FALLBACKS:
            raise LivesepError(f"fallback {fallback!r}: use one of {FALLBACKS}")
        if channels < 1 or crossfade_hops < 1:
            raise LivesepError("channels and crossfade_hops must be >= 1")
        self.model_rate = b.sample_rate  # Hz
        self.device_rate = rate = int(device_rate or b.sample_rate)  # Hz
        self.channels = channels
        self.inline = worker == "callback"
        self.hop = b.graph_block("step")  # model samples per step call
        self.latency_model = b.latency_samples  # model samples (algorithmic)
        self.queries = QueryReader(
            b,
            encoder=(lambda: default_encoder(b, torch_free=True)) if encoder is None else encoder,
            snap=snap,
        )
        words = [t for t in texts if learned_name(t) is None]  # "@NAME" needs no encoder
        if words:
            self.queries.embed(words)  # before the runners (see `texts`)
        factory = runner_factory or (lambda bun, n: default_runner(bun, n, providers, threads))
        rows = channels if channel_mode == "batch" else 1  # batch rows through the model
        self.model = ModelPath(b, rows, crossfade_hops, factory)
        self.provider = self.model.provider
        self.settings = Settings()
        self.counters = Counters()
        lanes = {"model": self._lane(self.model, resample_quality)}
        self.expert_path, self.expert_note = self._expert(
            expert, rows, crossfade_hops, expert_factory
        )
        if self.expert_path is not None:
            lanes["expert"] = self._lane(self.expert_path, resample_quality)
        out_ring = TimedRing(int(RING_SECONDS * rate), channels)
        self.chain = Chain(lanes, out_ring, self.counters, crossfade_hops)
        hop_frames = round(self.hop * rate / self.model_rate)  # device frames
        concealer = Concealer(fallback, channels, MAX_READ, hop_frames)
        self.host = DeviceHost(
            self.chain,
            out_ring,
            self.counters,
            rate,
            channels,
            concealer,
            self.inline,
            int(safety_frames),
            self._apply_controls,
        )
        self._encoder = QueryEncoder(self.queries, self.set_request, self._set_error)
        self._router: Any = None  # `livesep.speech_route.SpeechRouter`, made on first use
        self._expert_on = self.expert_path is not None  # `set_expert` turns it off and on
        self._source: tuple[Any, ...] | None = None  # what the current request was read from
        self._controls = ControlQueue()
        self._mode = "extract"
        self._query: str | None = None
        self._warning: str | None = None  # what the model does not know of the query
        self._error: str | None = None
        self.device = DeviceStream(self.host, rate, channels, self.inline)
        self.reset()
        if query is not None:
            self.set_query(query)

    def _lane(self, path: Any, quality: str) -> Lane:
        return Lane(path, self.device_rate, self.channels, quality, self.settings, self.counters)

    @staticmethod
    def _expert(
        on: bool, rows: int, crossfade_hops: int, factory: Callable[[], Any] | None
    ) -> tuple[ExpertPath | None, str | None]:
        """(the expert path, None) when on and installed, else (None, why not)."""
        from livesep import expert

        if not on:
            return None, "speech expert off"
        if not expert.available():
            return None, expert.EXTRA_HINT
        return ExpertPath(rows, crossfade_hops, factory), None

    # -- the timeline, as the host plans it ------------------------------------------------

    @property
    def buffer_frames(self) -> int:
        return self.host.buffer_frames

    @property
    def latency_frames(self) -> int:
        """End-to-end device frames of the path that plays (-1 before the first callback)."""
        return self.host.latency_frames

    @property
    def delay_frames(self) -> int:
        """The playing lane's signal delay at the device rate (path + resamplers)."""
        return self.chain.delay_frames

    @property
    def resample_s(self) -> float:
        return self.chain.playing.resample_s

    def reset(self) -> None:
        """Clear rings, chain state and counters (streams must be stopped)."""
        self.counters.reset()
        self.host.reset()

    # NB: the host's callback and worker step, under the names tests drive them by.
    def _callback(self, indata: Any, outdata: Any, frames: int, t: Any, status: Any) -> None:
        self.host.callback(indata, outdata, frames, t, status)

    def _work(self) -> bool:
        return self.host.work()

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
        # Routing a new text and fresh expert streams take time: off this thread too.
        if self.expert_path is not None or self.queries.needs_encoder(text, mode):
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
        """Play `request` from the next hop on, cross-faded (any thread but the audio one:
        it is routed and prepared here and handed to the worker as one reference)."""
        lane = self.chain.lanes[self.route(request)]
        prepared = lane.path.prepare(request)
        warning = "; ".join(request.warnings()) or None
        if lane.path is self.expert_path:
            warning = None  # the expert reads no captions: the model's warnings do not apply
        self._controls.put(Control("request", (lane, prepared, request.text, warning)))

    def route(self, request: Request | str) -> str:
        """The path `request` plays on here: "expert" when the expert is on and installed
        and every sound it names is speech in general (`is_speech`), else "model"."""
        on = self.expert_path is not None and self._expert_on
        return "expert" if on and self.is_speech(request) else "model"

    def is_speech(self, request: Request | str) -> bool:
        """Whether every sound `request` names is speech in general (`livesep.speech_route`;
        decided whether or not the expert is on, so a host can say what it would add)."""
        if self._router is None:
            from livesep.speech_route import MINILM_NAMES, SpeechRouter

            minilm = self.bundle.encoder_name in MINILM_NAMES
            self._router = SpeechRouter(self.queries.encoder if minilm else None)
        return bool(self._router.route(request) == "expert")

    def set_expert(self, on: bool) -> None:
        """Turn the speech expert on or off (it must have been made: `expert=True` and the
        extra installed); the current query is routed again and cross-fades."""
        if on and self.expert_path is None:
            raise LivesepError(f"the speech expert is not available: {self.expert_note}")
        self._expert_on = bool(on)
        self._reread()

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

    def _apply_controls(self) -> None:
        """Worker, between blocks: apply the pending messages (references and floats)."""
        while (msg := self._controls.get()) is not None:
            if msg.kind == "request":
                lane, prepared, self._query, self._warning = msg.value
                self.chain.request(lane, prepared)
            elif msg.kind == "wet":
                self.settings.wet = msg.value
            elif msg.kind == "gain_db":
                self.settings.gain_db = msg.value
            elif msg.kind == "bypass":
                self.settings.bypass = msg.value

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
        if self.device.running:
            raise LivesepError("engine already started")
        self.reset()
        self.device.start(input_device, output_device, blocksize, output_channels, feed)

    def stop(self) -> None:
        """Stop and close the device stream and the worker (idempotent)."""
        self.device.stop()

    def close(self) -> None:
        self.stop()
        self.host.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self.device.running

    def process(self, audio: np.ndarray, block: int = 256) -> np.ndarray:
        """Run `audio` float32[T, channels] (device rate) through the engine, no device.

        The same callback and worker code run block by block, as fast as the CPU allows.

        Returns:
            float32[T, channels]: the stream output, delayed by `latency_frames`.
        """
        return self.device.process(audio, block)

    # -- reading --------------------------------------------------------------------------

    @property
    def monitor_capacity(self) -> int:
        return self.host.mon_in.capacity

    @property
    def monitor_position(self) -> int:
        return self.host.mon_out.write_pos

    def monitor(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The latest `n` device-rate samples in and out, mono (mean over channels)."""
        if not 0 < n <= self.monitor_capacity:
            raise LivesepError(f"monitor length {n} outside 1..{self.monitor_capacity}")
        buf = np.empty((n, self.channels), np.float32)
        self.host.mon_in.peek_latest(buf)
        inp = buf.mean(axis=1)
        self.host.mon_out.peek_latest(buf)
        return inp, buf.mean(axis=1)

    def stats(self) -> EngineStats:
        """A snapshot of counters, timings, latency and levels (`realtime.stats.snapshot`)."""
        n = min(int(PEAK_SECONDS * self.device_rate), self.monitor_capacity)
        return snapshot(
            self.counters,
            self.host,
            self.chain.playing,
            self.device.latencies(),
            self.monitor(n),
            provider=self.provider,
            model_rate=self.model_rate,
            query=self._query,
            query_warning=self._warning,
            mode=self._mode,
            wet=self.settings.wet,
            gain_db=self.settings.gain_db,
            bypass=self.settings.bypass,
            error=self._error,
            expert=self.expert_path.label if self.expert_path and self._expert_on else None,
            expert_note=self._expert_note(),
        )

    def _expert_note(self) -> str | None:
        """Why speech queries do not go to the expert (None when they do)."""
        if self.expert_path is None:
            return self.expert_note  # off from the start, or the extra is missing
        return None if self._expert_on else "speech expert off"
