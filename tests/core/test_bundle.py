"""Bundle format: round trip, checksum/field/graph validation, atomic write, describe."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from helpers.tiny_bundle import DIM, film_graph, make_delay_bundle, step_graph

from livesep.bundle import MANIFEST, describe, load_bundle, write_bundle
from livesep.errors import BundleError
from livesep.fsmode import DIR_MODE


def _rewrite_manifest(bundle_dir, **changes):
    path = bundle_dir / MANIFEST
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


def test_round_trip_fields(tmp_path):
    b = make_delay_bundle(tmp_path, sample_rate=16000, hop=160, n_fft=512, offline=True)
    again = load_bundle(b.path)
    assert again == b
    assert b.latency == 512 - 160
    assert [s.name for s in b.states] == ["s00", "s01"]
    assert b.states[0].shape == (352,)
    assert b.graph_block("step") == 160 and b.graph_block("chunk") == 4 * 160
    assert set(b.files) == {
        "step.onnx",
        "chunk.onnx",
        "film.onnx",
        "offline.onnx",
        "embeddings.json",
    }
    np.testing.assert_array_equal(b.cached_embedding("speech")[:2], [1.0, 0.0])
    assert b.cached_embedding("unknown") is None
    assert load_bundle(b.path / MANIFEST).path == b.path  # the manifest path works too
    assert b.path.stat().st_mode & 0o777 == DIR_MODE  # not mkdtemp's 0700 (test_fsmode)


def test_mismatched_hash_names_file(tmp_path):
    b = make_delay_bundle(tmp_path)
    (b.path / "step.onnx").write_bytes(step_graph(160, 160, 100, 8))
    with pytest.raises(BundleError, match=r"step\.onnx: sha256 mismatch"):
        load_bundle(b.path)


def test_missing_listed_file(tmp_path):
    b = make_delay_bundle(tmp_path)
    (b.path / "film.onnx").unlink()
    with pytest.raises(BundleError, match=r"film\.onnx: listed in the manifest but missing"):
        load_bundle(b.path)


def test_unlisted_file_is_ignored_and_reported(tmp_path):
    b = make_delay_bundle(tmp_path)
    (b.path / "notes.txt").write_text("hello")
    again = load_bundle(b.path)
    assert again.unlisted_files == ("notes.txt",)
    assert "unlisted files (ignored): notes.txt" in describe(again)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": "other"}, "format is 'other'"),
        ({"format_version": 2}, "format_version 2 not supported"),
        ({"hop": "160"}, "key 'hop' has the wrong type"),
        ({"hop": 0}, "key 'hop' is 0, outside 1..65536"),
        ({"encoder": {"name": "minilm"}}, "'encoder' needs"),
        ({"graphs": {"film": {"file": "film.onnx"}}}, "needs a 'step' or an 'offline'"),
        ({"states": [{"name": "s00", "shape": [-1]}]}, r"states\[0\] \(s00\) needs a positive"),
    ],
)
def test_bad_manifest_fields(tmp_path, changes, message):
    b = make_delay_bundle(tmp_path)
    _rewrite_manifest(b.path, **changes)
    with pytest.raises(BundleError, match=message):
        load_bundle(b.path)


def test_missing_required_key(tmp_path):
    b = make_delay_bundle(tmp_path)
    manifest = json.loads((b.path / MANIFEST).read_text())
    del manifest["latency_samples"]
    (b.path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="required key 'latency_samples' missing"):
        load_bundle(b.path)


def test_unreadable_manifest_and_missing_dir(tmp_path):
    with pytest.raises(BundleError, match="bundle directory not found"):
        load_bundle(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match="manifest missing"):
        load_bundle(tmp_path / "empty")
    b = make_delay_bundle(tmp_path)
    (b.path / MANIFEST).write_text("{not json")
    with pytest.raises(BundleError, match="unreadable manifest"):
        load_bundle(b.path)


def test_state_shape_mismatch_with_graph(tmp_path):
    # The manifest says the delay line holds 300 samples; the graph's holds 352.
    with pytest.raises(
        BundleError, match=r"step\.onnx: input 's00' axis 1 is 352, manifest says 300"
    ):
        make_delay_bundle(
            tmp_path,
            extra_manifest={
                "states": [{"name": "s00", "shape": [300]}, {"name": "s01", "shape": [1]}]
            },
        )
    assert not list(tmp_path.iterdir())  # the failed write left nothing behind


def test_graph_with_wrong_cond_dim(tmp_path):
    with pytest.raises(BundleError, match=r"input 'cond' axis 1 is 8, manifest says 4"):
        make_delay_bundle(tmp_path, extra_manifest={"cond_dim": 4})


def test_missing_state_in_manifest(tmp_path):
    with pytest.raises(BundleError, match=r"unexpected inputs \['s01'\]"):
        make_delay_bundle(tmp_path, extra_manifest={"states": [{"name": "s00", "shape": [352]}]})


def test_not_onnx_graph(tmp_path):
    b = make_delay_bundle(tmp_path)
    manifest = json.loads((b.path / MANIFEST).read_text())
    files = {name: b.path / name for name in manifest["files"]}
    files["film.onnx"] = b"this is not onnx"
    with pytest.raises(BundleError, match=r"film\.onnx: not a readable ONNX graph"):
        write_bundle(tmp_path / "broken", manifest, files)
    assert not (tmp_path / "broken").exists()


def test_write_refuses_existing_then_overwrites(tmp_path):
    b = make_delay_bundle(tmp_path)
    manifest = json.loads((b.path / MANIFEST).read_text())
    files = {name: b.path / name for name in manifest["files"]}
    shutil.copytree(b.path, tmp_path / "copy")
    with pytest.raises(BundleError, match="already exists"):
        write_bundle(tmp_path / "copy", manifest, files)
    manifest["name"] = "renamed"
    again = write_bundle(tmp_path / "copy", manifest, files, overwrite=True)
    assert again.name == "renamed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy", "tiny-delay"]


def test_film_dim_mismatch(tmp_path):
    b = make_delay_bundle(tmp_path)
    manifest = json.loads((b.path / MANIFEST).read_text())
    files = {name: b.path / name for name in manifest["files"]}
    files["film.onnx"] = film_graph(DIM // 2, 8)
    with pytest.raises(
        BundleError, match=r"film\.onnx: input 'embedding' axis 1 is 192, manifest says 384"
    ):
        write_bundle(tmp_path / "b2", manifest, files)


def test_embeddings_from_other_encoder(tmp_path):
    b = make_delay_bundle(tmp_path, name="a")
    manifest = json.loads((b.path / MANIFEST).read_text())
    files = {name: b.path / name for name in manifest["files"]}
    files["embeddings.json"] = json.dumps({"encoder": "clap", "texts": {}}).encode()
    with pytest.raises(BundleError, match="embeddings from encoder 'clap', bundle uses 'minilm'"):
        write_bundle(tmp_path / "b", manifest, files)


def test_check_graphs_false_skips_onnx(tmp_path):
    b = make_delay_bundle(tmp_path)
    _rewrite_manifest(b.path, cond_dim=4)
    assert load_bundle(b.path, check_graphs=False).cond_dim == 4


def test_bundle_module_is_torch_free():
    code = "import sys, livesep.bundle, livesep.runner; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
