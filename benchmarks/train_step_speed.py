"""Training step speed on this machine: eager against torch.compile, side by side.

    .venv/bin/python benchmarks/train_step_speed.py [--config configs/default.yaml] \
        [--rounds 4 --steps 10]

Times the default model's optimisation step (batch 8 x 1 s at 16 kHz, bf16 autocast as
configured, AdamW, the configured loss) on random audio, alternating blocks of eager and
compiled steps in one process so machine load hits both alike. Prints seconds per step
(median over the blocks) and the ratio. The first compiled call (the compilation) is timed
separately. Used to decide `compile` in configs/default.yaml (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from livesep.training.config import load_config
from livesep.training.train import build_separator, train_step


def block(model, batch, emb, opt, cfg, steps: int) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    for _ in range(steps):
        train_step(model, batch, emb, opt, cfg, torch.device("cpu"))
    return (time.perf_counter() - t0) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=Path("configs/default.yaml"))
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed block")
    args = parser.parse_args()
    cfg = load_config(args.config, [])
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(0)
    rate = int(cfg.model.config["sample_rate"])
    n = int(cfg.data.segment_s * rate)
    batch = (
        0.1 * torch.randn(cfg.batch_size, n),  # mixture [B, T]
        0.05 * torch.randn(cfg.batch_size, n),  # target [B, T]
        torch.arange(cfg.batch_size),  # caption rows [B]
    )
    emb = torch.nn.functional.normalize(torch.randn(cfg.batch_size, 384), dim=1)  # [B, D]
    eager = build_separator(cfg, 384)
    compiled_src = build_separator(cfg, 384)
    compiled_src.load_state_dict(eager.state_dict())
    compiled = torch.compile(compiled_src)
    opts = {
        "eager": torch.optim.AdamW(eager.parameters(), lr=1e-5),
        "compiled": torch.optim.AdamW(compiled.parameters(), lr=1e-5),
    }
    t0 = time.perf_counter()
    train_step(compiled, batch, emb, opts["compiled"], cfg, torch.device("cpu"))
    print(f"compile + first step: {time.perf_counter() - t0:.1f} s")
    block(eager, batch, emb, opts["eager"], cfg, 2)  # warm-up
    block(compiled, batch, emb, opts["compiled"], cfg, 2)
    times: dict[str, list[float]] = {"eager": [], "compiled": []}
    for _ in range(args.rounds):
        times["eager"].append(block(eager, batch, emb, opts["eager"], cfg, args.steps))
        times["compiled"].append(block(compiled, batch, emb, opts["compiled"], cfg, args.steps))
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in times.items():
        print(f"{k:9} s/step median {med[k]:.3f}  blocks {' '.join(f'{x:.3f}' for x in v)}")
    print(f"compiled / eager: {med['compiled'] / med['eager']:.2f}")


if __name__ == "__main__":
    main()
