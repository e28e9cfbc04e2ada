"""A tiny, torch-free bundle whose graphs satisfy the bundle contract exactly.

`make_delay_bundle(tmp_path)` writes (with `livesep.bundle.write_bundle`) a bundle whose
graphs are built with `onnx.helper`; their behaviour is known in closed form, so tests of
the runner, offline separation, the realtime engine and the GUI can check results exactly:

- film.onnx:  embedding[B, D] -> cond[B, cond_dim], every column = sum(embedding**2) (the
  squared L2 norm). A unit-norm embedding (any real encoder's) gives cond = 1.
- step.onnx / chunk.onnx: (audio[B, L], cond[B, cond_dim], s00[B, latency], s01[B, 1]) ->
  (out[B, L], s00_next, s01_next) with L = block_hops * hop, and
      out[b, t] = cond[b, 0] * audio[b, t - latency]   (zeros before the start),
  i.e. the input delayed by exactly `latency_samples` through the state `s00` (a delay
  line) and scaled by the gain cond[:, 0]. `s01` counts the hops processed so far (a float,
  +block_hops per call) and does not affect `out`; it lets tests see state carry and reset.
  With latency=0 the bundle has no `s00` state. Step and chunk give identical outputs and
  states for the same samples.
- offline.onnx (with `offline=True`): (mixture[B, T], embedding[B, D]) -> estimate[B, T] =
  sum(embedding**2) * mixture, with no delay (a non-causal model's alignment).
- embeddings.json caches the queries of `DEFAULT_EMBEDDINGS` (or the given ones):
  "speech" -> gain 1, "dog barking" -> gain 0.25, "silence" -> gain 0. Only "speech" is a
  unit vector; the other two deliberately break the L2-norm rule to give distinct gains.

So separation with the tiny bundle and query "speech" (or any unit embedding) must return
the input unchanged once the latency is compensated: the identity proves alignment.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from livesep.bundle import Bundle, write_bundle

OPSET = 17
IR_VERSION = 8  # readable by every onnxruntime >= 1.10
DIM = 384  # the default encoder's ("minilm") embedding size


def _unit(i: int, dim: int, norm: float = 1.0) -> list[float]:
    vec = [0.0] * dim
    vec[i] = norm
    return vec


DEFAULT_GAINS = {"speech": 1.0, "dog barking": 0.25, "silence": 0.0}


def default_embeddings(dim: int = DIM) -> dict[str, list[float]]:
    """Cached query -> embedding with squared norm = the gain in `DEFAULT_GAINS`."""
    return {
        text: _unit(i, dim, float(np.sqrt(gain)))
        for i, (text, gain) in enumerate(DEFAULT_GAINS.items())
    }


def _model(nodes, inputs, outputs, initialisers=()) -> bytes:
    graph = helper.make_graph(nodes, "tiny", inputs, outputs, initializer=list(initialisers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _f32(name: str, *shape: int | str) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def _i64(name: str, values: list[int]) -> onnx.TensorProto:
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], values)


def step_graph(block: int, hop: int, latency: int, cond_dim: int) -> bytes:
    """Serialized step/chunk graph: out = cond[:, 0] * audio delayed by `latency` samples."""
    consts = [
        _i64("zero", [0]),
        _i64("one", [1]),
        _i64("block", [block]),
        _i64("total", [latency + block]),
        helper.make_tensor("hops", TensorProto.FLOAT, [1, 1], [block / hop]),
    ]
    nodes = [helper.make_node("Slice", ["cond", "zero", "one", "one"], ["gain"])]  # [B, 1]
    inputs = [_f32("audio", "batch", block), _f32("cond", "batch", cond_dim)]
    outputs = [_f32("out", "batch", block)]
    if latency > 0:
        inputs.append(_f32("s00", "batch", latency))
        outputs.append(_f32("s00_next", "batch", latency))
        nodes += [
            helper.make_node("Concat", ["s00", "audio"], ["line"], axis=1),  # [B, latency + L]
            helper.make_node("Slice", ["line", "zero", "block", "one"], ["delayed"]),  # [B, L]
            helper.make_node("Slice", ["line", "block", "total", "one"], ["s00_next"]),
        ]
    else:
        nodes.append(helper.make_node("Identity", ["audio"], ["delayed"]))
    nodes += [
        helper.make_node("Mul", ["delayed", "gain"], ["out"]),  # [B, L]
        helper.make_node("Add", ["s01", "hops"], ["s01_next"]),  # [B, 1]
    ]
    inputs.append(_f32("s01", "batch", 1))
    outputs.append(_f32("s01_next", "batch", 1))
    return _model(nodes, inputs, outputs, consts)


def film_graph(dim: int, cond_dim: int) -> bytes:
    """Serialized film graph: cond[:, j] = sum(embedding**2) for every j."""
    nodes = [
        helper.make_node("ReduceSumSquare", ["embedding"], ["norm2"], axes=[1], keepdims=1),
        helper.make_node("Tile", ["norm2", "repeats"], ["cond"]),  # [B, cond_dim]
    ]
    return _model(
        nodes,
        [_f32("embedding", "batch", dim)],
        [_f32("cond", "batch", cond_dim)],
        [_i64("repeats", [1, cond_dim])],
    )


def offline_graph(dim: int) -> bytes:
    """Serialized offline graph: estimate = sum(embedding**2) * mixture (no delay)."""
    nodes = [
        helper.make_node("ReduceSumSquare", ["embedding"], ["gain"], axes=[1], keepdims=1),
        helper.make_node("Mul", ["mixture", "gain"], ["estimate"]),  # [B, T]
    ]
    return _model(
        nodes,
        [_f32("mixture", "batch", "time"), _f32("embedding", "batch", dim)],
        [_f32("estimate", "batch", "time")],
    )


def delay_reference(audio: np.ndarray, gain: np.ndarray | float, latency: int) -> np.ndarray:
    """What the step graph outputs for `audio[B, T]` from zero state: gain * delayed audio."""
    audio = np.atleast_2d(audio)
    delayed = np.zeros_like(audio)
    delayed[:, latency:] = audio[:, : audio.shape[1] - latency]
    return np.reshape(np.asarray(gain, dtype=np.float32), (-1, 1)) * delayed


def make_delay_bundle(
    tmp_path: str | Path,
    *,
    name: str = "tiny-delay",
    sample_rate: int = 16000,
    hop: int = 160,
    n_fft: int = 512,
    latency: int | None = None,
    chunk_hops: int | None = 4,
    offline: bool = False,
    step: bool = True,
    encoder_name: str = "minilm",
    encoder_dim: int = DIM,
    cond_dim: int = 8,
    embeddings: Mapping[str, list[float]] | None = None,
    query_bank: Mapping[str, list[float]] | None = None,
    snap_temperature: float = 0.05,
    extra_manifest: Mapping[str, object] | None = None,
) -> Bundle:
    """Write the tiny delay bundle to `tmp_path / name` and return it loaded.

    Args:
        tmp_path: parent directory (pytest's `tmp_path`).
        name: bundle directory name and manifest name.
        sample_rate, hop, n_fft: the manifest's audio parameters (Hz, samples, samples).
        latency: delay in samples; default `n_fft - hop` (a causal STFT's latency).
        chunk_hops: hops per call of chunk.onnx; None for no chunk graph.
        offline: also write offline.onnx.
        step: write step/film graphs (False with offline=True: an offline-only bundle).
        encoder_name, encoder_dim, cond_dim: manifest encoder and cond sizes.
        embeddings: cached queries (default `default_embeddings(encoder_dim)`); {} for none.
        query_bank: training caption -> unit embedding (`query_bank.npz`); None for none.
        snap_temperature: the bank's temperature in the manifest.
        extra_manifest: keys merged over the generated manifest (to build broken bundles).
    """
    latency = n_fft - hop if latency is None else latency
    files: dict[str, str | bytes] = {}
    graphs: dict[str, dict[str, object]] = {}
    if step:
        files["step.onnx"] = step_graph(hop, hop, latency, cond_dim)
        files["film.onnx"] = film_graph(encoder_dim, cond_dim)
        graphs["step"] = {"file": "step.onnx", "block_hops": 1}
        graphs["film"] = {"file": "film.onnx"}
        if chunk_hops:
            files["chunk.onnx"] = step_graph(chunk_hops * hop, hop, latency, cond_dim)
            graphs["chunk"] = {"file": "chunk.onnx", "block_hops": chunk_hops}
    if offline:
        files["offline.onnx"] = offline_graph(encoder_dim)
        graphs["offline"] = {"file": "offline.onnx"}
    states = [{"name": "s00", "shape": [latency]}] if latency > 0 else []
    states.append({"name": "s01", "shape": [1]})
    manifest: dict[str, object] = {
        "format": "livesep-bundle",
        "format_version": 1,
        "name": name,
        "sample_rate": sample_rate,
        "hop": hop,
        "n_fft": n_fft,
        "window": "hann",
        "block_hops": 1,
        "latency_samples": latency,
        "channels": 1,
        "encoder": {"name": encoder_name, "dim": encoder_dim},
        "model": {"family": "tiny-delay", "config": {"latency": latency}},
        "graphs": graphs,
        "cond_dim": cond_dim,
        "states": states if step else [],
        "provenance": {"builder": "tests/helpers/tiny_bundle.py"},
        "metrics": {},
    }
    embeddings = default_embeddings(encoder_dim) if embeddings is None else embeddings
    if embeddings:
        data = {"encoder": encoder_name, "texts": dict(embeddings)}
        files["embeddings.json"] = (json.dumps(data) + "\n").encode()
        manifest["embeddings"] = "embeddings.json"
    if query_bank:
        buf = io.BytesIO()
        names = list(query_bank)
        vectors = np.asarray([query_bank[t] for t in names], np.float32)  # [N, D]
        np.savez(buf, texts=np.asarray(names, dtype=str), vectors=vectors)
        files["query_bank.npz"] = buf.getvalue()
        manifest["query_bank"] = {"file": "query_bank.npz", "temperature": snap_temperature}
    manifest.update(extra_manifest or {})
    return write_bundle(Path(tmp_path) / name, manifest, files)
