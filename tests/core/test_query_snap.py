"""Query snapping: the bank in a bundle, the snap itself, and every host applying it."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import soundfile as sf
from helpers.tiny_bundle import DIM, make_delay_bundle

from livesep.bundle import MANIFEST, describe, load_bundle, load_for_queries, write_query_bank
from livesep.cli import main
from livesep.errors import BundleError, QueryError
from livesep.realtime.controls import QueryEncoder
from livesep.separate import Separator
from livesep.text import snap


def _unit(*values: float) -> np.ndarray:
    v = np.zeros(DIM, np.float32)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


BANK = {"an accordion": _unit(1, 0), "a trumpet": _unit(0, 1), "rain": _unit(0, 0, 1)}


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


def test_bundle_carries_the_bank_and_conditions_with_it(tmp_path) -> None:
    plain = make_delay_bundle(tmp_path / "a")
    assert plain.query_bank is None
    raw = _unit(0.9, 0.3)
    np.testing.assert_array_equal(plain.condition(raw), raw)  # no bank: as is

    b = make_delay_bundle(tmp_path / "b", query_bank=BANK, snap_temperature=0.01)
    assert b.query_bank is not None and b.query_bank.shape == (3, DIM)
    assert b.query_temperature == 0.01 and "query_bank.npz" in b.files
    np.testing.assert_allclose(b.condition(raw), BANK["an accordion"], atol=1e-4)
    assert "query snap 3 training captions, temperature 0.01" in describe(b)
    assert load_bundle(b.path).query_temperature == 0.01  # a round trip keeps it
    raw_host = load_for_queries(b.path, snap=False)  # what --no-snap gives the hosts
    assert raw_host.query_bank is None
    np.testing.assert_array_equal(raw_host.condition(raw), raw)
    assert load_for_queries(b.path).query_bank is not None


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
    ],
)
def test_bad_banks_are_refused(tmp_path, bank, temperature, message) -> None:
    extra = {"query_bank": {"file": "query_bank.npz", "temperature": temperature}}
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


class _FixedEncoder:
    """A stand-in text encoder: every text embeds to `vector`."""

    dim = DIM

    def __init__(self, vector: np.ndarray) -> None:
        self.vector = vector

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.vector for _ in texts])  # [N, D]


def test_offline_and_live_hosts_condition_on_the_snapped_embedding(tmp_path) -> None:
    cached = {"speech": _unit(0.2, 0.9).tolist()}
    b = make_delay_bundle(tmp_path, embeddings=cached, query_bank=BANK, snap_temperature=0.01)
    sep = Separator(b.path, encoder=_FixedEncoder(_unit(0.9, 0.3)))
    rows = sep.embed(["speech", "a squeezebox"])  # cached, then encoded
    np.testing.assert_allclose(rows[0], BANK["a trumpet"], atol=1e-4)
    np.testing.assert_allclose(rows[1], BANK["an accordion"], atol=1e-4)

    live = QueryEncoder(b, lambda *_: None, lambda _: None, encoder=_FixedEncoder(_unit(0, 0, 1)))
    looked_up = live.lookup("speech")
    assert looked_up is not None
    np.testing.assert_allclose(looked_up, BANK["a trumpet"], atol=1e-4)
    np.testing.assert_allclose(live.encode_now("a downpour"), BANK["rain"], atol=1e-4)


def test_reading_names_the_captions_a_query_snaps_onto(tmp_path, capsys) -> None:
    b = make_delay_bundle(tmp_path / "b", query_bank=BANK, snap_temperature=0.05)
    read = b.reading(_unit(0.9, 0.3), top=2)
    assert [text for text, _ in read] == ["an accordion", "a trumpet"]
    assert read[0][1] > read[1][1] > 0
    assert sum(w for _, w in b.reading(_unit(1), 3)) == pytest.approx(1.0)
    assert load_for_queries(b.path, snap=False).reading(_unit(1)) == []

    sep = Separator(b.path, encoder=_FixedEncoder(_unit(0, 0, 1)))
    assert sep.reading("remove the downpour")[0][0] == "rain"  # the removal phrase is off

    src = tmp_path / "in.wav"
    sf.write(src, np.zeros(1600, np.float32), 16000)
    argv = ["separate", str(src), "-q", "speech", "--bundle", str(b.path)]
    assert main([*argv, "-o", str(tmp_path / "out.wav")]) == 0
    assert 'query "speech" reads as: ' in capsys.readouterr().err
