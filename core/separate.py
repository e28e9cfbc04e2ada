"""Offline separation of any length at constant memory.

Signal path for one input (arrays are [C, T], channels first):

    blocks at the input rate -> soxr stream to the model rate -> engine -> soxr stream
    back -> (remove: mixture - target) -> one output per query, written atomically

Every channel of every query is one batch row (B = queries x channels, row q*C + c), so
several queries cost one pass. Two engines, one interface (`push(x[C, n]) -> y[B, m]`,
`finish() -> y[B, rest]`, output aligned with the input sample for sample):

- `StepEngine`: a streaming bundle's chunk (or step) graph through `StepRunner`. The graph
  delays its output by the declared latency, so the first `latency` output samples are
  dropped and the end is flushed with zeros.
- `WindowEngine`: a non-causal model (a bundle's offline.onnx, or the official ResUNet30
  checkpoint through torch) over overlapping windows joined by linear cross-fades with an
  explicit, asserted normaliser. An input shorter than a window is one window of its own
  length (no padding to a fixed size, so short inputs never come back silent).

Memory is bounded by the read block, one graph block and one window, whatever the length.

The module is callable: `livesep.separate(source, queries, ...)` is `separate(...)` below.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from livesep.audio import (
    READ_BLOCK,
    AtomicWriter,
    AudioReader,
    StreamResampler,
    as_channels_first,
    check_output,
)
from livesep.bundle import Bundle, default_bundle_path, load_bundle
from livesep.errors import AudioError, BundleError, QueryError
from livesep.query import QueryReader, Request
from livesep.runner import OfflineRunner, StepRunner

Mode = Literal["extract", "remove"]
MODES = ("extract", "remove")
WINDOW_S = 10.0  # seconds per window of a non-causal model (the official training clips are 5 s)
OVERLAP_S = 2.0  # seconds of cross-fade between consecutive windows
ARRAY_BLOCK = READ_BLOCK  # frames per block when separating an in-memory array

# A non-causal separator: (mixture[B, T], embedding[B, D]) -> estimate[B, T].
WindowFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
Progress = Callable[[int], None]  # called with the number of input frames just consumed


# ---------------------------------------------------------------------------------------
# Small FIFO of [R, n] blocks


class _Fifo:
    """Concatenating queue of float32 [R, n] blocks along time."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self._parts: list[np.ndarray] = []
        self.size = 0

    def put(self, block: np.ndarray) -> None:
        if block.shape[-1]:
            self._parts.append(block)
            self.size += block.shape[-1]

    def take(self, n: int) -> np.ndarray:
        """Remove and return the first n samples [R, n] (n <= size)."""
        data = self.peek(n)
        rest = self._joined()[:, n:]
        self._parts = [rest] if rest.shape[-1] else []
        self.size -= n
        return data

    def peek(self, n: int) -> np.ndarray:
        return self._joined()[:, :n]

    def _joined(self) -> np.ndarray:
        if len(self._parts) != 1:
            joined = np.concatenate(self._parts, axis=1) if self._parts else _empty(self.rows)
            self._parts = [joined] if joined.shape[-1] else []
            return joined
        return self._parts[0]


def _empty(rows: int) -> np.ndarray:
    return np.zeros((rows, 0), np.float32)


# ---------------------------------------------------------------------------------------
# Engines


class HopRunner(Protocol):
    """What `StepEngine` drives: a `StepRunner`, or the speech expert's `ExpertRunner`."""

    @property
    def batch(self) -> int: ...  # rows

    @property
    def block(self) -> int: ...  # samples per call

    @property
    def latency(self) -> int: ...  # samples the output lags the input

    def process(self, audio: np.ndarray) -> np.ndarray: ...  # [B, k*block] -> [B, k*block]

    def reset(self) -> None: ...


