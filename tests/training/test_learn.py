"""`livesep learn` on a tiny exported model: the frozen model rebuilt from the bundle, a fit
that moves held-out SDRi up, the store round trip through the CLI, refit, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers.streaming_models import random_model, tiny_config

from livesep.bundle import load_bundle
from livesep.cli import main
from livesep.errors import AudioError, CheckpointError, QueryError
from livesep.export.bundle_export import export_bundle
from livesep.learned import LearnedQuery, QueryStore
from livesep.model import save_checkpoint
from livesep.training import learn as lr

RATE = 16000  # Hz, the tiny model's


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model shaped like the default one (no bottleneck GRU), exported."""
    model = random_model(tiny_config(embed_dim=384, gru_hidden=0), seed=5)
    out = tmp_path_factory.mktemp("learn") / "tiny"
    export_bundle(model, out, name="tiny", chunk_hops=4)
    return out


@pytest.fixture
def store(tmp_path, monkeypatch) -> QueryStore:
    monkeypatch.setenv("LIVESEP_QUERIES_DIR", str(tmp_path / "queries"))
    return QueryStore()


def _buzz(seconds: float, seed: int) -> np.ndarray:
    """A pulsed harmonic buzz: the sound to learn."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    f0 = rng.uniform(180, 260)
    x = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 6))
    return (0.2 * x * (np.sin(2 * np.pi * 3 * t) > 0)).astype(np.float32)


def _examples(folder: Path, files: int = 4, seconds: float = 1.5) -> list[Path]:
    paths = []
    for i in range(files):
        path = folder / f"buzz{i}.wav"
        sf.write(path, _buzz(seconds, i), RATE)
        paths.append(path)
    return paths


def test_model_rebuilt_from_the_graphs_matches_them(tiny_bundle: Path) -> None:
    bundle = load_bundle(tiny_bundle)
    model = lr.model_for_bundle(bundle)  # raises unless torch == ONNX to PARITY_ATOL
    assert lr.check_parity(model, bundle) < 1e-3
    assert not any(p.requires_grad for p in model.parameters())


def test_gru_models_need_their_checkpoint(tmp_path: Path) -> None:
    model = random_model(tiny_config(embed_dim=384), seed=6)  # with a bottleneck GRU
    bundle = export_bundle(model, tmp_path / "gru", name="gru", chunk_hops=0)
    with pytest.raises(CheckpointError, match="give --checkpoint"):
        lr.model_for_bundle(bundle)
    save_checkpoint(tmp_path / "gru.pt", model)
    assert lr.check_parity(lr.model_for_bundle(bundle, tmp_path / "gru.pt"), bundle) < 1e-3
    other = random_model(tiny_config(embed_dim=384), seed=7)
    save_checkpoint(tmp_path / "other.pt", other)
    with pytest.raises(CheckpointError, match="does not match the bundle"):
        lr.model_for_bundle(bundle, tmp_path / "other.pt")


def test_fit_moves_held_out_sdri_up(tiny_bundle: Path, tmp_path: Path) -> None:
    bundle = load_bundle(tiny_bundle)
    model = lr.model_for_bundle(bundle)
    examples = lr.load_examples(_examples(tmp_path), RATE, min_active_s=lr.MIN_ACTIVE_S)
    train, held = lr.split_examples(examples, RATE)
    assert {e.path for e in train}.isdisjoint({e.path for e in held})  # split by file
    settings = lr.LearnSettings(steps=30, batch=2, segment_s=0.5, val_every=10, bf16=False)
    start = np.zeros(384, np.float32)
    result = lr.learn(model, examples, lr.Interferers([], RATE), start, settings)
    assert result.sdri_db > result.start_sdri_db + 0.5
    assert result.history[0] == (0, result.start_sdri_db) and result.steps == 30
    assert np.all(np.isfinite(result.vector)) and result.vector.shape == (384,)


def test_cli_store_round_trip(tiny_bundle: Path, store: QueryStore, tmp_path: Path, capsys) -> None:
    files = _examples(tmp_path)
    before = [p.read_bytes() for p in files]
    b = ["--bundle", str(tiny_bundle)]
    assert main(["learn", "buzz", *map(str, files), *b, "--steps", "3", "--quiet"]) == 0
    assert [p.read_bytes() for p in files] == before  # inputs only read
    query = store.load("buzz")
    assert query.bundle_digest == load_bundle(tiny_bundle).digest
    assert query.settings["steps"] == 3 and len(query.examples) == 4
    assert main(["learn", "--list", *b]) == 0
    assert capsys.readouterr().out.startswith("buzz")
    src, out = tmp_path / "mix.wav", tmp_path / "out.wav"
    sf.write(src, _buzz(1.0, 9) + 0.05 * np.random.default_rng(0).standard_normal(RATE), RATE)
    sep = ["separate", str(src), "-q", "remove @buzz", *b, "-o", str(out), "--quiet"]
    assert main(sep) == 0 and out.exists()
    # The same name again is refused; --replace replaces.
    assert main(["learn", "buzz", str(files[0]), *b, "--quiet"]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["learn", "--forget", "buzz"]) == 0
    assert store.names() == []


def test_refit_for_another_bundle(tiny_bundle: Path, store: QueryStore, tmp_path: Path) -> None:
    old = LearnedQuery(
        "old",
        np.zeros(384, np.float32),
        "0" * 64,
        "gone",
        None,
        None,
        {"steps": 2, "batch": 2, "segment_s": 0.5, "bf16": False},
    )
    store.save(old, examples=_examples(tmp_path))
    digest = load_bundle(tiny_bundle).digest
    with pytest.raises(QueryError, match="another bundle"):
        store.load("old").check_bundle(digest)
    assert main(["learn", "--refit", "--bundle", str(tiny_bundle), "--quiet"]) == 0
    refit = store.load("old")
    refit.check_bundle(digest)
    assert refit.settings["steps"] == 2 and len(refit.examples) == 4


def test_bad_input_is_a_one_line_error(
    tiny_bundle: Path, store: QueryStore, tmp_path: Path, capsys
) -> None:
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(RATE * 5, np.float32), RATE)
    short = tmp_path / "short.wav"
    sf.write(short, _buzz(1.0, 0), RATE)
    b = ["--bundle", str(tiny_bundle), "--quiet"]
    cases = [
        (["learn", "x", str(silent), *b], "0.0 s of sound"),
        (["learn", "x", str(short), *b], "give at least 3 s"),
        (["learn", "x", str(tmp_path / "missing.wav"), *b], "missing.wav"),
        (["learn", "../x", str(short), *b], "not allowed"),
        (["learn", "x", *b], "no examples"),
        (["learn", "--forget", "nothing"], "no learned query @nothing"),
    ]
    for argv, message in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
    assert store.names() == []
    with pytest.raises(AudioError):
        lr.load_examples([silent], RATE, min_active_s=1.0)


def test_ctrl_c_keeps_the_best_so_far(tiny_bundle: Path, tmp_path: Path) -> None:
    bundle = load_bundle(tiny_bundle)
    model = lr.model_for_bundle(bundle)
    examples = lr.load_examples(_examples(tmp_path), RATE, min_active_s=lr.MIN_ACTIVE_S)
    settings = lr.LearnSettings(steps=50, batch=2, segment_s=0.5, val_every=2, bf16=False)

    def interrupt_at_5(step: int, snr: float, best: float) -> None:
        if step == 5:
            raise KeyboardInterrupt

    start = np.zeros(384, np.float32)
    result = lr.learn(model, examples, lr.Interferers([], RATE), start, settings, interrupt_at_5)
    assert result.interrupted and result.steps == 5
    assert result.sdri_db == max(score for _, score in result.history)
