"""Time the streaming step (one 10 ms hop) in PyTorch: eager vs CUDA graphs, on a GPU.

    .venv/bin/python benchmarks/gpu_step.py [--device cuda] [--steps 3000] [--batch 1 4]

The model is the default bundle's architecture (models/default/manifest.json, random
weights: timing only). The conditioning (FiLM of one embedding) is computed once and kept
on the device; each step copies one hop in and one hop out, as the live engine would. With
CUDA, the step is also captured once as a CUDA graph (static input, cond and state
buffers; states copied back in place) and replayed. Prints median / p99 ms per hop.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from livesep.model.checkpoint import build_model

ROOT = Path(__file__).resolve().parent.parent


def figures(times: list[float]) -> str:
    a = np.asarray(times) * 1000.0
    return f"median {np.median(a):.3f} ms, p99 {np.percentile(a, 99):.3f} ms per hop"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, nargs="+", default=[1, 4])
    args = p.parse_args()
    manifest = json.loads((ROOT / "models/default/manifest.json").read_text())
    model = build_model(manifest["model"]["family"], manifest["model"]["config"])
    model = model.eval().to(args.device)
    hop = model.config.hop
    dev = torch.device(args.device)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "CPU"
    print(f"device {name}; torch {torch.__version__}; hop {hop} at {model.config.sample_rate} Hz")
    for batch in args.batch:
        with torch.inference_mode():
            emb = torch.nn.functional.normalize(torch.randn(batch, 384, device=dev), dim=1)
            cond = model.film(emb)  # [B, C], bound once per query
            states = [torch.zeros(batch, *shape, device=dev) for _, shape in model.state_specs()]
            host_in = torch.randn(batch, hop).pin_memory() if dev.type == "cuda" else None
            x = torch.zeros(batch, hop, device=dev)  # [B, hop]
            times = []
            for i in range(args.steps + 100):
                t0 = time.perf_counter()
                if host_in is not None:
                    x.copy_(host_in, non_blocking=True)
                out, states = model.step(x, cond, states)
                y = out.to("cpu")  # [B, hop] synchronises
                if i >= 100:
                    times.append(time.perf_counter() - t0)
            print(f"batch {batch} eager: {figures(times)}")
            if dev.type != "cuda":
                continue
            static = [s.clone() for s in states]
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                for _ in range(3):  # warm up on a side stream before capture
                    model.step(x, cond, static)
            torch.cuda.current_stream().wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                g_out, g_new = model.step(x, cond, static)
                for s, n in zip(static, g_new, strict=True):
                    s.copy_(n)
            times = []
            for i in range(args.steps + 100):
                t0 = time.perf_counter()
                x.copy_(host_in, non_blocking=True)
                graph.replay()
                y = g_out.to("cpu")
                if i >= 100:
                    times.append(time.perf_counter() - t0)
            print(f"batch {batch} CUDA graph: {figures(times)}")
            del y
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