class StepEngine:
    """A streaming graph over a whole signal, latency compensated.

    Args:
        runner: a `StepRunner` of batch Q*C, already conditioned (`set_embedding`), or
            any `HopRunner`.
        channels: C; each push is [C, n] and is repeated for the Q queries.
    """

    def __init__(self, runner: HopRunner, channels: int) -> None:
        self.runner = runner
        self.channels = channels
        self.queries = runner.batch // channels
        self.block = runner.block  # samples per graph call
        self.latency = runner.latency  # samples to drop at the start
        self._pending = _Fifo(channels)
        self._to_drop = self.latency
        self._n_in = 0  # real samples pushed
        self._n_out = 0  # aligned samples returned
        runner.reset()

    def push(self, x: np.ndarray) -> np.ndarray:
        """Feed [C, n]; returns the aligned output available so far [B, m]."""
        self._n_in += x.shape[-1]
        self._pending.put(x)
        whole = self._pending.size // self.block * self.block
        if whole == 0:
            return _empty(self.runner.batch)
        return self._run(self._pending.take(whole))

    def finish(self) -> np.ndarray:
        """Flush: zeros through the graph until every input sample has come out."""
        fed = self._n_in - self._pending.size
        needed = self._n_in + self.latency  # samples the graph must see in total
        padded = -(-needed // self.block) * self.block  # ceil to whole blocks
        rest = self._pending.take(self._pending.size)  # [C, r], r < block
        tail = np.zeros((self.channels, padded - fed), np.float32)
        tail[:, : rest.shape[1]] = rest
        return self._run(tail)

    def _run(self, x: np.ndarray) -> np.ndarray:
        y = self.runner.process(np.tile(x, (self.queries, 1)))  # [B, k*block], row q*C + c
        drop = min(self._to_drop, y.shape[1])
        self._to_drop -= drop
        y = y[:, drop : drop + self._n_in - self._n_out]  # never past the real input
        self._n_out += y.shape[1]
        return y


def fade_weights(length: int, overlap: int) -> np.ndarray:
    """Trapezoid window [length]: linear ramps of `overlap` samples at both ends, 1 between.

    The ramps of two windows that overlap by `overlap` samples sum to exactly 1, and every
    weight is > 0 (ramp values (i + 0.5) / overlap), so the normaliser never vanishes.
    """
    i = np.arange(length, dtype=np.float32)
    if overlap <= 0:
        return np.ones(length, np.float32)
    edge = np.minimum(i + 0.5, length - i - 0.5)  # distance to the nearer end
    return np.minimum(1.0, edge / overlap).astype(np.float32)


class WindowEngine:
    """A non-causal model over overlapping windows with cross-faded joins.

    Args:
        fn: (mixture[B, T], embedding[B, D]) -> estimate[B, T].
        embedding: [B, D] rows q*C + c.
        channels: C.
        window: samples per window.
        overlap: samples shared by consecutive windows (< window).
        min_length: shortest input `fn` accepts; shorter windows are zero-padded to it.
    """

    def __init__(
        self,
        fn: WindowFn,
        embedding: np.ndarray,
        channels: int,
        window: int,
        overlap: int,
        min_length: int = 1,
    ) -> None:
        if not 0 <= overlap < window:
            raise ValueError(f"overlap {overlap} must be in [0, window {window})")
        self.fn = fn
        self.embedding = embedding
        self.channels = channels
        self.queries = embedding.shape[0] // channels
        self.window, self.overlap, self.stride = window, overlap, window - overlap
        self.min_length = min_length
        self._buf = _Fifo(channels)
        self._carry = _empty(embedding.shape[0])  # weighted sum over the next overlap [B, O]
        self._carry_w = np.zeros(0, np.float32)  # its weight sum [O]

    def push(self, x: np.ndarray) -> np.ndarray:
        self._buf.put(x)
        out = []
        while self._buf.size >= self.window:
            out.append(self._window(self._buf.peek(self.window), last=False))
            self._buf.take(self.stride)
        return np.concatenate(out, axis=1) if out else _empty(self.embedding.shape[0])

    def finish(self) -> np.ndarray:
        rest = self._buf.take(self._buf.size)
        if rest.shape[1] == self._carry.shape[1] and rest.shape[1] > 0:
            return self._normalise(self._carry, self._carry_w)  # already covered
        if rest.shape[1] == 0:
            return _empty(self.embedding.shape[0])
        return self._window(rest, last=True)

    def _window(self, x: np.ndarray, last: bool) -> np.ndarray:
        """Estimate one window [C, n]; return the samples no later window touches."""
        n = x.shape[1]
        y = self._estimate(x) * fade_weights(n, self.overlap)  # [B, n]
        w = fade_weights(n, self.overlap)  # [n]
        o = self._carry.shape[1]
        y[:, :o] += self._carry
        w[:o] += self._carry_w
        done = n if last else self.stride
        self._carry, self._carry_w = y[:, done:], w[done:]
        return self._normalise(y[:, :done], w[:done])

    def _estimate(self, x: np.ndarray) -> np.ndarray:
        n = x.shape[1]
        if n < self.min_length:
            x = np.pad(x, ((0, 0), (0, self.min_length - n)))
        y = self.fn(np.tile(x, (self.queries, 1)), self.embedding)  # [B, max(n, min)]
        return np.asarray(y, dtype=np.float32)[:, :n]

    @staticmethod
    def _normalise(y: np.ndarray, w: np.ndarray) -> np.ndarray:
        assert w.size == 0 or w.min() > 0, "overlap-add normaliser vanished"
        return y / w


# ---------------------------------------------------------------------------------------
# The pipeline: rates, alignment, remove mode


class Pipeline:
    """Input blocks [C, n] at `rate` -> per-request outputs [Q, C, m] at `rate`, aligned.

    The engine estimates every active sound of every request (rows (s*C + c), s counting
    the active sounds of all requests in order); each request's output is the signed sum
    of those estimates, plus the mixture when it keeps nothing (`livesep.query.Request`).
    The total output length equals the total input length exactly.
    """

    def __init__(
        self,
        make_engine: Callable[[], StepEngine | WindowEngine],
        rate: int,
        model_rate: int,
        channels: int,
        requests: Sequence[Request],
    ) -> None:
        self.engine = make_engine()
        self.channels, self.queries = channels, len(requests)
        self.mix = np.array([r.mixture for r in requests], np.float32)  # [Q] mixture weight
        self.combine = _combination(requests, channels)  # [Q*C, S*C] or None (identity)
        self.down = StreamResampler(rate, model_rate, channels)
        self.up = StreamResampler(model_rate, rate, self.queries * channels)
        self.mixture = _Fifo(channels)  # input kept until its output is ready (remove)
        self.n_in = 0
        self.n_out = 0

    def push(self, x: np.ndarray) -> np.ndarray:
        self.n_in += x.shape[1]
        if self.mix.any():
            self.mixture.put(x)
        return self._emit(self.up.push(self._combined(self.engine.push(self.down.push(x)))))

    def finish(self) -> np.ndarray:
        tail = self.engine.push(self.down.flush())
        tail = self._combined(np.concatenate([tail, self.engine.finish()], axis=1))
        y = np.concatenate([self.up.push(tail), self.up.flush()], axis=1)
        missing = self.n_in - self.n_out - y.shape[1]
        if missing > 0:  # soxr rounding can leave a sample short; the tail is silence
            y = np.pad(y, ((0, 0), (0, missing)))
        return self._emit(y)

    def _combined(self, y: np.ndarray) -> np.ndarray:
        """Per-sound estimates [S*C, m] -> per-request sums [Q*C, m] (model rate)."""
        return y if self.combine is None else self.combine @ y

    def _emit(self, y: np.ndarray) -> np.ndarray:
        y = y[:, : self.n_in - self.n_out]  # [Q*C, m]
        self.n_out += y.shape[1]
        out = y.reshape(self.queries, self.channels, -1)  # [Q, C, m]
        if self.mix.any():
            mixture = self.mixture.take(out.shape[-1])  # [C, m]
            out += self.mix[:, None, None] * mixture[None]
        return out


def _combination(requests: Sequence[Request], channels: int) -> np.ndarray | None:
    """The matrix [Q*C, S*C] that sums each request's signed sound estimates per channel,
    or None when every request is one kept sound (the estimates are the outputs)."""
    if all(len(r.active) == 1 and r.active[0].keep for r in requests):
        return None
    weights = [r.weights for r in requests]  # [K_q] each
    total = sum(w.size for w in weights)
    matrix = np.zeros((len(requests), total), np.float32)  # [Q, S]
    start = 0
    for q, w in enumerate(weights):
        matrix[q, start : start + w.size] = w
        start += w.size
    return np.kron(matrix, np.eye(channels, dtype=np.float32))  # [Q*C, S*C]


class _Merge:
    """Outputs of pipelines over the same input, each for some of the requests, back into
    one [Q, C, m] block per push in request order (as much as every pipeline has made)."""

    def __init__(self, groups: list[list[int]], channels: int) -> None:
        self.groups, self.channels = groups, channels
        self.queries = sum(len(g) for g in groups)
        self.fifos = [_Fifo(len(g) * channels) for g in groups]

    def push(self, parts: list[np.ndarray]) -> np.ndarray:
        """`parts[i]`: [len(groups[i]), C, m_i] -> [Q, C, n], n = what all have ready."""
        if len(self.groups) == 1:
            return parts[0]
        for fifo, part in zip(self.fifos, parts, strict=True):
            fifo.put(part.reshape(-1, part.shape[-1]))  # [Q_i*C, m_i]
        n = min(fifo.size for fifo in self.fifos)
        out = np.empty((self.queries, self.channels, n), np.float32)  # [Q, C, n]
        for group, fifo in zip(self.groups, self.fifos, strict=True):
            out[group] = fifo.take(n).reshape(len(group), self.channels, n)
        return out


# ---------------------------------------------------------------------------------------
# The separator: model + text, loaded once, reused over many inputs


@dataclass(frozen=True)
class WindowSettings:
    """Runtime knobs of windowed (non-causal) separation."""

    window_s: float = WINDOW_S  # seconds per window
    overlap_s: float = OVERLAP_S  # seconds of cross-fade between windows


class Separator:
    """A separation model and its text encoder, loaded once for many inputs.

    Exactly one of `bundle` and `checkpoint` names the model; neither means the default
    bundle (models/default/).

    Args:
        bundle: a `Bundle` or bundle directory (streaming, or offline-only).
        checkpoint: an official AudioSep (ResUNet30) Lightning checkpoint; needs torch.
        clap_checkpoint: CLAP text-encoder checkpoint for `checkpoint` (default: the
            AudioSep checkpoint itself, which carries the CLAP text weights).
        clap_tokenizer: folder with RoBERTa's `vocab.json` + `merges.txt` for CLAP
            (default: "roberta-base" from the local Hugging Face cache).
        encoder: a ready text encoder (anything with `name`, `dim`, `embed`), e.g. a test
            stand-in; default: the bundle's (`livesep.query.default_encoder`), built on the
            first query the bundle has not cached.
        providers, threads: ONNX Runtime settings (see `livesep.runner`).
        window: windowing of non-causal models.
        snap: snap queries onto the bundle's training captions (`livesep.query`).
        expert: send requests for speech in general ("voice", "remove the speech") to the
            speech expert (`livesep.expert`, the `speech` extra) when it is installed
            (`livesep.speech_route`); the other requests go to the model as before.

    Attributes:
        queries: the `QueryReader` every query goes through.
    """

    def __init__(
        self,
        bundle: Bundle | str | os.PathLike[str] | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
        clap_checkpoint: str | os.PathLike[str] | None = None,
        clap_tokenizer: str | os.PathLike[str] | None = None,
        encoder: Any = None,
        providers: Sequence[str] | None = None,
        threads: int = 1,
        window: WindowSettings = WindowSettings(),
        snap: bool = True,
        expert: bool = False,
    ) -> None:
        if bundle is not None and checkpoint is not None:
            raise BundleError("give a bundle or a checkpoint, not both")
        self.providers, self.threads, self.window = providers, threads, window
        self.bundle: Bundle | None = None
        self._runners: dict[int, StepRunner] = {}
        self._window_fn: WindowFn | None = None
        self._clap_tokenizer = clap_tokenizer
        self.expert = expert
        self._router: Any = None
        if checkpoint is not None:
            self._load_checkpoint(Path(checkpoint), clap_checkpoint)
        else:
            self._load_bundle(bundle)
        self.queries = QueryReader(
            self.bundle,
            encoder=self._make_encoder if encoder is None else encoder,
            dim=self.encoder_dim,
            snap=snap,
        )

    # -- loading ------------------------------------------------------------------------

    def _load_bundle(self, bundle: Bundle | str | os.PathLike[str] | None) -> None:
        if bundle is None:
            bundle = default_bundle_path()
        self.bundle = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
        self.model_rate = self.bundle.sample_rate
        self.min_length = self.bundle.n_fft
        self.streaming = self.bundle.has_graph("step")
        self.encoder_name, self.encoder_dim = self.bundle.encoder_name, self.bundle.encoder_dim
        if not self.streaming:
            self._window_fn = OfflineRunner(self.bundle, self.providers, self.threads)
        self.description = f"bundle {self.bundle.name} ({self.bundle.path})"

    def _load_checkpoint(self, path: Path, clap: str | os.PathLike[str] | None) -> None:
        from livesep.model import load_audiosep_checkpoint  # torch: only on this path

        model = load_audiosep_checkpoint(path)
        self.model_rate = model.config.sample_rate
        self.min_length = model.config.n_fft
        self.streaming = False
        self.encoder_name, self.encoder_dim = "clap", model.config.condition_size
        self._clap_checkpoint = Path(clap) if clap is not None else path
        self._window_fn = _torch_window_fn(model)
        self.description = f"checkpoint {path}"

    def _make_encoder(self) -> Any:
        """The text encoder for texts the bundle has not cached (built on first use)."""
        from livesep.query import default_encoder
        from livesep.text import get_encoder

        if self.bundle is None:  # the official checkpoint: CLAP's text branch
            return get_encoder(
                "clap", checkpoint=self._clap_checkpoint, tokenizer_dir=self._clap_tokenizer
            )
        return default_encoder(self.bundle)

    # -- text ---------------------------------------------------------------------------

    def read(self, query: str | Request, mode: Mode = "extract") -> Request:
        """The request a query asks for (`livesep.query`): sounds, readings, warnings."""
        if isinstance(query, Request):
            return query
        return self.queries.read(query, mode)

    def route(self, query: str | Request) -> str:
        """Where a query goes: "expert" when every sound it names is speech in general,
        else "model" (`livesep.speech_route`).

        Decided whether or not the expert is on or installed (`uses_expert` says whether
        it will run), so a host can say what the `speech` extra would add.
        """
        if self._router is None:
            from livesep.speech_route import MINILM_NAMES, SpeechRouter

            minilm = self.encoder_name in MINILM_NAMES
            self._router = SpeechRouter(embed=self.queries.embed if minilm else None)
        return str(self._router.route(query))

    def uses_expert(self, query: str | Request) -> bool:
        """Whether `query` runs on the speech expert here (on, installed and routed)."""
        from livesep import expert

        return self.expert and expert.available() and self.route(query) == "expert"

    # -- engines ------------------------------------------------------------------------

    def _engine(self, conditions: np.ndarray, channels: int) -> StepEngine | WindowEngine:
        rows = np.repeat(conditions, channels, axis=0)  # [S*C, D], row s*C + c
        if self.streaming:
            return StepEngine(self._runner(rows.shape[0], rows), channels)
        assert self._window_fn is not None
        window = round(self.window.window_s * self.model_rate)
        overlap = round(self.window.overlap_s * self.model_rate)
        return WindowEngine(self._window_fn, rows, channels, window, overlap, self.min_length)

    def _runner(self, batch: int, rows: np.ndarray) -> StepRunner:
        assert self.bundle is not None
        if batch not in self._runners:  # one runner per batch size, kept for later inputs
            graph = "chunk" if self.bundle.has_graph("chunk") else "step"
            self._runners[batch] = StepRunner(
                self.bundle, self.providers, self.threads, graph=graph, batch=batch
            )
        runner = self._runners[batch]
        runner.set_embedding(rows)
        return runner

    # -- separation ---------------------------------------------------------------------

    def stream(
        self,
        blocks: Iterable[np.ndarray],
        sample_rate: int,
        channels: int,
        queries: Sequence[str | Request],
        mode: Mode = "extract",
    ) -> Iterator[np.ndarray]:
        """Separate a signal given as [C, n] blocks; yields [Q, C, m] output blocks.

        The outputs concatenated along time have the input's length and rate. Each query
        is read by `livesep.query`: "voice, not wind" keeps the voice and removes the wind,
        "remove the dog" removes the dog whatever `mode` says; `mode` "remove" removes
        what a query that removes nothing names.
        """
        if not queries:
            raise QueryError("no query given: describe the sound to separate")
        requests = [self.read(q, mode) for q in queries]
        on_expert = [self.uses_expert(r) for r in requests]
        groups = [[q for q, e in enumerate(on_expert) if e == routed] for routed in (False, True)]
        pipes = [
            self._pipeline([requests[q] for q in group], sample_rate, channels, routed)
            for routed, group in zip((False, True), groups, strict=True)
            if group
        ]
        merge = _Merge([g for g in groups if g], channels)  # [model requests, expert ones]
        for block in blocks:
            yield merge.push([pipe.push(block) for pipe in pipes])
        yield merge.push([pipe.finish() for pipe in pipes])

    def _pipeline(
        self, requests: list[Request], rate: int, channels: int, expert: bool
    ) -> Pipeline:
        """The model's pipeline for `requests`, or the speech expert's (every sound of an
        expert request gets its one estimate: "remove the speech" = mixture - estimate)."""
        if expert:
            from livesep.expert import RATE, ExpertRunner

            runner = ExpertRunner(channels, sum(len(r.active) for r in requests))
            return Pipeline(lambda: StepEngine(runner, channels), rate, RATE, channels, requests)
        conditions = np.concatenate([r.conditions for r in requests])  # [S, D]
        return Pipeline(
            lambda: self._engine(conditions, channels), rate, self.model_rate, channels, requests
        )

    def separate_array(
        self,
        audio: np.ndarray,
        sample_rate: int,
        queries: str | Request | Sequence[str | Request],
        mode: Mode = "extract",
    ) -> list[np.ndarray]:
        """Separate an in-memory signal.

        Args:
            audio: [T] or [C, T] at `sample_rate` Hz.
            queries: one query or several (texts, or requests from `read`).
            mode: "extract" the described sound or "remove" it (mixture - target).

        Returns:
            One float32 array per query, shaped like `audio`.
        """
        x = as_channels_first(audio, sample_rate)  # [C, T]
        texts = [queries] if isinstance(queries, str | Request) else list(queries)
        blocks = (x[:, i : i + ARRAY_BLOCK] for i in range(0, x.shape[1], ARRAY_BLOCK))
        parts = list(self.stream(blocks, sample_rate, x.shape[0], texts, mode))
        y = np.concatenate(parts, axis=2)  # [Q, C, T]
        return [yq[0] if np.ndim(audio) == 1 else yq for yq in y]

    def separate_file(
        self,
        input: str | os.PathLike[str],
        queries: str | Request | Sequence[str | Request],
        outputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        mode: Mode = "extract",
        overwrite: bool = False,
        progress: Progress | None = None,
    ) -> list[Path]:
        """Separate a file into one output file per query, atomically.

        Args:
            input: audio file (WAV, FLAC, OGG, MP3, ...).
            queries: one query or several.
            outputs: one output path per query (format from the extension).
            mode: "extract" or "remove".
            overwrite: replace existing outputs (never the input).
            progress: called with the number of input frames consumed, block by block.

        Returns:
            The output paths. On any error none of them is created or changed.
        """
        texts = [queries] if isinstance(queries, str | Request) else list(queries)
        paths = [outputs] if isinstance(outputs, str | os.PathLike) else list(outputs)
        if len(paths) != len(texts):
            raise QueryError(f"{len(texts)} queries but {len(paths)} outputs")
        if len({Path(p).resolve() for p in paths}) != len(paths):
            raise AudioError(f"{input}: two queries write the same output")
        with ExitStack() as stack:
            reader = stack.enter_context(AudioReader(input))
            for path in paths:
                check_output(path, overwrite, protect=[input])
            requests = [self.read(q, mode) for q in texts]  # bad queries fail before writing
            writers = [
                stack.enter_context(
                    AtomicWriter(p, reader.sample_rate, reader.channels, overwrite, [input])
                )
                for p in paths
            ]
            blocks = _counted(reader.blocks(), progress)
            for out in self.stream(blocks, reader.sample_rate, reader.channels, requests):
                for writer, block in zip(writers, out, strict=True):
                    writer.write(block)
            for writer in writers:
                writer.close_temp()
            return [writer.commit() for writer in writers]


def _counted(blocks: Iterable[np.ndarray], progress: Progress | None) -> Iterator[np.ndarray]:
    for block in blocks:
        yield block
        if progress is not None:
            progress(block.shape[-1])


def _torch_window_fn(model: Any) -> WindowFn:
    """Wrap a torch separator as a numpy (mixture[B, T], embedding[B, D]) -> [B, T]."""
    import torch

    def fn(mixture: np.ndarray, embedding: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out = model(torch.from_numpy(mixture), torch.from_numpy(embedding))
        return out.numpy()

    return fn


# ---------------------------------------------------------------------------------------
# One-call API


def _separator(model: Separator | Bundle | str | os.PathLike[str] | None) -> Separator:
    return model if isinstance(model, Separator) else Separator(bundle=model)


def separate_array(
    audio: np.ndarray,
    sample_rate: int,
    queries: str | Sequence[str],
    mode: Mode = "extract",
    model: Separator | Bundle | str | os.PathLike[str] | None = None,
) -> list[np.ndarray]:
    """Separate an array [T] or [C, T]; one array shaped like `audio` per query.

    `model` is a `Separator`, a bundle (or its path), or None for the default bundle.
    """
    return _separator(model).separate_array(audio, sample_rate, queries, mode)


def separate_file(
    input: str | os.PathLike[str],
    queries: str | Sequence[str],
    outputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    mode: Mode = "extract",
    overwrite: bool = False,
    model: Separator | Bundle | str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Separate a file; one output file per query (see `Separator.separate_file`)."""
    return _separator(model).separate_file(input, queries, outputs, mode, overwrite)


def separate(
    source: np.ndarray | str | os.PathLike[str],
    queries: str | Sequence[str],
    outputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    *,
    sample_rate: int | None = None,
    mode: Mode = "extract",
    overwrite: bool = False,
    model: Separator | Bundle | str | os.PathLike[str] | None = None,
) -> list[np.ndarray] | list[Path]:
    """`livesep.separate(...)`: an array (with `sample_rate`) or a file (with `outputs`).

    Returns:
        Arrays shaped like the input (array source) or the written paths (file source).
    """
    if isinstance(source, np.ndarray):
        if sample_rate is None:
            raise AudioError("array: separate() needs sample_rate for an array input")
        return separate_array(source, sample_rate, queries, mode, model)
    if outputs is None:
        raise AudioError(f"{source}: separate() needs outputs for a file input")
    return separate_file(source, queries, outputs, mode, overwrite, model)


class _CallableModule(types.ModuleType):
    """Makes `livesep.separate(...)` work whether the name resolves to this module or not."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return separate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
