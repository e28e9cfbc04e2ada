"""The query seam (`livesep.query`): parsing, snapping, readings, familiarity warnings,
the bank in a bundle, and every host reading queries through it."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import soundfile as sf
from helpers.tiny_bundle import DIM, make_delay_bundle

from livesep.bundle import MANIFEST, describe, load_bundle, write_query_bank
from livesep.cli import main
from livesep.errors import BundleError, QueryError
from livesep.query import MAX_SOUNDS, QueryReader, Request, default_encoder, parse_request, snap
from livesep.realtime.engine import Engine
from livesep.separate import Separator


def _unit(*values: float) -> np.ndarray:
    v = np.zeros(DIM, np.float32)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


BANK = {"an accordion": _unit(1, 0), "a trumpet": _unit(0, 1), "rain": _unit(0, 0, 1)}


class _FixedEncoder:
    """A stand-in text encoder: every text embeds to `vector`; remembers its calls."""

    name = "minilm"
    dim = DIM

    def __init__(self, vector: np.ndarray) -> None:
        self.vector = vector
        self.calls: list[list[str]] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.stack([self.vector for _ in texts])  # [N, D]


def test_snap_picks_the_nearest_caption_when_cold_and_averages_when_warm() -> None:
    bank = np.stack(list(BANK.values()))  # [3, D]
    query = _unit(0.9, 0.3, 0.1)  # closest to "an accordion"
    cold = snap(query, bank, 0.001)
    np.testing.assert_allclose(cold, BANK["an accordion"], atol=1e-5)
    warm = snap(query, bank, 100.0)
    np.testing.assert_allclose(warm, _unit(1, 1, 1), atol=1e-2)  # the bank's mean direction
    mid = snap(query, bank, 0.05)
    assert abs(np.linalg.norm(mid) - 1.0) < 1e-5 and mid.dtype == np.float32
    assert mid @ BANK["an accordion"] > query @ BANK["an accordion"]  # pulled toward it
    with pytest.raises(QueryError, match="cannot snap"):
        snap(np.ones(DIM + 1), bank, 0.05)
    with pytest.raises(QueryError, match="temperature"):
        snap(query, bank, 0.0)


def test_bundle_carries_the_bank_and_the_reader_snaps_with_it(tmp_path) -> None:
    plain = make_delay_bundle(tmp_path / "a")
    assert plain.query_bank is None and plain.familiarity_threshold is None
    raw = _unit(0.9, 0.3)
    encoder = _FixedEncoder(raw)
    sound = QueryReader(plain, encoder=encoder).read("x").sounds[0]
    np.testing.assert_array_equal(sound.embedding, raw)  # no bank: as is, never a warning
    assert sound.reading == () and sound.familiarity is None and sound.known

    extra = {
        "query_bank": {"file": "query_bank.npz", "temperature": 0.01, "familiarity_threshold": 0.7}
    }
    b = make_delay_bundle(tmp_path / "b", query_bank=BANK, extra_manifest=extra)
    assert b.query_bank is not None and b.query_bank.shape == (3, DIM)
    assert b.query_temperature == 0.01 and "query_bank.npz" in b.files
    assert b.familiarity_threshold == 0.7
    reader = QueryReader(b, encoder=encoder)
    np.testing.assert_allclose(
        reader.read("x").sounds[0].embedding, BANK["an accordion"], atol=1e-4
    )
    assert "query snap 3 training captions, temperature 0.01, familiarity threshold 0.7" in (
        describe(b)
    )
    reader.snap = False  # a runtime option of the same reader: no bundle rebuilt
    np.testing.assert_allclose(reader.read("x").sounds[0].embedding, raw, atol=1e-6)
    assert len(encoder.calls) == 2  # once per reader: the second read was cached


def test_written_bank_is_float16_and_snaps_as_float32(tmp_path) -> None:
    """write_query_bank stores float16 (half the bytes); snaps move by < 1e-3.

    The helper bundles above carry float32 banks, as bundles before this did: both read.
    """
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((300, DIM)).astype(np.float32)  # [N, D]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = {f"caf\u00e9 noise {i}": v for i, v in enumerate(vectors)}  # non-ASCII text
    b = make_delay_bundle(tmp_path / "a", query_bank=texts, snap_temperature=0.05)
    write_query_bank(b.path / "small.npz", texts)
    with np.load(b.path / "small.npz") as data:
        assert data["vectors"].dtype == np.float16
    assert (b.path / "small.npz").stat().st_size < 0.6 * (b.path / "query_bank.npz").stat().st_size

    manifest = json.loads((b.path / MANIFEST).read_text())
    manifest["query_bank"]["file"] = "small.npz"
    sha = hashlib.sha256((b.path / "small.npz").read_bytes()).hexdigest()
    manifest["files"]["small.npz"] = sha
    del manifest["files"]["query_bank.npz"]
    (b.path / "query_bank.npz").unlink()
    (b.path / MANIFEST).write_text(json.dumps(manifest))
    small = load_bundle(b.path)
    assert small.query_bank is not None and small.query_bank.dtype == np.float32
    assert small.query_bank_texts == tuple(texts)
    for query in rng.standard_normal((20, DIM)).astype(np.float32):  # [D] each
        query /= np.linalg.norm(query)
        np.testing.assert_allclose(
            snap(query, small.query_bank, 0.05), snap(query, vectors, 0.05), atol=1e-3
        )


@pytest.mark.parametrize(
    ("bank", "temperature", "message"),
    [
        ({"x": _unit(1)[:-1]}, 0.05, r"\[N, 384\] vectors"),
        ({"x": 2 * _unit(1)}, 0.05, "unit length"),
        (BANK, 0.0, "temperature must be > 0"),
        (BANK, "warm", "temperature must be > 0"),
        (BANK, 0.05, "familiarity_threshold must be a cosine"),
    ],
)
def test_bad_banks_are_refused(tmp_path, bank, temperature, message) -> None:
    extra = {"query_bank": {"file": "query_bank.npz", "temperature": temperature}}
    if "familiarity" in message:
        extra["query_bank"]["familiarity_threshold"] = 1.5
    with pytest.raises(BundleError, match=message):
        make_delay_bundle(tmp_path, query_bank=bank, extra_manifest=extra)


def test_a_bank_must_be_listed_and_unchanged(tmp_path) -> None:
    b = make_delay_bundle(tmp_path, query_bank=BANK)
    (b.path / "query_bank.npz").write_bytes(b"not an npz")
    with pytest.raises(BundleError, match=r"query_bank\.npz: sha256 mismatch"):
        load_bundle(b.path)
    manifest = json.loads((b.path / MANIFEST).read_text())
    manifest["query_bank"]["file"] = "other.npz"
    (b.path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="other.npz is used but not listed"):
        load_bundle(b.path)


@pytest.mark.parametrize(
    ("query", "sounds"),
    [
        ("a dog", [("a dog", True)]),
        ("barking", [("barking", True)]),
        ("isolate the dog barking", [("isolate the dog barking", True)]),  # a caption's shape
        ("keep only the piano", [("keep only the piano", True)]),
        ("remove the dog", [("the dog", False)]),
        ("  Remove   the dog.  ", [("the dog", False)]),
        ("please get rid of the hum, please!", [("the hum", False)]),
        ("without: rain", [("rain", False)]),
        ("no traffic noise", [("traffic noise", False)]),
        ("no music", [("music", False)]),
        ("mute the drums", [("the drums", False)]),
        ("remove all the birds", [("the birds", False)]),
        # Words that only start like a removal phrase, or a phrase alone, stay as typed.
        ("noise", [("noise", True)]),
        ("removed furniture", [("removed furniture", True)]),
        ("the sound of no one", [("the sound of no one", True)]),
        ("remove", [("remove", True)]),
        # "and" joins two sounds only before a determiner or a role word
        ("a bow and arrow", [("a bow and arrow", True)]),
        ("rock and roll", [("rock and roll", True)]),
        # keep and remove in one query
        ("voice, not wind", [("voice", True), ("wind", False)]),
        ("speech without the noise", [("speech", True), ("the noise", False)]),
        ("speech but not the wind", [("speech", True), ("the wind", False)]),
        ("keep the voice, remove the wind", [("keep the voice", True), ("the wind", False)]),
        (
            "keep the guitar and the drums, remove the crowd",
            [("keep the guitar", True), ("the drums", True), ("the crowd", False)],
        ),
        ("everything but the dog", [("the dog", False)]),
        ("all sounds except the dog and the cat", [("the dog", False), ("the cat", False)]),
        ("no music, keep the voice", [("music", False), ("keep the voice", True)]),
    ],
)
def test_parse_request(query: str, sounds: list[tuple[str, bool]]) -> None:
    assert parse_request(query) == sounds


def test_parse_request_mode_and_limits() -> None:
    assert parse_request("drums", "remove") == [("drums", False)]
    # a query that says what to remove is taken as written, whatever the mode
    assert parse_request("voice, not wind", "remove") == [("voice", True), ("wind", False)]
    for bad in ("", "   ", None):
        with pytest.raises(QueryError):
            parse_request(bad)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="mode"):
        parse_request("drums", "sideways")
    many = ", ".join(f"sound {i}" for i in range(MAX_SOUNDS + 1))
    with pytest.raises(QueryError, match=f"at most {MAX_SOUNDS}"):
        parse_request(many)


def test_request_signs_mixture_and_padding(tmp_path) -> None:
    b = make_delay_bundle(tmp_path)  # cached: speech (gain 1), dog barking (0.25), silence
    reader = QueryReader(b, encoder=_FixedEncoder(_unit(1)))
    plain = reader.read("speech")
    assert plain.weights.tolist() == [1.0] and plain.mixture == 0.0
    removed = reader.read("everything but the dog barking")
    assert removed.weights.tolist() == [-1.0] and removed.mixture == 1.0
    both = reader.read("speech, not dog barking")  # the kept estimate stands alone
    assert [s.text for s in both.sounds] == ["speech", "dog barking"]  # both read
    assert [s.text for s in both.active] == ["speech"]
    assert both.weights.tolist() == [1.0] and both.mixture == 0.0
    assert both.describe() == "keep: speech; leave out: dog barking"
    two = reader.read("speech and the dog barking, not silence")
    assert two.weights.tolist() == [1.0, 1.0] and two.mixture == 0.0
    conditions, weights = two.padded(MAX_SOUNDS)  # [4, D], [4]
    assert conditions.shape == (MAX_SOUNDS, DIM) and weights.tolist() == [1, 1, 0, 0]
    np.testing.assert_array_equal(conditions[3], conditions[1])  # padded with the last
    removals = reader.read("remove speech and the dog barking")
    assert removals.weights.tolist() == [-1.0, -1.0] and removals.mixture == 1.0
    assert removals.describe() == "remove: speech, the dog barking"
    parts = reader.read_parts(["speech"], ["dog barking"])
    np.testing.assert_array_equal(parts.conditions, both.conditions)
    assert isinstance(parts, Request) and parts.weights.tolist() == [1.0]
    with pytest.raises(QueryError, match="no sound"):
        reader.read_parts([], [])


def test_unknown_sounds_warn_with_the_nearest_known_ones(tmp_path) -> None:
    extra = {
        "query_bank": {"file": "query_bank.npz", "temperature": 0.05, "familiarity_threshold": 0.8}
    }
    b = make_delay_bundle(tmp_path, query_bank=BANK, extra_manifest=extra, embeddings={})
    near = QueryReader(b, encoder=_FixedEncoder(_unit(1, 0.1))).read("a squeezebox")
    assert near.warnings() == [] and near.sounds[0].familiarity > 0.99
    assert [text for text, _, _ in near.sounds[0].reading] == ["an accordion", "a trumpet", "rain"]
    assert sum(w for _, w, _ in near.sounds[0].reading) == pytest.approx(1.0)
    far = QueryReader(b, encoder=_FixedEncoder(_unit(0.1, 0.1, 0.1, 1))).read(
        "voice, not keyboard typing"
    )
    warnings = far.warnings()
    assert len(warnings) == 2 and all(w.startswith("warning: ") for w in warnings)
    assert 'does not know "keyboard typing"' in warnings[1]
    assert '"an accordion"' in warnings[1]  # the nearest known sounds are named
    lower = QueryReader(b, encoder=_FixedEncoder(_unit(0.1, 0.1, 0.1, 1)), threshold=0.05)
    assert lower.read("keyboard typing").warnings() == []  # the host may override it


def test_default_encoder_is_the_packaged_onnx_minilm(tmp_path) -> None:
    from livesep.text.minilm_onnx import MiniLMOnnxEncoder

    for name in ("minilm", "minilm-onnx"):  # "minilm-onnx": what older bundles say
        b = make_delay_bundle(tmp_path, name=name, encoder_name=name)
        encoder = default_encoder(b, torch_free=True)
        assert isinstance(encoder, MiniLMOnnxEncoder) and encoder.name == "minilm"
    clap = make_delay_bundle(tmp_path, name="clap", encoder_name="clap")
    with pytest.raises(QueryError, match="must be cached in the bundle"):
        default_encoder(clap, torch_free=True)


def test_offline_and_live_hosts_read_through_the_seam(tmp_path) -> None:
    cached = {"speech": _unit(0.2, 0.9).tolist()}
    b = make_delay_bundle(tmp_path, embeddings=cached, query_bank=BANK, snap_temperature=0.01)
    encoder = _FixedEncoder(_unit(0.9, 0.3))
    sep = Separator(b.path, encoder=encoder)
    rows = sep.read("speech and a squeezebox").conditions  # cached, then encoded
    np.testing.assert_allclose(rows[0], BANK["a trumpet"], atol=1e-4)
    np.testing.assert_allclose(rows[1], BANK["an accordion"], atol=1e-4)
    assert Separator(b.path, encoder=encoder, snap=False).read("speech").sounds[0].familiarity

    with Engine(b, encoder=_FixedEncoder(_unit(0, 0, 1))) as engine:
        request = engine.set_query_blocking("a downpour")
        np.testing.assert_allclose(request.conditions[0], BANK["rain"], atol=1e-4)
        assert not engine.queries.needs_encoder("a downpour")  # cached for the next time


def test_separate_prints_readings_and_warnings_before_the_work(tmp_path, capsys) -> None:
    extra = {
        "query_bank": {"file": "query_bank.npz", "temperature": 0.05, "familiarity_threshold": 0.5}
    }
    cached = {"speech": BANK["rain"].tolist(), "keyboard typing": _unit(0.3, 0.3, 0.3, 1).tolist()}
    b = make_delay_bundle(tmp_path / "b", query_bank=BANK, embeddings=cached, extra_manifest=extra)
    src = tmp_path / "in.wav"
    sf.write(src, np.zeros(1600, np.float32), 16000)
    argv = ["separate", str(src), "--bundle", str(b.path), "--out-dir", str(tmp_path)]
    assert main([*argv, "-q", "speech", "-q", "remove keyboard typing"]) == 0
    err = capsys.readouterr().err
    assert 'query "speech" reads as: rain (' in err
    warning = next(line for line in err.splitlines() if "warning:" in line)
    assert 'does not know "keyboard typing"' in warning and '"rain"' in warning
    assert err.index("warning:") < err.index("s of audio")  # before the progress bar
    assert main([*argv, "-q", "speech", "--quiet", "--overwrite"]) == 0
    assert "reads as" not in capsys.readouterr().err


def test_the_reader_builds_its_encoder_only_for_new_texts_and_releases_it(tmp_path) -> None:
    b = make_delay_bundle(tmp_path, embeddings={"drums": _unit(0, 1).tolist()})
    built: list[_FixedEncoder] = []

    def factory() -> _FixedEncoder:
        built.append(_FixedEncoder(_unit(1)))
        return built[-1]

    sep = Separator(b.path, encoder=factory, expert=True)
    sep.read("drums")
    assert sep.route("drums") == "model" and not built  # cached: no encoder, routed too
    sep.read("a squeezebox, not drums")
    assert len(built) == 1 and built[0].calls == [["a squeezebox"]]
    assert sep.queries._encoder is None  # released after encoding
    sep.read("a squeezebox")
    assert len(built) == 1  # cached now
    given = _FixedEncoder(_unit(1))
    reader = QueryReader(b, encoder=given)
    reader.read("a kazoo")
    assert reader.encoder is given  # a given encoder is kept
