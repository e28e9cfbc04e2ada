"""Resume exactness: a run killed with SIGKILL and resumed ends where an uninterrupted run
ends, parameter for parameter."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from helpers.synth_corpus import TINY_CONFIG, tiny_overrides, write_caption_cache

from livesep.errors import CheckpointError
from livesep.training.config import load_config
from livesep.training.train import LAST, load_training_state, train

STEPS = 16
EXTRA = ["ckpt_every=2", "val_every=0", "mix.silence_prob=0.2", "mix.lowpass_prob=0.5"]
KILL_TIMEOUT_S = 240.0  # generous: the machine is shared


def _overrides(corpus: Path, run: Path) -> list[str]:
    return tiny_overrides(corpus, run, steps=STEPS) + EXTRA


def _kill_after_first_checkpoint(corpus: Path, run: Path) -> int:
    """Start training in a subprocess, SIGKILL it once last.pt exists; the step it had."""
    cmd = [
        sys.executable,
        "-m",
        "livesep.training",
        "--config",
        str(TINY_CONFIG),
        "--no-progress",
        *_overrides(corpus, run),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + KILL_TIMEOUT_S
    try:
        while not (run / LAST).exists():
            if proc.poll() is not None:
                raise AssertionError(f"training exited early: {proc.stderr.read().decode()}")
            if time.monotonic() > deadline:
                raise AssertionError("no checkpoint appeared")
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()
    return int(load_training_state(run / LAST)["step"])


def test_sigkill_then_resume_matches_an_uninterrupted_run(
    synth_corpus: Path, tmp_path: Path
) -> None:
    torch.set_num_threads(1)
    killed = tmp_path / "killed"
    write_caption_cache(killed)
    step_at_kill = _kill_after_first_checkpoint(synth_corpus, killed)
    assert 0 < step_at_kill < STEPS  # it really was interrupted mid-way
    resumed = train(
        load_config(TINY_CONFIG, _overrides(synth_corpus, killed)), resume=True, progress=False
    )

    straight = tmp_path / "straight"
    write_caption_cache(straight)
    reference = train(load_config(TINY_CONFIG, _overrides(synth_corpus, straight)), progress=False)

    ref_state, res_state = reference.state_dict(), resumed.state_dict()
    assert ref_state.keys() == res_state.keys()
    for name, value in ref_state.items():
        torch.testing.assert_close(res_state[name], value, rtol=0, atol=1e-6, msg=name)
    a = load_training_state(killed / LAST)
    b = load_training_state(straight / LAST)
    assert a["step"] == b["step"] == STEPS
    for sa, sb in zip(
        a["optimizer"]["state"].values(), b["optimizer"]["state"].values(), strict=True
    ):
        torch.testing.assert_close(sa["exp_avg_sq"], sb["exp_avg_sq"], rtol=0, atol=1e-9)


def test_resume_without_a_checkpoint_is_a_clear_error(synth_corpus: Path, tmp_path: Path) -> None:
    run = tmp_path / "empty"
    write_caption_cache(run)
    with pytest.raises(CheckpointError, match="nothing to resume"):
        train(load_config(TINY_CONFIG, _overrides(synth_corpus, run)), resume=True, progress=False)
