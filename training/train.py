"""The training loop: one readable loop, nanoGPT-style, with short helpers around it.

    livesep train --config configs/tiny.yaml out_dir=runs/tiny [--resume]
    torchrun --nproc-per-node 2 -m livesep.training --config configs/tiny.yaml

Each step: a batch of mixtures (AudioSep's recipe, `dataset.py`), the separator under bf16
autocast, L1 waveform loss (or a thresholded SNR loss, `loss.kind`), AdamW (amsgrad) with
warm-up then cosine/step decay, global grad clipping. Rank 0 logs (tqdm bar, TensorBoard),
validates (SDRi per class on fixed val and zero-shot mixtures) and writes `last.pt`
atomically. `--resume` restores model, optimizer, scheduler, step and every RNG, and the
data order is a function of the step, so a resumed run continues exactly where the
interrupted one was. `init_from` starts a new run (a new recipe, a new loss) from another
run's weights and step with a fresh optimizer.

A run folder that already holds a run (checkpoints or a log) is refused unless `--resume`
continues it or `--overwrite` clears it (checkpoints, log and TensorBoard files; the data
caches stay), so a forgotten `--resume` cannot replace hours of training.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from livesep.atomic import clean_stale_temps, write_text
from livesep.errors import CheckpointError, ConfigError
from livesep.training import distributed
from livesep.training.config import OptimConfig, TrainConfig, config_to_dict
from livesep.training.dataset import (
    CaptionTable,
    MixtureDataset,
    StepBatchSampler,
    ValidationItem,
    build_caption_table,
    describe,
    load_corpus,
    validation_set,
)
from livesep.training.losses import waveform_loss

__all__ = ["train", "lr_factor", "rng_state", "set_rng_state", "LAST", "load_training_state"]

LAST = "last.pt"  # the rolling checkpoint in out_dir
EMBEDDINGS = "embeddings.npz"  # caption embeddings cache in out_dir
LOG = "log.jsonl"  # scalars, one JSON object per logged step
TB = "tb"  # TensorBoard folder in out_dir


def run_files(out_dir: Path) -> list[Path]:
    """What a previous run left in `out_dir`: checkpoints, the log, TensorBoard files."""
    found = [out_dir / name for name in (LAST, LOG, TB) if (out_dir / name).exists()]
    return found + sorted(out_dir.glob("step_*.pt"))


def check_run_folder(cfg: TrainConfig, resume: bool, overwrite: bool) -> None:
    """Refuse to start a fresh run over an existing one without `overwrite`.

    Raises:
        ConfigError: `out_dir` holds a run and neither `resume` nor `overwrite` is set, both
            are, or `init_from` lies in what `overwrite` would delete.
    """
    out_dir = Path(cfg.out_dir)
    if resume and overwrite:
        raise ConfigError("--resume continues a run and --overwrite clears it: pick one")
    if resume:
        return
    existing = run_files(out_dir) if out_dir.is_dir() else []
    if existing and not overwrite:
        names = ", ".join(p.name for p in existing[:4])
        raise ConfigError(
            f"{out_dir} already holds a run ({names}): continue it with --resume, or start "
            "over with --overwrite (deletes its checkpoints and log)"
        )
    if overwrite and cfg.init_from:
        source = Path(cfg.init_from).resolve()
        if any(source == p.resolve() or p.resolve() in source.parents for p in existing):
            raise ConfigError(
                f"config key init_from: {cfg.init_from} is in the run --overwrite would clear"
            )


def clear_run_folder(out_dir: Path) -> None:
    """Delete a previous run's checkpoints, log and TensorBoard files (`--overwrite`)."""
    for path in run_files(out_dir):
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


@dataclass
class RunData:
    """Everything the loop draws from."""

    dataset: MixtureDataset
    captions: CaptionTable
    val_items: list[ValidationItem]


