"""Run a bundle's ONNX graphs with ONNX Runtime (numpy + onnxruntime only, no torch).

`StepRunner` owns one session of the step (or chunk) graph, the state tensors and the
current conditioning; `process` runs any whole number of graph blocks, carrying state from
call to call. `OfflineRunner` runs a bundle's non-causal `offline` graph on whole windows.

Execution provider: CUDA when onnxruntime offers it, else CPU; `provider` says which one is
in use. Asking for CUDA explicitly when it is not there is an error, never a silent CPU run.

State handling: two preallocated sets of state buffers; a call reads set `p` and writes set
`1 - p`, then `p` flips, so no call allocates. With IO binding (default) the audio, cond,
out and state buffers are bound once and a call is `copyto` + `run_with_iobinding` + `copyto`.
A streaming host that owns no hop buffers of its own writes the bound input `audio` in
place, calls `process(runner.audio, out=runner.out)` (no copy either way) and reads `out`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import onnxruntime as ort

from livesep.bundle import Bundle, load_bundle
from livesep.errors import LivesepError

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
_ALIASES = {"cpu": CPU, "cuda": CUDA, "gpu": CUDA}


def resolve_providers(providers: Sequence[str] | None) -> tuple[list[str], bool]:
    """Provider list for a session and whether CUDA was asked for explicitly.

    None picks CUDA (then CPU) when onnxruntime offers CUDA, else CPU alone. Names may be
    ORT names or the aliases "cpu"/"cuda".

    Raises:
        LivesepError: CUDA (or another provider) was requested and is not available.
    """
    available = ort.get_available_providers()
    if providers is None:
        return ([CUDA, CPU] if CUDA in available else [CPU]), False
    wanted = [_ALIASES.get(p.lower(), p) for p in providers]
    for p in wanted:
        if p not in available:
            raise LivesepError(
                f"execution provider {p} requested but onnxruntime offers {available}"
            )
    return wanted, CUDA in wanted


def make_session(
    path: str | os.PathLike[str], providers: Sequence[str] | None = None, threads: int = 1
) -> tuple[ort.InferenceSession, str]:
    """An ORT session with graph optimisation ALL and `threads` intra-op threads.

    Returns:
        (session, provider actually used first).

    Raises:
        LivesepError: CUDA was requested explicitly but the session did not get it.
    """
    wanted, strict_cuda = resolve_providers(providers)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3  # errors only: ORT warns about unused initialisers etc.
    session = ort.InferenceSession(str(path), sess_options=opts, providers=wanted)
    used = session.get_providers()[0]
    # onnxruntime-gpu without working CUDA libraries logs an error and runs on CPU.
    if strict_cuda and used != CUDA:
        raise LivesepError(f"{path}: CUDA requested but the session runs on {used}")
    return session, used


class StepRunner:
    """Stateful runner of a bundle's step or chunk graph for a fixed batch size.

    Args:
        bundle: a `Bundle` or a bundle directory.
        providers: None (CUDA when available, else CPU) or ORT provider names / aliases.
        threads: ORT intra-op threads (1 on these 2-core machines; see MACHINE.md).
        graph: "step" or "chunk".
        batch: batch size B (queries x channels), fixed for the runner's life.
        io_binding: bind preallocated buffers once (False: plain `session.run`).
    """

    def __init__(
        self,
        bundle: Bundle | str | os.PathLike[str],
        providers: Sequence[str] | None = None,
        threads: int = 1,
        graph: str = "step",
        batch: int = 1,
        io_binding: bool = True,
    ) -> None:
        self.bundle = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        self.graph = graph
        self.batch = batch
        self.block = self.bundle.graph_block(graph)  # samples per graph call
        self.session, self.provider = make_session(
            self.bundle.graph_path(graph), providers, threads
        )
        self.film, _ = make_session(self.bundle.graph_path("film"), providers, threads)
        self.device = "cuda" if self.provider == CUDA else "cpu"
        self._audio = np.zeros((batch, self.block), np.float32)  # [B, L] bound input
        self._out = np.zeros((batch, self.block), np.float32)  # [B, L] bound output
        self.audio = self._audio  # the hop buffers, public: a host writes / reads them
        self.out = self._out
        self._cond = np.zeros((batch, self.bundle.cond_dim), np.float32)  # [B, C]
        self._has_cond = False
        self._names = [s.name for s in self.bundle.states]
        self._sets = [self._alloc_states(), self._alloc_states()]  # two sets, swapped
        self._parity = 0  # which set holds the current state
        self._keep: list[ort.OrtValue] = []  # OrtValues wrapping bound numpy buffers
        self._bindings = [self._bind(0), self._bind(1)] if io_binding else None
        self.reset()

    @property
    def latency(self) -> int:
        """Algorithmic latency in samples (the manifest's `latency_samples`)."""
        return self.bundle.latency_samples

    @property
    def sample_rate(self) -> int:
        return self.bundle.sample_rate

    # -- buffers ------------------------------------------------------------------------

    def _alloc_states(self) -> list[Any]:
        """One set of state buffers: numpy arrays on CPU, OrtValues on the GPU."""
        shapes = [(self.batch, *s.shape) for s in self.bundle.states]
        if self.device == "cpu":
            return [np.zeros(shape, np.float32) for shape in shapes]
        return [
            ort.OrtValue.ortvalue_from_shape_and_type(shape, np.float32, self.device, 0)
            for shape in shapes
        ]

    def _ortvalue(self, buf: Any) -> ort.OrtValue:
        if isinstance(buf, ort.OrtValue):
            return buf
        value = ort.OrtValue.ortvalue_from_numpy(buf)  # shares the numpy memory on CPU
        self._keep.append(value)
        return value

    def _bind(self, parity: int) -> ort.IOBinding:
        """Binding that reads state set `parity` and writes set `1 - parity`."""
        binding = self.session.io_binding()
        for name, arr in (("audio", self._audio), ("cond", self._cond)):
            binding.bind_input(name, "cpu", 0, np.float32, list(arr.shape), arr.ctypes.data)
        out = self._out
        binding.bind_output("out", "cpu", 0, np.float32, list(out.shape), out.ctypes.data)
        src, dst = self._sets[parity], self._sets[1 - parity]
        for name, s_in, s_out in zip(self._names, src, dst, strict=True):
            binding.bind_ortvalue_input(name, self._ortvalue(s_in))
            binding.bind_ortvalue_output(f"{name}_next", self._ortvalue(s_out))
        return binding

    # -- public API ---------------------------------------------------------------------

    def reset(self) -> None:
        """Zero the state (start of a new stream); the conditioning is kept."""
        for states in self._sets:
            for buf in states:
                if isinstance(buf, np.ndarray):
                    buf.fill(0.0)
                else:
                    buf.update_inplace(np.zeros(buf.shape(), np.float32))
        self._parity = 0

    def set_embedding(self, embedding: np.ndarray) -> None:
        """Condition on text embeddings: runs film.onnx once.

        Args:
            embedding: float32 [B, D], or [D] / [1, D] to use one query for every item.
        """
        self.set_cond(self.condition(embedding))

    def condition(self, embedding: np.ndarray) -> np.ndarray:
        """The film output for text embeddings, without setting it (a host prepares the
        conditioning off its audio thread and sets it later with `set_cond`).

        Args:
            embedding: float32 [B, D], or [D] / [1, D].

        Returns:
            float32 [B or 1, cond_dim].
        """
        emb = np.asarray(embedding, dtype=np.float32)
        emb = emb.reshape(1, -1) if emb.ndim == 1 else emb
        if emb.ndim != 2 or emb.shape[1] != self.bundle.encoder_dim:
            raise ValueError(f"embedding must be [B, {self.bundle.encoder_dim}], got {emb.shape}")
        (cond,) = self.film.run(["cond"], {"embedding": emb})  # [B or 1, C]
        return np.asarray(cond, np.float32)

    def set_cond(self, cond: np.ndarray) -> None:
        """Set the film output directly: float32 [B, cond_dim] (or [cond_dim] for all)."""
        cond = np.asarray(cond, dtype=np.float32)
        try:
            self._cond[...] = cond  # broadcasts [C] / [1, C]; in place keeps the binding
        except ValueError:
            raise ValueError(
                f"cond must be [{self.batch}, {self._cond.shape[1]}], got {cond.shape}"
            ) from None
        self._has_cond = True

    def process(self, audio: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Run whole graph blocks, carrying state.

        Args:
            audio: float32 [B, k * block] (block = block_hops * hop samples).
            out: optional float32 [B, k * block] to write into.

        Returns:
            out [B, k * block]: the separated signal, delayed by `latency` samples.
        """
        if not self._has_cond:
            raise RuntimeError("StepRunner.process before set_embedding/set_cond")
        n = audio.shape[-1]
        if audio.shape != (self.batch, n) or n % self.block:
            raise ValueError(f"audio must be [{self.batch}, k*{self.block}], got {audio.shape}")
        if audio is self._audio:  # the host wrote the bound buffer: one block, no copy in
            self._run_block()
            if out is not None and out is not self._out:
                np.copyto(out, self._out)
            return self._out if out is None else out
        if out is None:
            out = np.empty((self.batch, n), np.float32)
        for start in range(0, n, self.block):
            np.copyto(self._audio, audio[:, start : start + self.block])
            self._run_block()
            np.copyto(out[:, start : start + self.block], self._out)
        return out

    def _run_block(self) -> None:
        if self._bindings is not None:
            self.session.run_with_iobinding(self._bindings[self._parity])
        else:
            feeds = {"audio": self._audio, "cond": self._cond}
            feeds.update(zip(self._names, self._sets[self._parity], strict=True))
            results = self.session.run(None, feeds)
            names = [o.name for o in self.session.get_outputs()]
            for name, value in zip(names, results, strict=True):
                if name == "out":
                    np.copyto(self._out, value)
                else:
                    i = self._names.index(name[: -len("_next")])
                    np.copyto(self._sets[1 - self._parity][i], value)
        self._parity ^= 1

    def states(self) -> dict[str, np.ndarray]:
        """A copy of the current state tensors, name -> [B, *shape]."""
        current = self._sets[self._parity]
        return {
            name: np.array(buf if isinstance(buf, np.ndarray) else buf.numpy())
            for name, buf in zip(self._names, current, strict=True)
        }

    def state_buffers(self) -> list[Any]:
        """The current state buffers themselves (numpy [B, *shape] on CPU, OrtValues on a
        GPU), in the bundle's order: a host copies state between runners in place."""
        return self._sets[self._parity]

    def load_states(self, states: dict[str, np.ndarray]) -> None:
        """Continue from `states` (as `states()` returns them), in place (buffers stay bound).

        Raises:
            ValueError: a state is missing or has the wrong shape.
        """
        current = self._sets[self._parity]
        for name, buf in zip(self._names, current, strict=True):
            value = np.ascontiguousarray(states[name], dtype=np.float32)
            on_cpu = isinstance(buf, np.ndarray)
            expected = tuple(buf.shape) if on_cpu else tuple(buf.shape())
            if value.shape != expected:
                raise ValueError(f"state {name}: shape {value.shape}, expected {expected}")
            if on_cpu:
                np.copyto(buf, value)
            else:
                buf.update_inplace(value)


class OfflineRunner:
    """Runs a bundle's non-causal `offline` graph: (mixture[B, T], embedding[B, D]) -> [B, T]."""

    def __init__(
        self,
        bundle: Bundle | str | os.PathLike[str],
        providers: Sequence[str] | None = None,
        threads: int = 1,
    ) -> None:
        self.bundle = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
        self.session, self.provider = make_session(
            self.bundle.graph_path("offline"), providers, threads
        )

    def __call__(self, mixture: np.ndarray, embedding: np.ndarray) -> np.ndarray:
        """Estimate float32 [B, T] of the described source, aligned with `mixture` [B, T]."""
        feeds = {
            "mixture": np.ascontiguousarray(mixture, dtype=np.float32),
            "embedding": np.ascontiguousarray(embedding, dtype=np.float32),
        }
        (estimate,) = self.session.run(["estimate"], feeds)
        return estimate
