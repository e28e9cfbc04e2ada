"""Checkpoints: the released AudioSep Lightning format (strict) and livesep's own round trip."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from helpers.resunet30 import TINY, randomize

from livesep.errors import CheckpointError
from livesep.model import (
    ResUNet30,
    build_model,
    load_audiosep_checkpoint,
    load_checkpoint,
    save_checkpoint,
)


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _inputs(hop: int, dim: int, batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(3)
    mixture = 0.3 * torch.randn(batch, hop * 20 + 7, generator=gen)  # [B, T]
    embedding = torch.randn(batch, dim, generator=gen)  # [B, D]
    return mixture, embedding


def _lightning(separator: dict[str, torch.Tensor]) -> dict[str, Any]:
    """A checkpoint shaped like `audiosep_base_4M_steps.ckpt`: separator under `ss_model.`,
    CLAP beside it under `query_encoder.`, optimizer state, a numpy scalar, other entries."""
    state: dict[str, Any] = {f"ss_model.{key}": value for key, value in separator.items()}
    state["query_encoder.model.text_branch.embeddings.word_embeddings.weight"] = torch.randn(9, 4)
    state["query_encoder.model.text_projection.0.weight"] = torch.randn(4, 4)
    return {
        "epoch": 3,
        "global_step": 4_000_000,
        "pytorch-lightning_version": "1.9.0",
        "state_dict": state,
        "optimizer_states": [{"state": {0: {"exp_avg": torch.zeros(3)}}, "param_groups": []}],
        "lr_schedulers": [{"last_epoch": 7}],
        "callbacks": {"ModelCheckpoint": {"best_model_score": np.float64(0.25)}},
    }


def _tiny_source(seed: int = 0) -> ResUNet30:
    torch.manual_seed(seed)
    model = randomize(ResUNet30(TINY))
    assert isinstance(model, ResUNet30)
    return model


# --- the released AudioSep format -------------------------------------------------------


def test_audiosep_lightning_checkpoint_loads_full_size(tmp_path: Path) -> None:
    torch.manual_seed(0)
    source = randomize(ResUNet30())
    path = tmp_path / "audiosep.ckpt"
    torch.save(_lightning(source.state_dict()), path, pickle_protocol=4)
    loaded = load_audiosep_checkpoint(path)
    assert not loaded.training
    for key, value in source.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    mixture, embedding = _inputs(320, 512, batch=1)
    with torch.no_grad():
        assert torch.equal(loaded(mixture, embedding), source(mixture, embedding))


def test_audiosep_checkpoint_gives_identical_outputs_tiny(tmp_path: Path) -> None:
    source = _tiny_source()
    path = tmp_path / "tiny.ckpt"
    torch.save(_lightning(source.state_dict()), path)
    loaded = load_audiosep_checkpoint(path, config=TINY)
    mixture, embedding = _inputs(TINY.hop, TINY.condition_size)
    with torch.no_grad():
        assert torch.equal(loaded(mixture, embedding), source(mixture, embedding))


def _broken(tmp_path: Path, edit: str) -> Path:
    state = _tiny_source().state_dict()
    if edit == "missing":
        del state["base.decoder_block2.conv_block2.conv1.weight"]
    elif edit == "unexpected":
        state["base.decoder_block9.conv1.weight"] = torch.zeros(1)
    elif edit == "shape":
        state["film.conv_block7a->conv_block1->beta2.weight"] = torch.zeros(7, 16)
    path = tmp_path / f"{edit}.ckpt"
    torch.save(_lightning(state), path)
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("missing", r"1 missing keys: base\.decoder_block2\.conv_block2\.conv1\.weight"),
        ("unexpected", r"1 unexpected keys: base\.decoder_block9\.conv1\.weight"),
        ("shape", r"1 shape mismatches: film\.conv_block7a->conv_block1->beta2\.weight \[7, 16\]"),
    ],
)
def test_audiosep_checkpoint_is_strict(tmp_path: Path, edit: str, message: str) -> None:
    path = _broken(tmp_path, edit)
    with pytest.raises(CheckpointError, match=f"{edit}.ckpt: .*{message}"):
        load_audiosep_checkpoint(path, config=TINY)


def test_many_missing_keys_are_counted_not_all_listed(tmp_path: Path) -> None:
    state = {k: v for k, v in _tiny_source().state_dict().items() if not k.startswith("film.")}
    path = tmp_path / "nofilm.ckpt"
    torch.save(_lightning(state), path)
    with pytest.raises(CheckpointError, match=r"missing keys: film\..*\(\d+ more\)") as info:
        load_audiosep_checkpoint(path, config=TINY)
    n_film = sum(1 for k in ResUNet30(TINY).state_dict() if k.startswith("film."))
    assert f"{n_film} missing keys" in str(info.value)
    assert "\n" not in str(info.value)


def test_not_a_lightning_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "bare.pt"
    torch.save(_tiny_source().state_dict(), path)
    with pytest.raises(CheckpointError, match="not a Lightning checkpoint"):
        load_audiosep_checkpoint(path, config=TINY)
    path = tmp_path / "clap_only.pt"
    torch.save({"state_dict": {"query_encoder.model.w": torch.zeros(1)}}, path)
    with pytest.raises(CheckpointError, match="no 'ss_model"):
        load_audiosep_checkpoint(path, config=TINY)


# --- livesep checkpoints ----------------------------------------------------------------


def test_save_load_round_trip_resunet30(tmp_path: Path) -> None:
    source = _tiny_source()
    path = tmp_path / "model.pt"
    optimizer = {  # shaped like torch.optim's state_dict()
        "state": {0: {"step": torch.tensor(12.0), "exp_avg": torch.randn(4, 1, 1, 1)}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0]}],
    }
    save_checkpoint(path, source, step=12, optimizer=optimizer, sdri=np.float32(3.5))
    assert sorted(os.listdir(tmp_path)) == ["model.pt"]  # no temporary file left behind
    model, extra = load_checkpoint(path)
    assert isinstance(model, ResUNet30) and not model.training
    assert model.config == TINY
    assert extra["step"] == 12 and extra["sdri"] == np.float32(3.5)
    assert extra["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert torch.equal(extra["optimizer"]["state"][0]["exp_avg"], optimizer["state"][0]["exp_avg"])
    mixture, embedding = _inputs(TINY.hop, TINY.condition_size)
    with torch.no_grad():
        assert torch.equal(model(mixture, embedding), source(mixture, embedding))


def test_checkpoint_is_plain_weights_only(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    save_checkpoint(path, _tiny_source(), step=1)
    raw = torch.load(path, weights_only=True, map_location="cpu")
    assert raw["family"] == "resunet30"
    assert raw["config"] == dataclasses.asdict(TINY)
    assert set(raw) == {"family", "config", "model", "step"}


def test_save_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    save_checkpoint(path, _tiny_source(seed=0), step=1)
    before = path.read_bytes()
    with pytest.raises(Exception):  # noqa: B017 - whatever pickle raises for a lambda
        save_checkpoint(path, _tiny_source(seed=1), hook=lambda: None)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.pt"]
    save_checkpoint(path, _tiny_source(seed=1), step=2)  # overwriting works
    assert load_checkpoint(path)[1] == {"step": 2}


def test_reserved_extra_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="may not be named"):
        save_checkpoint(tmp_path / "x.pt", _tiny_source(), config={})


def test_load_checkpoint_errors_name_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "lightning.ckpt"
    torch.save(_lightning(_tiny_source().state_dict()), path)
    with pytest.raises(CheckpointError, match="not a livesep checkpoint"):
        load_checkpoint(path)
    path = tmp_path / "mismatch.pt"
    save_checkpoint(path, _tiny_source())
    raw = torch.load(path, weights_only=True)
    raw["config"]["channels"] = [4, 6]
    torch.save(raw, path)
    with pytest.raises(CheckpointError, match=r"mismatch\.pt: .*shape mismatches: base\."):
        load_checkpoint(path)


def test_build_model_takes_json_lists_back_to_tuples() -> None:
    config = json.loads(json.dumps(dataclasses.asdict(TINY)))
    assert isinstance(config["pooling"][0], list)
    model = build_model("resunet30", config)
    assert isinstance(model, ResUNet30) and model.config == TINY
    assert model.config.pooling == ((2, 2), (1, 2))


def test_build_model_errors() -> None:
    with pytest.raises(CheckpointError, match="unknown model family 'transformer'"):
        build_model("transformer", {})
    with pytest.raises(CheckpointError, match="unknown keys: n_mels"):
        build_model("resunet30", {**dataclasses.asdict(TINY), "n_mels": 64})
    with pytest.raises(CheckpointError, match="config is invalid"):
        build_model("resunet30", {"channels": [4, 8], "pooling": [[2, 2]]})


def test_save_load_round_trip_streaming(tmp_path: Path) -> None:
    streaming_models = pytest.importorskip(
        "helpers.streaming_models", reason="livesep.model.streaming is not available"
    )
    torch.manual_seed(0)
    source = streaming_models.randomize(
        build_model("streaming", dataclasses.asdict(streaming_models.TINY))
    )
    path = tmp_path / "streaming.pt"
    save_checkpoint(path, source, step=5)
    model, extra = load_checkpoint(path)
    assert model.family == "streaming" and extra == {"step": 5}
    assert model.config == source.config
    mixture, embedding = _inputs(source.config.hop, source.config.embed_dim)
    with torch.no_grad():
        assert torch.equal(model(mixture, embedding), source(mixture, embedding))