def lr_factor(step: int, cfg: OptimConfig, total_steps: int) -> float:
    """Multiplier of the base lr at `step`: linear warm-up, then cosine / step / constant.

    The schedule begins at `cfg.schedule_start` (a run started with `init_from`): steps and
    `total_steps` count from there.
    """
    step, total_steps = step - cfg.schedule_start, total_steps - cfg.schedule_start
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    if cfg.schedule == "constant":
        return 1.0
    if cfg.schedule == "step":
        return cfg.decay_gamma ** ((step - cfg.warmup_steps) // max(cfg.decay_every, 1))
    span = max(total_steps - cfg.warmup_steps, 1)
    progress = min((step - cfg.warmup_steps) / span, 1.0)
    cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
    return cfg.min_lr_ratio + (1.0 - cfg.min_lr_ratio) * cosine


# ---------------------------------------------------------------- RNG state (weights_only-safe)


def rng_state() -> dict[str, Any]:
    """Python, numpy and torch RNG states as tensors/lists/numbers (loadable weights_only)."""
    version, mt, gauss = random.getstate()
    _, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)  # type: ignore[misc]
    state: dict[str, Any] = {
        "python": [version, list(mt), [] if gauss is None else [gauss]],
        "numpy": [torch.from_numpy(np.asarray(keys, np.int64)), pos, has_gauss, cached],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state` returned."""
    version, mt, gauss = state["python"]
    random.setstate((int(version), tuple(int(x) for x in mt), gauss[0] if gauss else None))
    keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state(
        ("MT19937", keys.numpy().astype(np.uint32), int(pos), int(has_gauss), float(cached))
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# ---------------------------------------------------------------- setup


def _pick_device(name: str, local_rank: int) -> torch.device:
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise ConfigError("config key device: cuda requested but no GPU is available")
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def _load_data(cfg: TrainConfig, out_dir: Path) -> RunData:
    corpus = load_corpus(cfg.data, cache_dir=out_dir)
    captions = build_caption_table(corpus, cfg.data.text_encoder, out_dir / EMBEDDINGS)
    dataset = MixtureDataset(corpus, captions, cfg.mix, cfg.data.segment_s, cfg.seed)
    val = validation_set(
        corpus, captions, cfg.mix, cfg.data.segment_s, cfg.val_items_per_class, cfg.seed
    )
    if distributed.is_master():
        print(f"livesep train: corpus {describe(corpus)}", file=sys.stderr)
    return RunData(dataset, captions, val)


def prepare_data(cfg: TrainConfig, out_dir: Path) -> RunData:
    """Rank 0 decodes the corpus and embeds the captions (filling the caches in out_dir);
    the other ranks then read the caches."""
    data = _load_data(cfg, out_dir) if distributed.is_master() else None
    distributed.barrier()
    return data if data is not None else _load_data(cfg, out_dir)


def build_separator(cfg: TrainConfig, embed_dim: int) -> nn.Module:
    """The model the config names, checked against the text encoder and sample rate."""
    from livesep.model import build_model

    try:
        model = build_model(cfg.model.family, dict(cfg.model.config))
    except CheckpointError as exc:  # unknown family / config keys: a config problem here
        raise ConfigError(f"config key model: {exc}") from None
    config: Any = model.config
    if getattr(config, "embed_dim", embed_dim) != embed_dim:
        raise ConfigError(
            f"config key model.config.embed_dim: {config.embed_dim} but text encoder "
            f"{cfg.data.text_encoder!r} gives {embed_dim}-d embeddings"
        )
    if getattr(config, "sample_rate", cfg.data.sample_rate) != cfg.data.sample_rate:
        raise ConfigError(
            f"config key model.config.sample_rate: {config.sample_rate} differs from "
            f"data.sample_rate {cfg.data.sample_rate}"
        )
    return model


def build_optimizer(
    model: nn.Module, cfg: TrainConfig
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW (amsgrad per config) and its warm-up + decay schedule."""
    o = cfg.optim
    opt = torch.optim.AdamW(
        model.parameters(),
        lr=o.lr,
        betas=(o.beta1, o.beta2),
        weight_decay=o.weight_decay,
        amsgrad=o.amsgrad,
    )
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, o, cfg.steps))
    return opt, sched


# ---------------------------------------------------------------- checkpoints


def load_training_state(path: Path) -> dict[str, Any]:
    """A training checkpoint as plain data (`torch.load(weights_only=True)`).

    Raises:
        CheckpointError: missing, unreadable or not a training checkpoint.
    """
    from livesep.safeload import load_state

    if not path.is_file():
        raise CheckpointError(f"checkpoint {path}: not found (nothing to resume)")
    ckpt = load_state(path)  # torch.load(weights_only=True), errors as CheckpointError
    for key in ("family", "config", "model", "step", "optimizer", "scheduler", "rng"):
        if key not in ckpt:
            raise CheckpointError(f"checkpoint {path}: missing key {key!r}")
    return ckpt


def _restore(
    ckpt: dict[str, Any],
    model: nn.Module,
    opt: torch.optim.Optimizer,
    sched: torch.optim.lr_scheduler.LambdaLR,
    cfg: TrainConfig,
) -> int:
    if ckpt["family"] != cfg.model.family:
        raise CheckpointError(
            f"checkpoint family {ckpt['family']!r} differs from config {cfg.model.family!r}"
        )
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["optimizer"])
    sched.load_state_dict(ckpt["scheduler"])
    info = distributed.info()
    states = ckpt["rng"]
    # One RNG state per rank; a different world size falls back to rank 0's.
    set_rng_state(states[info.rank] if len(states) == info.world_size else states[0])
    return int(ckpt["step"])


def _init_from(
    path: Path,
    model: nn.Module,
    opt: torch.optim.Optimizer,
    sched: torch.optim.lr_scheduler.LambdaLR,
    cfg: TrainConfig,
) -> int:
    """Load another run's weights and step; the optimizer and RNGs start fresh."""
    from livesep.model import load_checkpoint

    source, extra = load_checkpoint(path)  # weights_only; errors as CheckpointError
    step = int(extra.get("step", 0))
    # (step < cfg.steps follows: config validation keeps schedule_start below steps)
    if step != cfg.optim.schedule_start:
        raise ConfigError(
            f"config key init_from: {path} is at step {step}; set optim.schedule_start={step} "
            "so the new schedule starts there"
        )
    try:
        model.load_state_dict(source.state_dict())
    except RuntimeError as exc:
        raise CheckpointError(
            f"config key init_from: {path} does not fit the configured model "
            f"({str(exc).splitlines()[0]})"
        ) from None
    sched.last_epoch = step  # the scheduler counts optimizer steps from here
    for group, lr in zip(opt.param_groups, sched.base_lrs, strict=True):
        group["lr"] = lr * lr_factor(step, cfg.optim, cfg.steps)
    return step


def save_training_state(
    path: Path,
    model: nn.Module,
    opt: torch.optim.Optimizer,
    sched: torch.optim.lr_scheduler.LambdaLR,
    cfg: TrainConfig,
    step: int,
    rng_states: list[dict[str, Any]],
    checksums: list[str],
    metrics: dict[str, float],
) -> None:
    """Write a training checkpoint (atomically: `save_checkpoint` renames a temp file)."""
    from livesep.model import save_checkpoint

    save_checkpoint(
        path,
        distributed.unwrap(model),
        step=step,
        optimizer=opt.state_dict(),
        scheduler=sched.state_dict(),
        rng=rng_states,
        sampler={"seed": cfg.seed, "next_step": step},
        train_config=config_to_dict(cfg),
        rank_param_sha256=checksums,
        metrics=metrics,
    )


def _gather_rng() -> list[dict[str, Any]]:
    mine = rng_state()
    info = distributed.info()
    if not info.enabled:
        return [mine]
    out: list[Any] = [None] * info.world_size
    torch.distributed.all_gather_object(out, mine)
    return out


# ---------------------------------------------------------------- validation


def validate(
    model: nn.Module,
    items: list[ValidationItem],
    embeddings: torch.Tensor,
    device: torch.device,
    cfg: TrainConfig,
) -> dict[str, float]:
    """Mean SDRi per class (`val/<split>/<class>`), per split and overall, in dB."""
    from livesep.training.evaluate import sdri_batch

    model.eval()
    by_class: dict[tuple[str, str], list[float]] = {}
    with torch.no_grad():
        for first in range(0, len(items), cfg.batch_size):
            chunk = items[first : first + cfg.batch_size]
            mix = torch.from_numpy(np.stack([it.mixture for it in chunk])).to(device)  # [B, T]
            rows = torch.tensor([it.caption_row for it in chunk], device=device)
            with _autocast(device, cfg.bf16):
                est = model(mix, embeddings[rows])  # [B, T]
            est_np = est.float().cpu().numpy()
            tgt = np.stack([it.target for it in chunk])
            for it, value in zip(chunk, sdri_batch(est_np, tgt, mix.cpu().numpy()), strict=True):
                by_class.setdefault((it.split, it.cls), []).append(value)
    model.train()
    out = {f"val/{s}/{c}": float(np.mean(v)) for (s, c), v in sorted(by_class.items())}
    for split in ("val", "zeroshot"):
        means = [m for (s, _), m in zip(by_class, _means(by_class), strict=True) if s == split]
        if means:
            out[f"val/{split}_sdri"] = float(np.mean(means))
    if by_class:
        out["val/sdri"] = float(np.mean(_means(by_class)))
    return out


def _means(by_class: dict[tuple[str, str], list[float]]) -> list[float]:
    return [float(np.mean(v)) for v in by_class.values()]


# ---------------------------------------------------------------- the loop


def use_bf16(setting: bool | str, device: torch.device) -> bool:
    """Resolve the `bf16` config: "auto" is on only where bf16 has hardware support."""
    if setting != "auto":
        return bool(setting)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def _autocast(device: torch.device, enabled: bool | str) -> torch.autocast:
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bool(enabled))


def train_step(
    model: nn.Module,
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    embeddings: torch.Tensor,
    opt: torch.optim.Optimizer,
    cfg: TrainConfig,
    device: torch.device,
) -> tuple[float, float]:
    """One optimisation step; returns (loss, grad norm before clipping)."""
    mix, target, rows = (t.to(device, non_blocking=True) for t in batch)  # [B, T], [B, T], [B]
    with _autocast(device, cfg.bf16):
        est = model(mix, embeddings[rows])  # [B, T]
    loss = waveform_loss(cfg.loss.kind, est.float(), target, mix, cfg.loss.snr_max_db)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    clip = cfg.optim.grad_clip if cfg.optim.grad_clip > 0 else float("inf")
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return float(loss.detach()), float(norm)


def _writer(out_dir: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        print("livesep train: tensorboard not installed; no TensorBoard logs", file=sys.stderr)
        return None
    return SummaryWriter(str(out_dir / TB))


def _log(writer: Any, values: dict[str, float], step: int, out_dir: Path) -> None:
    """TensorBoard scalars plus one JSON line in out_dir/log.jsonl (rank 0 only)."""
    if not distributed.is_master():
        return
    if writer is not None:
        for key, value in values.items():
            writer.add_scalar(key, value, step)
    with (out_dir / LOG).open("a") as f:
        f.write(json.dumps({"step": step, **values}) + "\n")


def train(
    cfg: TrainConfig, resume: bool = False, progress: bool = True, overwrite: bool = False
) -> nn.Module:
    """Train per `cfg` (in this process's share of a torchrun job, if any).

    Args:
        cfg: the run's configuration.
        resume: continue from `out_dir/last.pt` exactly.
        progress: show the tqdm bar (rank 0 only).
        overwrite: start afresh in an `out_dir` that holds a run, deleting its
            checkpoints and log (without it, or `resume`, such a folder is refused).

    Returns:
        The trained model, unwrapped (no DDP), on its training device.
    """
    check_run_folder(cfg, resume, overwrite)  # every rank, before any of them writes
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    device = _pick_device(cfg.device, int(os.environ.get("LOCAL_RANK", "0")))
    cfg = dataclasses.replace(cfg, bf16=use_bf16(cfg.bf16, device))
    dinfo = distributed.init(device.type)
    master = distributed.is_master()
    out_dir = Path(cfg.out_dir)
    if master:
        out_dir.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(out_dir)  # what a killed run left (SIGKILL cannot be caught)
        if overwrite:
            clear_run_folder(out_dir)
        write_text(out_dir / "config.yaml", yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
    _seed_everything(cfg.seed + dinfo.rank)
    data = prepare_data(cfg, out_dir)
    embeddings = torch.from_numpy(data.captions.embeddings).to(device)  # [N, D]
    model = build_separator(cfg, embeddings.shape[1]).to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    opt, sched = build_optimizer(model, cfg)
    step = 0
    if resume:
        step = _restore(load_training_state(out_dir / LAST), model, opt, sched, cfg)
    elif cfg.init_from:
        step = _init_from(Path(cfg.init_from), model, opt, sched, cfg)
    ddp = distributed.wrap(model, device)
    ddp.train()
    loader = DataLoader(
        data.dataset,
        batch_sampler=StepBatchSampler(
            step, cfg.steps, cfg.batch_size, dinfo.rank, dinfo.world_size
        ),
        num_workers=cfg.data.num_workers,
        pin_memory=device.type == "cuda",
        # Its own generator: creating the loader must not draw from the global torch RNG,
        # which a resumed run restores.
        generator=torch.Generator().manual_seed(cfg.seed),
    )
    writer = _writer(out_dir) if master else None
    bar = tqdm(total=cfg.steps, initial=step, disable=not (master and progress), dynamic_ncols=True)
    metrics: dict[str, float] = {}
    tic = time.perf_counter()
    for batch in loader:
        loss, grad_norm = train_step(ddp, batch, embeddings, opt, cfg, device)
        sched.step()
        step += 1
        rate = cfg.batch_size * dinfo.world_size / max(time.perf_counter() - tic, 1e-9)
        tic = time.perf_counter()
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.4f}", ex_s=f"{rate:.1f}")
        metrics["train/loss"] = loss
        if step % cfg.log_every == 0:
            scalars = {
                "train/loss": loss,
                "train/lr": float(sched.get_last_lr()[0]),
                "train/grad_norm": grad_norm,
                "train/examples_per_s": rate,
            }
            _log(writer, scalars, step, out_dir)
        if _due(step, cfg.val_every, cfg.steps) and data.val_items:
            metrics.update(_validate_on_master(model, data, embeddings, device, cfg, writer, step))
            tic = time.perf_counter()
        if _due(step, cfg.ckpt_every, cfg.steps):
            _checkpoint(out_dir, model, opt, sched, cfg, step, metrics)
    bar.close()
    if writer is not None:
        writer.close()
    distributed.cleanup()
    return model


def _due(step: int, every: int, total: int) -> bool:
    return step == total or (every > 0 and step % every == 0)


def _validate_on_master(
    model: nn.Module,
    data: RunData,
    embeddings: torch.Tensor,
    device: torch.device,
    cfg: TrainConfig,
    writer: Any,
    step: int,
) -> dict[str, float]:
    values: dict[str, float] = {}
    if distributed.is_master():
        values = validate(model, data.val_items, embeddings, device, cfg)
        _log(writer, values, step, Path(cfg.out_dir))
        tqdm.write(f"step {step}: val SDRi {values.get('val/sdri', float('nan')):.2f} dB")
    distributed.barrier()
    return values


def _checkpoint(
    out_dir: Path,
    model: nn.Module,
    opt: torch.optim.Optimizer,
    sched: torch.optim.lr_scheduler.LambdaLR,
    cfg: TrainConfig,
    step: int,
    metrics: dict[str, float],
) -> None:
    # Collective calls first (every rank), then rank 0 writes.
    rng_states = _gather_rng()
    checksums = distributed.param_digests(model)
    if len(set(checksums)) > 1:
        raise RuntimeError(f"DDP ranks diverged at step {step}: parameter digests {checksums}")
    if distributed.is_master():
        args = (model, opt, sched, cfg, step, rng_states, checksums, metrics)
        save_training_state(out_dir / LAST, *args)
        if cfg.keep_every > 0 and step % cfg.keep_every == 0:
            save_training_state(out_dir / f"step_{step:07d}.pt", *args)
    distributed.barrier()
