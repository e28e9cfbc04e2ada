"""Learned queries without torch: the store (`livesep.learned`) and `@NAME` in every host.

The tiny delay bundle's output is the input delayed and scaled by the squared norm of the
conditioning vector, so a stored vector of norm 0.5 must give exactly 0.25 x the input in
`separate`, `Separator`, the live engine and compound requests.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from helpers.tiny_bundle import DIM, make_delay_bundle

from livesep.cli import main
from livesep.errors import LivesepError, QueryError
from livesep.learned import LearnedQuery, QueryStore, check_name, queries_dir
from livesep.query import QueryReader, learned_name, parse_request
from livesep.realtime.engine import Engine
from livesep.separate import Separator


def _vector(norm: float) -> np.ndarray:
    v = np.zeros(DIM, np.float32)
    v[7] = norm
    return v


@pytest.fixture
def store(tmp_path, monkeypatch) -> QueryStore:
    monkeypatch.setenv("LIVESEP_QUERIES_DIR", str(tmp_path / "queries"))
    return QueryStore()


@pytest.fixture
def bundle(tmp_path):
    return make_delay_bundle(tmp_path)


def _learned(store: QueryStore, bundle, name: str = "half", norm: float = 0.5, **kw):
    query = LearnedQuery(name, _vector(norm), bundle.digest, bundle.name, 7.5, 0.5)
    return store.save(query, **kw)


def test_queries_dir_follows_xdg(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("LIVESEP_QUERIES_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert queries_dir() == tmp_path / "livesep" / "queries"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert str(queries_dir()).endswith(".local/share/livesep/queries")


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden", "a b", "x" * 65, "é", "a.b"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(QueryError, match="not allowed"):
        check_name(name)


def test_store_round_trip_keeps_copies_and_never_touches_inputs(store, bundle, tmp_path) -> None:
    example = tmp_path / "dog.wav"
    sf.write(example, np.full(1600, 0.1, np.float32), 16000)
    before = example.read_bytes()
    stored = _learned(store, bundle, examples=[example, example])
    assert example.read_bytes() == before
    assert [p.name for p in stored.examples] == ["dog.wav", "dog-2.wav"]
    assert all(p.read_bytes() == before for p in stored.examples)
    np.testing.assert_array_equal(stored.vector, _vector(0.5))
    assert stored.bundle_digest == bundle.digest and stored.sdri_db == 7.5
    assert store.names() == ["half"]
    with pytest.raises(LivesepError, match="exists"):
        _learned(store, bundle)
    store.forget("half")
    assert store.names() == [] and not (store.root / "half").exists()
    with pytest.raises(QueryError, match="no learned query @half"):
        store.load("half")


def test_parse_and_name_rules() -> None:
    assert parse_request("@my-dog, not music") == [("@my-dog", True), ("music", False)]
    assert parse_request("remove @fan") == [("@fan", False)]
    assert parse_request("everything but @dog") == [("@dog", False)]
    assert learned_name("keep @dog") == "dog" and learned_name("the @fan") == "fan"
    assert learned_name("a dog") is None and learned_name("mail@home") is None
    with pytest.raises(QueryError, match="stands alone"):
        learned_name("the @dog barking")


def test_reader_uses_the_stored_vector_as_is(store, bundle) -> None:
    _learned(store, bundle)
    reader = QueryReader(bundle, encoder=lambda: pytest.fail("no text to encode"))
    assert not reader.needs_encoder("@half, not speech")  # "speech" is cached in the bundle
    request = reader.read("@half, not speech")
    np.testing.assert_array_equal(request.conditions[0], _vector(0.5))
    # The kept sound stands alone (`Request.active`); the removed one is read, not run.
    np.testing.assert_array_equal(request.weights, [1.0])
    assert [s.text for s in request.sounds] == ["@half", "speech"]
    assert request.describe() == "keep: @half; leave out: speech"
    assert reader.read("remove @half").mixture == 1.0


def test_another_bundles_query_is_refused(store, bundle, tmp_path) -> None:
    other = make_delay_bundle(tmp_path / "o", name="other", hop=80)
    assert other.digest != bundle.digest
    _learned(store, other, name="elsewhere")
    with pytest.raises(QueryError, match="fitted for another bundle.*--refit"):
        QueryReader(bundle).read("@elsewhere")
    with pytest.raises(QueryError, match="no learned query @missing"):
        QueryReader(bundle).read("@missing")


def test_separate_cli_uses_learned_queries(store, bundle, tmp_path, capsys) -> None:
    _learned(store, bundle)
    audio = (0.1 * np.random.default_rng(0).standard_normal(8000)).astype(np.float32)
    src, out = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, audio, 16000, subtype="FLOAT")
    argv = ["separate", str(src), "-q", "@half", "--bundle", str(bundle.path), "-o", str(out)]
    assert main([*argv, "--quiet"]) == 0
    got, _ = sf.read(out, dtype="float32")
    np.testing.assert_allclose(got, 0.25 * audio, atol=1e-6)
    store.forget("half")
    assert main([*argv, "--quiet", "--overwrite"]) == 1
    err = capsys.readouterr().err
    assert "no learned query @half" in err


def test_separator_and_engine_use_learned_queries(store, bundle) -> None:
    _learned(store, bundle)
    audio = (0.1 * np.random.default_rng(1).standard_normal(4000)).astype(np.float32)
    sep = Separator(bundle.path)
    (est,) = sep.separate_array(audio, 16000, ["@half"])
    np.testing.assert_allclose(est.reshape(-1), 0.25 * audio, atol=1e-6)
    engine = Engine(bundle.path, crossfade_hops=1)
    engine.set_query_blocking("@half")
    out = engine.process(np.tile(audio[:, None], (3, 1)))[:, 0]  # [T]
    lat = engine.latency_frames
    tail = slice(len(out) - 2000, len(out))
    expected = 0.25 * np.tile(audio, 3)[tail.start - lat : -lat]
    np.testing.assert_allclose(out[tail], expected, atol=1e-5)


def test_learned_queries_need_no_torch_and_learn_says_what_is_missing(
    store, bundle, tmp_path
) -> None:
    from helpers.no_torch import run_without_torch

    _learned(store, bundle)
    audio = (0.1 * np.random.default_rng(2).standard_normal(4000)).astype(np.float32)
    src, out = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, audio, 16000, subtype="FLOAT")
    code = (
        "import os, sys\n"
        f"os.environ['LIVESEP_QUERIES_DIR'] = {str(store.root)!r}\n"
        "from livesep import cli\n"
        f"b = ['--bundle', {str(bundle.path)!r}]\n"
        f"assert cli.main(['separate', {str(src)!r}, '-q', '@half', *b, '-o', {str(out)!r},"
        " '--quiet']) == 0\n"
        "assert cli.main(['learn', '--list', *b]) == 0\n"
        f"rc = cli.main(['learn', 'x', {str(src)!r}, *b])\n"
        "print('RC', rc)\n"
    )
    proc, loaded = run_without_torch(code, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "torch" not in loaded
    assert "RC 1" in proc.stdout and "\nhalf " in proc.stdout  # --list, then the refusal
    assert "install the train extra" in proc.stderr
    got, _ = sf.read(out, dtype="float32")
    np.testing.assert_allclose(got, 0.25 * audio, atol=1e-6)
