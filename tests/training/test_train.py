"""Training config and loop: overrides, errors, the loss goes down, checkpoints load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.synth_corpus import TINY_CONFIG as TINY
from helpers.synth_corpus import tiny_overrides, write_caption_cache

from livesep.cli import main as cli_main
from livesep.errors import ConfigError
from livesep.model import load_checkpoint
from livesep.training.config import load_config
from livesep.training.train import LAST, LOG, build_separator, lr_factor, train


def test_yaml_and_dotted_overrides(tmp_path: Path) -> None:
    cfg = load_config(TINY, ["optim.lr=1e-4", "model.config.widths=[4,8]", "bf16=true"])
    assert cfg.optim.lr == pytest.approx(1e-4)  # YAML reads 1e-4 as a string: coerced
    assert cfg.model.config["widths"] == [4, 8]
    assert cfg.model.config["n_fft"] == 128  # the rest of the nested dict is kept
    assert cfg.bf16 is True
    assert cfg.mix.gain_db_min == -10  # default


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["optim.lrr=1"], "optim.lrr"),
        (["nosuchkey=1", "data.bogus=2"], "data.bogus, nosuchkey"),
        (["steps=many"], "config key steps"),
        (["optim.schedule=linear"], "optim.schedule"),
        (["mix.silence_prob=2"], "mix.silence_prob"),
        (["mix.eq_prob=-0.1"], "mix.eq_prob"),
        (["mix.speed_prob=2"], "mix.speed_prob"),
        (["mix.speed_semitones=13"], "mix.speed_semitones"),
        (["mix.eq_peak_db=-3"], "mix.eq_peak_db"),
        (["novalue"], "dotted.key=value"),
        (["bf16=maybe"], "config key bf16"),
    ],
)
def test_bad_config_names_the_key(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_config(TINY, overrides)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")


def test_lr_schedule_warms_up_then_decays() -> None:
    cfg = load_config(TINY, ["optim.warmup_steps=10", "optim.min_lr_ratio=0.1"]).optim
    factors = [lr_factor(s, cfg, 110) for s in range(110)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(factors[9:], factors[10:], strict=False))
    assert factors[-1] == pytest.approx(0.1, abs=1e-3)
    step = load_config(
        TINY,
        [
            "optim.schedule=step",
            "optim.warmup_steps=0",
            "optim.decay_every=5",
            "optim.decay_gamma=0.5",
        ],
    ).optim
    assert [lr_factor(s, step, 20) for s in (0, 4, 5, 12)] == [1.0, 1.0, 0.5, 0.25]


def _fixed_batch_loss(model: torch.nn.Module, cfg, run: Path) -> float:
    """Mean L1 on 8 fixed training examples (the dataset is a pure function of the index)."""
    from livesep.training.dataset import MixtureDataset, build_caption_table, load_corpus

    corpus = load_corpus(cfg.data, cache_dir=run)
    table = build_caption_table(corpus, cfg.data.text_encoder, run / "embeddings.npz")
    ds = MixtureDataset(corpus, table, cfg.mix, cfg.data.segment_s, seed=999)
    items = [ds[i] for i in range(8)]
    mix = torch.stack([it[0] for it in items])
    tgt = torch.stack([it[1] for it in items])
    emb = torch.from_numpy(table.embeddings[[it[2] for it in items]])
    model.eval()
    with torch.no_grad():
        return float((model(mix, emb) - tgt).abs().mean())


def test_tiny_model_learns_an_easy_task(synth_corpus: Path, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    run = tmp_path / "run"
    write_caption_cache(run)
    easy = [
        "mix.lowpass_prob=0",
        "mix.silence_prob=0",
        "mix.interferers_max=1",
        "mix.level_db_min=0",
        "mix.gain_db_min=0",
        "mix.gain_db_max=0",
        "optim.lr=1e-2",
        "val_every=0",
        "ckpt_every=0",
        "log_every=1",
    ]
    cfg = load_config(TINY, tiny_overrides(synth_corpus, run, steps=40) + easy)
    torch.manual_seed(cfg.seed)
    initial = _fixed_batch_loss(build_separator(cfg, 384), cfg, run)
    model = train(cfg, progress=False)
    final = _fixed_batch_loss(model, cfg, run)
    assert final < 0.7 * initial, (initial, final)
    losses = [
        json.loads(line)["train/loss"]
        for line in (run / LOG).read_text().splitlines()
        if "train/loss" in line
    ]
    assert len(losses) == 40
    assert np.mean(losses[-10:]) < np.mean(losses[:10])
    # The final checkpoint: the unwrapped model (strict key check: no `module.` prefix),
    # loadable with weights_only.
    loaded, extra = load_checkpoint(run / LAST)
    assert extra["step"] == 40
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    assert extra["train_config"]["steps"] == 40
    assert "val/sdri" in extra["metrics"]  # validation ran at the last step
    assert {"val/zeroshot/clicks", "val/val/tone"} <= set(extra["metrics"])


def test_cli_trains_and_reports_bad_keys(
    synth_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    write_caption_cache(run)
    args = [
        "train",
        "--config",
        str(TINY),
        "--no-progress",
        *tiny_overrides(synth_corpus, run, steps=3),
    ]
    assert cli_main(args) == 0
    assert (run / LAST).is_file() and (run / "config.yaml").is_file()
    assert any((run / "tb").iterdir())  # TensorBoard event file
    assert cli_main([*args, "optim.lrr=3"]) == 1
    assert "optim.lrr" in capsys.readouterr().err


def test_default_config_builds_the_default_streaming_model() -> None:
    cfg = load_config(TINY.parent / "default.yaml")
    model = build_separator(cfg, 384)
    assert model.family == "streaming" and model.config.sample_rate == cfg.data.sample_rate
    assert cfg.bf16 == "auto" and cfg.data.corpus == "corpus"


def test_lr_schedule_can_start_at_a_later_step() -> None:
    fresh = load_config(TINY, ["optim.warmup_steps=10", "steps=110"]).optim
    later = load_config(
        TINY, ["optim.warmup_steps=10", "optim.schedule_start=1000", "steps=1110"]
    ).optim
    assert [lr_factor(1000 + s, later, 1110) for s in range(110)] == [
        lr_factor(s, fresh, 110) for s in range(110)
    ]


def test_init_from_starts_a_new_run_on_trained_weights(synth_corpus: Path, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    first, second = tmp_path / "first", tmp_path / "second"
    for run in (first, second):
        write_caption_cache(run)
    quiet = ["val_every=0", "log_every=1", "ckpt_every=0"]
    train(load_config(TINY, tiny_overrides(synth_corpus, first, steps=4) + quiet), progress=False)
    start = [f"init_from={first / LAST}", "optim.schedule_start=4", "optim.warmup_steps=2"]
    # lr 0: the new run must end exactly on the weights it started from (the parameters;
    # BatchNorm's running statistics move in train mode whatever the lr)
    frozen = tiny_overrides(synth_corpus, second, steps=7) + quiet + start
    model = train(load_config(TINY, frozen + ["optim.lr=0", "loss.kind=snr"]), progress=False)
    source, _ = load_checkpoint(first / LAST)
    pairs = zip(source.named_parameters(), model.parameters(), strict=True)
    for (name, a), b in pairs:
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    # a real lr: steps 5..7 logged, the warm-up restarted
    (second / LOG).unlink()
    cfg = load_config(TINY, frozen + ["loss.kind=snr", "optim.lr=1e-3"])
    train(cfg, progress=False, overwrite=True)  # the lr-0 run's checkpoint is replaced
    rows = [json.loads(line) for line in (second / LOG).read_text().splitlines()]
    rows = [r for r in rows if "train/loss" in r]  # not the validation row
    assert [r["step"] for r in rows] == [5, 6, 7]
    assert rows[0]["train/lr"] == pytest.approx(1e-3)  # warm-up over 2 steps: 0.5, then 1
    _, extra = load_checkpoint(second / LAST)
    assert extra["step"] == 7 and extra["train_config"]["loss"]["kind"] == "snr"


def test_init_from_errors_name_the_fix(synth_corpus: Path, tmp_path: Path) -> None:
    from livesep.errors import CheckpointError

    torch.set_num_threads(1)
    first, second = tmp_path / "first", tmp_path / "second"
    for run in (first, second):
        write_caption_cache(run)
    quiet = ["val_every=0", "ckpt_every=0"]
    train(load_config(TINY, tiny_overrides(synth_corpus, first, steps=2) + quiet), progress=False)
    base = tiny_overrides(synth_corpus, second, steps=6) + quiet + [f"init_from={first / LAST}"]
    with pytest.raises(ConfigError, match="optim.schedule_start=2"):
        train(load_config(TINY, base), progress=False)
    with pytest.raises(CheckpointError, match="does not fit"):
        wider = ["optim.schedule_start=2", "model.config.widths=[12,24]"]
        train(load_config(TINY, base + wider), progress=False)
    with pytest.raises(ConfigError, match="optim.schedule_start"):
        load_config(TINY, base + ["optim.schedule_start=6"])


@pytest.mark.parametrize("kind", ["l1", "snr"])
def test_train_step_optimises_the_configured_loss(kind: str) -> None:
    from livesep.training.losses import waveform_loss
    from livesep.training.train import build_optimizer, train_step

    torch.manual_seed(0)
    cfg = load_config(TINY, [f"loss.kind={kind}", "optim.lr=0", "bf16=false"])
    model = build_separator(cfg, 384)
    opt, _ = build_optimizer(model, cfg)
    mix, target = torch.randn(2, 4000) * 0.1, torch.randn(2, 4000) * 0.05  # [B, T]
    target[1] = 0.0  # an absent-query example
    embeddings = torch.nn.functional.normalize(torch.randn(3, 384), dim=-1)  # [N, D]
    rows = torch.tensor([0, 2])
    model.eval()  # BatchNorm on running stats: the same output twice
    with torch.no_grad():
        expected = waveform_loss(kind, model(mix, embeddings[rows]), target, mix, 30.0)
    loss, _ = train_step(model, (mix, target, rows), embeddings, opt, cfg, torch.device("cpu"))
    assert loss == pytest.approx(float(expected), rel=1e-5)


def test_unknown_loss_kind_is_named() -> None:
    with pytest.raises(ConfigError, match=r"loss\.kind: 'l2' is not one of l1, snr"):
        load_config(TINY, ["loss.kind=l2"])
    with pytest.raises(ConfigError, match=r"loss\.snr_max_db"):
        load_config(TINY, ["loss.snr_max_db=0"])
