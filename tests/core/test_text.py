"""livesep.text: query checks, encoder selection, the MiniLM encoder and the embedding cache."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from livesep.errors import BundleError, QueryError
from livesep.text import (
    EmbeddingCache,
    TextEncoder,
    default_cache_dir,
    ensure_minilm_onnx,
    get_encoder,
    validate_query,
)


class CountingEncoder:
    """A deterministic fake encoder that records every text it is asked to embed."""

    def __init__(self, name: str = "fake", dim: int = 4) -> None:
        self.name = name
        self.dim = dim
        self.calls: list[list[str]] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        seeds = [sum(map(ord, f"{self.name}:{t}")) for t in texts]
        rows = [np.random.default_rng(s).standard_normal(self.dim) for s in seeds]
        rows = [r / np.linalg.norm(r) for r in rows]
        return np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)


# --- query checks and selection -----------------------------------------------------------


@pytest.mark.parametrize("bad", ["", " ", "\t\n ", "\u3000"])
def test_empty_or_whitespace_query_is_refused(bad: str) -> None:
    with pytest.raises(QueryError, match="empty"):
        validate_query(bad)


def test_query_is_stripped() -> None:
    assert validate_query("  dog barking \n") == "dog barking"


def test_non_string_query_is_refused() -> None:
    with pytest.raises(QueryError, match="string"):
        validate_query(3)  # type: ignore[arg-type]


def test_unknown_encoder_and_bad_options_are_named() -> None:
    with pytest.raises(QueryError, match="'word2vec'"):
        get_encoder("word2vec")
    with pytest.raises(QueryError, match="checkpoint"):
        get_encoder("clap")
    with pytest.raises(QueryError, match="bad option"):
        get_encoder("minilm-onnx", path="/nonexistent", colour="red")


def test_importing_livesep_text_does_not_import_torch() -> None:
    code = "import sys, livesep.text; sys.exit(1 if 'torch' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# --- MiniLM (sentence-transformers) -------------------------------------------------------


@pytest.fixture(scope="module")
def minilm() -> TextEncoder:
    import torch

    torch.set_num_threads(1)
    return get_encoder("minilm")


def test_minilm_shape_dtype_and_norm(minilm: TextEncoder) -> None:
    queries = ["a dog barking", "keyboard typing", "rain on a tin roof"]
    vectors = minilm.embed(queries)
    assert minilm.name == "minilm" and minilm.dim == 384
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert minilm.embed([]).shape == (0, 384)


def test_minilm_is_deterministic_and_batch_independent(minilm: TextEncoder) -> None:
    batch = minilm.embed(["a dog barking", "the sound of a violin playing a long note"])
    again = minilm.embed(["a dog barking"])
    np.testing.assert_allclose(batch[0], again[0], atol=1e-6)  # padding does not leak in
    np.testing.assert_array_equal(again, minilm.embed(["a dog barking"]))


def test_minilm_is_semantically_sane(minilm: TextEncoder) -> None:
    dog, barks, typing = minilm.embed(["a dog barking", "dog barks", "keyboard typing"])
    assert float(dog @ barks) > float(dog @ typing) + 0.3


def test_minilm_refuses_an_empty_query_in_a_batch(minilm: TextEncoder) -> None:
    with pytest.raises(QueryError):
        minilm.embed(["a dog barking", "   "])
    with pytest.raises(QueryError, match="list"):
        minilm.embed("a dog barking")  # type: ignore[arg-type]


# --- embedding cache ----------------------------------------------------------------------


def test_cache_hits_do_not_call_the_encoder_again() -> None:
    encoder = CountingEncoder()
    cache = EmbeddingCache(encoder)
    first = cache.embed(["dog", "cat", "dog"])
    assert encoder.calls == [["dog", "cat"]]  # duplicates encoded once
    second = cache.embed([" cat", "dog ", "bird"])  # stripped before lookup
    assert encoder.calls == [["dog", "cat"], ["bird"]]
    np.testing.assert_array_equal(second[:2], first[[1, 0]])
    assert (cache.name, cache.dim) == ("fake", 4)
    assert isinstance(cache, TextEncoder)
    with pytest.raises(QueryError):
        cache.embed([""])


def test_cache_keys_by_encoder_name_and_persists(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "embeddings.json"
    enc_a, enc_b = CountingEncoder("a"), CountingEncoder("b")
    vec_a = EmbeddingCache(enc_a, path).embed(["dog"])
    vec_b = EmbeddingCache(enc_b, path).embed(["dog"])  # same text, other encoder: computed
    assert enc_b.calls == [["dog"]]
    assert not np.allclose(vec_a, vec_b)

    # A fresh cache on the same file serves both encoders' entries without encoding.
    fresh_a, fresh_b = CountingEncoder("a"), CountingEncoder("b")
    np.testing.assert_array_equal(EmbeddingCache(fresh_a, path).embed(["dog"]), vec_a)
    np.testing.assert_array_equal(EmbeddingCache(fresh_b, path).embed(["dog"]), vec_b)
    assert fresh_a.calls == [] and fresh_b.calls == []
    assert sorted(p.name for p in path.parent.iterdir()) == ["embeddings.json"]  # no temp left


def test_corrupt_cache_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "embeddings.json"
    path.write_text("{not json")
    with pytest.raises(QueryError, match="embeddings.json"):
        EmbeddingCache(CountingEncoder(), path)
    path.write_text(json.dumps({"format": "other"}))
    with pytest.raises(QueryError, match="format"):
        EmbeddingCache(CountingEncoder(), path)


# --- minilm-onnx plumbing (the real export and parity: tests/export/test_text_encoder.py) --


def test_default_cache_dir_honours_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "livesep" / "minilm-onnx"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "livesep" / "minilm-onnx"


def test_minilm_onnx_names_missing_files(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(BundleError, match="text_encoder.onnx missing"):
        get_encoder("minilm-onnx", path=tmp_path)


def _fake_python(tmp_path: Path, body: str) -> str:
    """A stand-in for sys.executable, so the exporter subprocess can be faked quickly."""
    script = tmp_path / "fake-python"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_ensure_minilm_onnx_reports_a_failed_export(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = _fake_python(
        tmp_path, 'echo "Traceback ..." >&2; echo "OSError: disk full" >&2\nexit 1\n'
    )
    monkeypatch.setattr(sys, "executable", fake)
    with pytest.raises(BundleError, match="disk full"):
        ensure_minilm_onnx(tmp_path / "cache")


def test_ensure_minilm_onnx_runs_the_exporter_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log = tmp_path / "calls.txt"
    # Args: -m livesep.export.text_encoder --out DIR  ->  $4 is DIR.
    body = f'echo "$@" >> {log}\nmkdir -p "$4"; touch "$4/text_encoder.onnx" "$4/tokenizer.json"\n'
    monkeypatch.setattr(sys, "executable", _fake_python(tmp_path, body))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = ensure_minilm_onnx()
    assert folder == tmp_path / "xdg" / "livesep" / "minilm-onnx"
    assert ensure_minilm_onnx() == folder  # files present: no second export
    calls = log.read_text().splitlines()
    assert calls == [f"-m livesep.export.text_encoder --out {folder}"]
    assert os.path.isfile(folder / "text_encoder.onnx")
