"""Parity checks of exported graphs against the torch model; failures raise, never warn.

Used by `export_bundle` right after writing the graphs, and by the tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from livesep.export.onnx_step import ExportError, step_io_names
from livesep.model.streaming import StreamingResUNet

PARITY_ATOL = 1e-4  # max |onnx - torch| allowed (contract: step graph == whole clip to 1e-4)


def make_session(path: str | Path, threads: int = 1) -> ort.InferenceSession:
    """A CPU ONNX Runtime session with `threads` intra-op threads."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_streaming_graph(
    session: ort.InferenceSession,
    model: StreamingResUNet,
    audio: np.ndarray,
    cond: np.ndarray,
) -> np.ndarray:
    """Run a step/chunk graph over `audio` block by block from zero state.

    Args:
        session: the step or chunk graph.
        model: the model it came from (for the state layout).
        audio: [B, T] float32, T a multiple of the graph's block.
        cond: [B, C] float32 from the film graph.

    Returns:
        [B, T] the graph's output (delayed by the model's latency).
    """
    inputs, outputs = step_io_names(model)
    block = session.get_inputs()[0].shape[1]
    if audio.shape[1] % block:
        raise ExportError(f"signal of {audio.shape[1]} samples is not a multiple of {block}")
    states = [s.numpy() for s in model.init_state(audio.shape[0])]
    outs = []
    for start in range(0, audio.shape[1], block):
        feeds = {"audio": audio[:, start : start + block], "cond": cond}
        feeds.update(zip(inputs[2:], states, strict=True))
        out, *states = session.run(outputs, feeds)
        outs.append(out)
    return np.concatenate(outs, axis=1)


def probe_signal(batch: int, samples: int, seed: int = 0) -> np.ndarray:
    """[B, T] float32 noise with a loud burst (level changes exercise the state)."""
    rng = np.random.default_rng(seed)
    audio = 0.3 * rng.standard_normal((batch, samples))
    audio[:, samples // 3 : samples // 3 + samples // 10] *= 3.0
    return audio.astype(np.float32)


def probe_embeddings(batch: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    e = rng.standard_normal((batch, dim))
    return (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(np.float32)


def _fail_if_far(what: str, got: np.ndarray, ref: np.ndarray, atol: float) -> float:
    if got.shape != ref.shape:
        raise ExportError(f"{what}: shape {got.shape} != torch {ref.shape}")
    diff = float(np.max(np.abs(got - ref))) if got.size else 0.0
    if not diff <= atol:  # also catches NaN
        raise ExportError(f"{what}: max difference {diff:.3g} > {atol:g}")
    return diff


def verify_streaming(
    model: StreamingResUNet,
    step_path: str | Path,
    film_path: str | Path,
    chunk_path: str | Path | None = None,
    batch: int = 4,  # = livesep.query.MAX_SOUNDS: the batch a compound query runs at
    n_blocks: int = 2,
    seed: int = 0,
    atol: float = PARITY_ATOL,
) -> dict[str, float]:
    """Check film, step (and chunk) graphs against the torch model.

    The step graph runs hop by hop over a signal of `n_blocks` chunk blocks (or 24 hops
    without a chunk graph) and must equal the torch whole-clip output delayed by the
    latency; the film graph must equal `model.film`; the chunk graph must equal the step
    graph.

    Returns:
        The max absolute differences, by check name.

    Raises:
        ExportError: naming the check that failed and the difference.
    """
    model = model.eval()
    hop, lat = model.config.hop, model.latency
    chunk = make_session(chunk_path) if chunk_path is not None else None
    block_hops = chunk.get_inputs()[0].shape[1] // hop if chunk is not None else 1
    n_hops = max(24, n_blocks * block_hops)
    n_hops += -n_hops % block_hops
    audio = probe_signal(batch, n_hops * hop, seed)
    emb = probe_embeddings(batch, model.config.embed_dim, seed)
    with torch.no_grad():
        cond_ref = model.film(torch.from_numpy(emb)).numpy()
        whole = model(torch.from_numpy(audio), torch.from_numpy(emb)).numpy()
    result = {}
    cond = make_session(film_path).run(["cond"], {"embedding": emb})[0]
    result["film"] = _fail_if_far(f"{film_path}: film graph vs torch", cond, cond_ref, atol)
    stepped = run_streaming_graph(make_session(step_path), model, audio, cond)
    result["step"] = _fail_if_far(
        f"{step_path}: step graph vs torch whole clip", stepped[:, lat:], whole[:, :-lat], atol
    )
    if chunk is not None:
        chunked = run_streaming_graph(chunk, model, audio, cond)
        result["chunk"] = _fail_if_far(
            f"{chunk_path}: chunk graph vs step graph", chunked, stepped, atol
        )
    return result


def verify_offline(
    model: nn.Module,
    path: str | Path,
    embed_dim: int,
    lengths: tuple[int, ...] = (12345, 32000),
    seed: int = 0,
    atol: float = PARITY_ATOL,
) -> dict[str, float]:
    """Check the offline graph against `model(mixture, embedding)` at several lengths, B = 2."""
    model = model.eval()
    session = make_session(path)
    result = {}
    for length in lengths:
        audio = probe_signal(2, length, seed)
        emb = probe_embeddings(2, embed_dim, seed)
        with torch.no_grad():
            ref = model(torch.from_numpy(audio), torch.from_numpy(emb)).numpy()
        got = session.run(["estimate"], {"mixture": audio, "embedding": emb})[0]
        result[f"offline_{length}"] = _fail_if_far(
            f"{path}: offline graph vs torch at {length} samples", got, ref, atol
        )
    return result
