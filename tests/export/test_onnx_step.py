"""ONNX step/chunk/film graphs == the torch model; latency by impulse; graph shape rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from helpers.streaming_models import TINY, force_pass_through, random_model, tiny_config
from onnx import TensorProto, helper

from livesep.export.onnx_step import (
    ExportError,
    check_streaming_graph,
    export_film,
    export_step,
    step_io_names,
)
from livesep.export.verify import (
    make_session,
    probe_embeddings,
    probe_signal,
    run_streaming_graph,
    verify_streaming,
)
from livesep.model.streaming import StreamingResUNet

torch.set_num_threads(1)

CHUNK_HOPS = 5
VARIANTS = {"tiny": TINY, "concat-nogru": tiny_config(skip="concat", gru_hidden=0)}


@pytest.fixture(scope="module", params=list(VARIANTS))
def exported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One random model per variant with its step, chunk and film graphs."""
    model = random_model(VARIANTS[request.param])
    d = tmp_path_factory.mktemp(request.param)
    return {
        "model": model,
        "step": export_step(model, d / "step.onnx"),
        "chunk": export_step(model, d / "chunk.onnx", block_hops=CHUNK_HOPS),
        "film": export_film(model, d / "film.onnx"),
    }


def _dims(value: onnx.ValueInfoProto) -> list[int | str]:
    dims = value.type.tensor_type.shape.dim
    return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in dims]


def _torch_whole(model: StreamingResUNet, audio: np.ndarray, emb: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(audio), torch.from_numpy(emb)).numpy()


def _cond(film: Path, emb: np.ndarray) -> np.ndarray:
    return make_session(film).run(["cond"], {"embedding": emb})[0]


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("n_hops", [5, 17, 40])
def test_step_graph_equals_torch_whole_clip(exported: dict, batch: int, n_hops: int) -> None:
    model = exported["model"]
    hop, lat = model.config.hop, model.latency
    audio = probe_signal(batch, n_hops * hop, seed=n_hops)
    emb = probe_embeddings(batch, model.config.embed_dim, seed=batch)
    whole = _torch_whole(model, audio, emb)
    assert np.abs(whole).max() > 1e-2  # a real signal, not silence
    got = run_streaming_graph(
        make_session(exported["step"]), model, audio, _cond(exported["film"], emb)
    )
    np.testing.assert_allclose(got[:, lat:], whole[:, : whole.shape[1] - lat], rtol=0, atol=1e-4)


def test_chunk_graph_equals_step_graph(exported: dict) -> None:
    model = exported["model"]
    audio = probe_signal(2, 4 * CHUNK_HOPS * model.config.hop, seed=3)
    cond = _cond(exported["film"], probe_embeddings(2, model.config.embed_dim, seed=4))
    stepped = run_streaming_graph(make_session(exported["step"]), model, audio, cond)
    chunked = run_streaming_graph(make_session(exported["chunk"]), model, audio, cond)
    np.testing.assert_allclose(chunked, stepped, rtol=0, atol=1e-4)


def test_film_graph_equals_torch_film(exported: dict) -> None:
    model = exported["model"]
    emb = probe_embeddings(3, model.config.embed_dim, seed=5)
    with torch.no_grad():
        ref = model.film(torch.from_numpy(emb)).numpy()
    got = _cond(exported["film"], emb)
    assert got.shape == (3, model.cond_dim)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-5)


def test_verify_streaming_passes_and_fails_loudly(exported: dict) -> None:
    model = exported["model"]
    diffs = verify_streaming(model, exported["step"], exported["film"], exported["chunk"])
    assert set(diffs) == {"film", "step", "chunk"} and max(diffs.values()) <= 1e-4
    other = random_model(model.config, seed=7)  # same layout, other weights
    with pytest.raises(ExportError, match="max difference"):
        verify_streaming(other, exported["step"], exported["film"])


def test_graph_signature_is_fixed_and_has_no_dft(exported: dict) -> None:
    model = exported["model"]
    for kind, block in (("step", 1), ("chunk", CHUNK_HOPS)):
        proto = onnx.load(str(exported[kind]))
        ops = {n.op_type for n in proto.graph.node}
        assert not ops & {"DFT", "STFT", "Loop", "If", "Scan"}
        check_streaming_graph(exported[kind])
        inputs, outputs = step_io_names(model)
        assert [v.name for v in proto.graph.input] == inputs
        assert [v.name for v in proto.graph.output] == outputs
        shapes = {
            v.name: [
                d.dim_value if d.HasField("dim_value") else d.dim_param
                for d in v.type.tensor_type.shape.dim
            ]
            for v in [*proto.graph.input, *proto.graph.output]
        }
        hop = model.config.hop
        assert shapes["audio"] == ["batch", block * hop] and shapes["out"] == ["batch", block * hop]
        assert shapes["cond"] == ["batch", model.cond_dim]
        for name, shape in model.state_specs():
            assert shapes[name] == ["batch", *shape] == shapes[f"{name}_next"]


def test_check_streaming_graph_rejects_dft_and_dynamic_axes(tmp_path: Path) -> None:
    def save(nodes: list, out_shape: list) -> Path:
        graph = helper.make_graph(
            nodes,
            "g",
            [helper.make_tensor_value_info("audio", TensorProto.FLOAT, ["batch", 8, 1])],
            [helper.make_tensor_value_info("out", TensorProto.FLOAT, out_shape)],
        )
        path = tmp_path / f"g{len(list(tmp_path.iterdir()))}.onnx"
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
        return path

    dft = save([helper.make_node("DFT", ["audio"], ["out"])], ["batch", 8, 2])
    with pytest.raises(ExportError, match="DFT"):
        check_streaming_graph(dft)
    dynamic = save([helper.make_node("Identity", ["audio"], ["out"])], ["batch", "n", 1])
    with pytest.raises(ExportError, match="out axis 1 is not fixed"):
        check_streaming_graph(dynamic)
    fixed_batch = save([helper.make_node("Identity", ["audio"], ["out"])], [1, 8, 1])
    with pytest.raises(ExportError, match="dynamic batch"):
        check_streaming_graph(fixed_batch)


@pytest.mark.parametrize(
    "config",
    [TINY, tiny_config(sample_rate=32000, n_fft=512, hop=160)],
    ids=["16k-W256", "32k-lowlat"],
)
def test_declared_latency_by_impulse(config, tmp_path: Path) -> None:
    """A model forced to pass everything returns an impulse exactly `latency` samples late."""
    model = force_pass_through(random_model(config))
    step = export_step(model, tmp_path / "step.onnx")
    film = export_film(model, tmp_path / "film.onnx")
    hop = config.hop
    audio = np.zeros((1, 16 * hop), np.float32)
    at = 5 * hop + 7  # impulse position (samples)
    audio[0, at] = 1.0
    cond = _cond(film, probe_embeddings(1, config.embed_dim, seed=0))
    out = run_streaming_graph(make_session(step), model, audio, cond)[0]
    measured = int(np.argmax(np.abs(out))) - at
    assert measured == model.latency == config.n_fft - config.hop
    # The Nyquist bin is zeroed (as AudioSep), so the impulse loses ~1/W of its energy.
    assert out[at + model.latency] > 0.95
    others = np.delete(out, at + model.latency)
    assert np.abs(others).max() < 0.05
