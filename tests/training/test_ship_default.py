"""scripts/ship_default.py: the provenance it writes chains the training phases."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ship_default.py"


@pytest.fixture(scope="module")
def ship() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ship_default", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(tmp_path: Path, hours: float) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("steps: 10\n")
    (run / "last.pt").write_bytes(b"")
    start = 1_700_000_000.0
    os.utime(run / "config.yaml", (start, start))
    os.utime(run / "last.pt", (start + hours * 3600, start + hours * 3600))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "build.json").write_text(
        json.dumps({"packages": {"p": {}}, "clips": 3, "seconds": 5400.0})
    )
    return run


def test_a_resumed_run_appends_a_phase_to_the_bundle_it_replaces(ship, tmp_path):
    run = _run(tmp_path, hours=1.5)
    previous = {"steps": 1300, "wall_time_h": 1.05, "machine": "avx2 box", "train_config": {}}
    extra = {"step": 8300, "train_config": {"steps": 8300}}
    prov = ship.provenance(run, tmp_path / "corpus", extra, previous)
    assert [p["steps"] for p in prov["phases"]] == [[0, 1300], [1300, 8300]]
    assert prov["phases"][0]["machine"] == "avx2 box"
    assert prov["phases"][1]["wall_time_h"] == 1.5
    assert prov["wall_time_h"] == pytest.approx(2.55)
    assert prov["steps"] == 8300 and prov["corpus"]["clips"] == 3
    assert prov["phases"][1]["corpus"] == {"clips": 3, "hours": 1.5}  # what this phase read
    # Shipping again later keeps the chain and adds the next phase.
    extra = {"step": 9000, "train_config": {}}
    again = ship.provenance(run, tmp_path / "corpus", extra, prov)
    assert [p["steps"] for p in again["phases"]] == [[0, 1300], [1300, 8300], [8300, 9000]]
    # Shipping the same state again (a new query bank, a re-export) keeps the chain whole.
    same = ship.provenance(run, tmp_path / "corpus", extra, again)
    assert same["phases"] == again["phases"] and same["wall_time_h"] == again["wall_time_h"]


def test_a_fresh_run_is_one_phase(ship, tmp_path):
    run = _run(tmp_path, hours=0.5)
    previous = {"steps": 9000, "wall_time_h": 3.0}  # a longer run it did not continue
    prov = ship.provenance(run, tmp_path / "corpus", {"step": 500}, previous)
    assert [p["steps"] for p in prov["phases"]] == [[0, 500]]
    assert prov["wall_time_h"] == 0.5
    assert ship.earlier_phases(None, 500) == []


def test_kept_checkpoint_is_float16_and_loads_as_the_shipped_model(
    ship: ModuleType, tmp_path: Path
) -> None:
    # The weights are rounded to float16 in place before the ship evaluates and exports
    # them, and stored as float16: loading the file gives exactly the model that shipped.
    import torch
    from helpers.streaming_models import random_model

    from livesep.model import load_checkpoint

    model = random_model(seed=3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    path = ship.keep_checkpoint(model, {"step": 7, "train_config": {"steps": 7}}, tmp_path / "c")
    stored = torch.load(path, weights_only=True)
    assert all(v.dtype == torch.float16 for v in stored["model"].values() if v.is_floating_point())
    assert all(p.dtype == torch.float32 for p in model.parameters())  # back to float32
    changed = 0
    for key, value in model.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(value, before[key].half().float(), rtol=0, atol=0)
            changed += int(not torch.equal(value, before[key]))
    assert changed  # the rounding did happen
    loaded, extra = load_checkpoint(path)
    assert extra["step"] == 7
    for key, value in loaded.state_dict().items():
        torch.testing.assert_close(value, model.state_dict()[key], rtol=0, atol=0)
