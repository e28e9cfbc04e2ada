"""export_bundle and `livesep export`: round trips through livesep.bundle and the runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.streaming_models import random_model, tiny_config

from livesep.bundle import external_data_files, load_bundle
from livesep.cli import main
from livesep.errors import BundleError
from livesep.export.bundle_export import export_bundle
from livesep.export.onnx_step import ExportError
from livesep.export.shared_weights import share_weights
from livesep.export.verify import probe_embeddings, probe_signal
from livesep.model import save_checkpoint
from livesep.runner import StepRunner

torch.set_num_threads(1)

CONFIG = tiny_config(embed_dim=384)  # MiniLM-sized embeddings, tiny U-Net
CHUNK_HOPS = 4


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    model = random_model(CONFIG, seed=3)
    out = tmp_path_factory.mktemp("export") / "tiny"
    export_bundle(model, out, name="tiny", chunk_hops=CHUNK_HOPS, provenance={"note": "test"})
    return out, model


def _stream_torch(model, audio: np.ndarray, emb: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(audio), torch.from_numpy(emb)).numpy()


def test_manifest_matches_the_model(bundle_dir) -> None:
    out, model = bundle_dir
    b = load_bundle(out)
    assert b.name == "tiny" and b.sample_rate == CONFIG.sample_rate and b.hop == CONFIG.hop
    assert b.latency_samples == model.latency == CONFIG.n_fft - CONFIG.hop
    assert b.cond_dim == model.cond_dim and b.encoder_dim == 384 and b.encoder_name == "minilm"
    assert [(s.name, s.shape) for s in b.states] == model.state_specs()
    assert set(b.graphs) == {"step", "chunk", "film"}
    assert b.graph_block("chunk") == CHUNK_HOPS * CONFIG.hop
    assert b.model["family"] == "streaming"
    assert b.model["config"]["widths"] == list(CONFIG.widths)
    assert b.provenance["note"] == "test" and "exporter" in b.provenance
    assert not model.training  # exporting leaves the model in eval mode


def test_step_and_chunk_keep_their_tensors_once(bundle_dir, tmp_path: Path) -> None:
    """Both graphs read their weights and DFT matrices from one weights.bin."""
    import onnx

    out, _ = bundle_dir
    b = load_bundle(out)
    assert "weights.bin" in b.files
    assert external_data_files(b.graph_path("step")) == {"weights.bin"}
    assert external_data_files(b.graph_path("chunk")) == {"weights.bin"}
    assert external_data_files(b.graph_path("film")) == set()
    spans = {}  # graph -> {(offset, length)}
    for kind in ("step", "chunk"):
        proto = onnx.load(str(b.graph_path(kind)), load_external_data=False)
        spans[kind] = {
            tuple(int(e.value) for e in init.external_data if e.key in ("offset", "length"))
            for init in proto.graph.initializer
            if init.data_location == onnx.TensorProto.EXTERNAL
        }
        assert not [n for n in proto.graph.node if n.op_type == "Constant" and n.ByteSize() > 4096]
    assert spans["step"] <= spans["chunk"]  # every step tensor is a chunk tensor, once
    every = spans["step"] | spans["chunk"]
    stored = sum(length for _, length in every)
    assert stored <= (out / "weights.bin").stat().st_size < stored + 64 * len(every)

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["files"]["weights.bin"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="keeps tensors in weights.bin, which 'files' does not"):
        load_bundle(copy)


def test_share_weights_refuses_mixed_folders_and_shared_graphs(bundle_dir, tmp_path) -> None:
    out, _ = bundle_dir
    (tmp_path / "a").mkdir()
    shutil.copy(out / "film.onnx", tmp_path / "a" / "film.onnx")
    shutil.copy(out / "film.onnx", tmp_path / "film.onnx")
    with pytest.raises(ExportError, match="in one folder"):
        share_weights([tmp_path / "a" / "film.onnx", tmp_path / "film.onnx"])
    shutil.copy(out / "step.onnx", tmp_path / "step.onnx")
    with pytest.raises(ExportError, match="already uses external data"):
        share_weights([tmp_path / "step.onnx"])


@pytest.mark.parametrize("graph", ["step", "chunk"])
def test_round_trip_runner_equals_torch(bundle_dir, graph: str) -> None:
    out, model = bundle_dir
    runner = StepRunner(load_bundle(out), providers=["CPUExecutionProvider"], graph=graph, batch=2)
    audio = probe_signal(2, 6 * CHUNK_HOPS * CONFIG.hop, seed=11)
    emb = probe_embeddings(2, 384, seed=12)
    runner.set_embedding(emb)
    got = runner.process(audio)
    ref = _stream_torch(model, audio, emb)
    lat = model.latency
    np.testing.assert_allclose(got[:, lat:], ref[:, :-lat], rtol=0, atol=1e-4)


def test_corrupted_graph_is_a_bundle_error(bundle_dir, tmp_path: Path) -> None:
    out, _ = bundle_dir
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    data = bytearray((copy / "step.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "step.onnx").write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"step\.onnx: sha256 mismatch"):
        load_bundle(copy)
    shutil.copyfile(out / "step.onnx", copy / "step.onnx")
    load_bundle(copy)  # intact again
    (copy / "film.onnx").unlink()
    with pytest.raises(BundleError, match="film.onnx"):
        load_bundle(copy)


def test_encoder_dim_mismatch_is_refused(tmp_path: Path) -> None:
    model = random_model(tiny_config(embed_dim=16))
    with pytest.raises(ExportError, match="16-d embeddings"):
        export_bundle(model, tmp_path / "b", encoder="minilm")
    assert not (tmp_path / "b").exists()


def test_cli_random_init_and_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = {"family": "streaming", "sample_rate": 16000, "n_fft": 256, "hop": 64}
    config |= {"embed_dim": 384, "widths": [4, 8], "gru_hidden": 4}
    cfg_path = tmp_path / "tiny.json"
    cfg_path.write_text(json.dumps(config))
    args = ["export", "--random-init", "--config", str(cfg_path), "--chunk-hops", "0"]
    assert main([*args, "--out", str(tmp_path / "rand")]) == 0
    b = load_bundle(tmp_path / "rand")
    assert set(b.graphs) == {"step", "film"} and b.latency_samples == 192
    assert "latency 192 samples" in capsys.readouterr().out

    # From a checkpoint: the bundle reproduces the checkpointed model.
    model = random_model(CONFIG, seed=5)
    ckpt = tmp_path / "model.pt"
    save_checkpoint(ckpt, model, step=123)
    assert main(["export", "--checkpoint", str(ckpt), "--out", str(tmp_path / "ck")]) == 0
    b = load_bundle(tmp_path / "ck")
    assert b.provenance["checkpoint"] == "model.pt" and b.provenance["step"] == 123
    runner = StepRunner(b, providers=["CPUExecutionProvider"])
    audio, emb = probe_signal(1, 20 * CONFIG.hop, seed=1), probe_embeddings(1, 384, seed=1)
    runner.set_embedding(emb)
    got = runner.process(audio)
    ref = _stream_torch(model, audio, emb)
    np.testing.assert_allclose(got[:, 192:], ref[:, :-192], rtol=0, atol=1e-4)

    # Bad input: a clear one-line error and exit status 1, no bundle.
    cfg_path.write_text(json.dumps({"widths": [4, 8], "skip": "sum"}))
    assert main([*args, "--out", str(tmp_path / "bad")]) == 1
    assert "skip" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
    assert main(["export", "--checkpoint", str(tmp_path / "nope.pt"), "--out", "x"]) == 1


def test_cli_snap_captions_builds_the_query_bank(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    config = {"family": "streaming", "sample_rate": 16000, "n_fft": 256, "hop": 64}
    config |= {"embed_dim": 384, "widths": [4, 8], "gru_hidden": 0}
    cfg_path = tmp_path / "tiny.json"
    cfg_path.write_text(json.dumps(config))
    records = [
        {"split": "train", "captions": ["a dog barking", "barking"]},
        {"split": "train", "captions": ["barking", "rain"]},
        {"split": "val", "captions": ["a hound"]},  # never in the bank
    ]
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in records))
    args = ["export", "--random-init", "--config", str(cfg_path), "--chunk-hops", "0"]
    argv = [*args, "--out", str(tmp_path / "b"), "--snap-captions", str(manifest)]
    assert main([*argv, "--snap-temperature", "0.1"]) == 0
    b = load_bundle(tmp_path / "b")
    assert b.query_bank is not None and b.query_bank.shape == (3, 384)
    assert b.manifest["query_bank"] == {"file": "query_bank.npz", "temperature": 0.1}
    with np.load(tmp_path / "b" / "query_bank.npz") as data:
        assert data["texts"].tolist() == ["a dog barking", "barking", "rain"]

    manifest.write_text('{"split": "val", "captions": ["a hound"]}\nnot json\n')
    assert main([*args, "--out", str(tmp_path / "c"), "--snap-captions", str(manifest)]) == 1
    assert "manifest.jsonl:2: not a manifest record" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_caption_bank_takes_the_vectors_the_run_trained_on(tmp_path: Path) -> None:
    from livesep.export.bundle_export import caption_bank
    from livesep.text import get_encoder

    records = [{"split": "train", "captions": ["a dog barking", "rain"]}]
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in records))
    trained = np.zeros((2, 384), np.float32)
    trained[:, 0] = 1.0  # recognisably not MiniLM's
    cache = tmp_path / "embeddings.npz"
    np.savez(cache, encoder=np.array("minilm"), texts=np.array(["rain", "x"]), vectors=trained)
    bank = caption_bank(manifest, "minilm", trained=cache)
    assert list(bank) == ["a dog barking", "rain"]
    np.testing.assert_array_equal(bank["rain"], trained[0])  # from the run's cache
    encoded = get_encoder("minilm").embed(["a dog barking"])[0]
    np.testing.assert_allclose(bank["a dog barking"], encoded, atol=1e-6)  # not cached
    np.savez(cache, encoder=np.array("clap"), texts=np.array(["rain"]), vectors=trained[:1])
    assert caption_bank(manifest, "minilm", trained=cache)["rain"][0] != 1.0  # other space


@pytest.mark.slow
def test_offline_resunet30_bundle(tmp_path: Path) -> None:
    """ResUNet30-family models get offline.onnx (dynamo exporter, dynamic length)."""
    from livesep.model import ResUNet30, ResUNet30Config
    from livesep.runner import OfflineRunner

    cfg = ResUNet30Config(
        n_fft=256, hop=64, condition_size=384, channels=(4, 8), pooling=((2, 2), (1, 2))
    )
    torch.manual_seed(0)
    model = ResUNet30(cfg).eval()
    b = export_bundle(model, tmp_path / "off")  # verify_offline runs inside
    assert set(b.graphs) == {"offline"} and b.latency_samples == 0 and b.states == ()
    runner = OfflineRunner(b)
    for length in (777, 5000):
        audio, emb = probe_signal(1, length, seed=length), probe_embeddings(1, 384, seed=2)
        with torch.no_grad():
            ref = model(torch.from_numpy(audio), torch.from_numpy(emb)).numpy()
        np.testing.assert_allclose(runner(audio, emb), ref, rtol=0, atol=1e-4)


def test_cli_like_re_exports_a_bundle_with_its_queries_bank_and_provenance(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """`--like BUNDLE` re-exports in the current format from BUNDLE's own data, in place."""
    config = {"family": "streaming", "sample_rate": 16000, "n_fft": 256, "hop": 64}
    config |= {"embed_dim": 384, "widths": [4, 8], "gru_hidden": 0}
    cfg_path = tmp_path / "tiny.json"
    cfg_path.write_text(json.dumps(config))
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text(json.dumps({"split": "train", "captions": ["rain", "a drum kit"]}) + "\n")
    args = ["export", "--random-init", "--config", str(cfg_path), "--chunk-hops", "0"]
    out = tmp_path / "b"
    first = [*args, "--out", str(out), "--snap-captions", str(manifest), "--query", "rain"]
    assert main([*first, "--name", "first"]) == 0
    old = load_bundle(out)
    assert "familiarity_threshold" not in old.manifest["query_bank"]
    again = [*args, "--out", str(out), "--like", str(out), "--overwrite"]
    assert main([*again, "--familiarity-threshold", "0.55"]) == 0
    new = load_bundle(out)
    assert new.name == "first" and set(new.embeddings) == {"rain"}
    assert new.query_bank_texts == old.query_bank_texts and new.familiarity_threshold == 0.55
    np.testing.assert_array_equal(new.query_bank, old.query_bank)
    assert new.provenance["source"] == old.provenance["source"]
    assert main([*again, "--query", "x"]) == 1
    assert "--like takes the queries" in capsys.readouterr().err
