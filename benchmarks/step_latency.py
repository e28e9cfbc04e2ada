"""Per-hop time of the ONNX step graph on the CPU provider (and CUDA when present).

Exports the default StreamingResUNet (random weights: the cost does not depend on them)
or takes an existing bundle, then runs the step graph hop by hop over >= 10 s of audio
through `livesep.runner.StepRunner` (preallocated state buffers, two sets swapped each step,
with or without IO binding) and prints median / p99 / max per hop and the real-time factor
(compute time / audio time) for 1 and 2 threads. `--batch 1 4` also times the batch of
a compound query ("voice, not wind": `livesep.query.MAX_SOUNDS` condition rows per call).

    .venv/bin/python benchmarks/step_latency.py [--bundle DIR] [--seconds 10] [--batch 1 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WARMUP_HOPS = 50


def _export_default(out: Path) -> Path:
    import torch

    from livesep.export.bundle_export import export_bundle
    from livesep.model.streaming import StreamingResUNet, describe

    torch.manual_seed(0)
    print(describe())
    export_bundle(StreamingResUNet(), out, name="bench-default", chunk_hops=50)
    return out


def time_hops(runner, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """Wall and process-CPU seconds per call of `runner.process` over `seconds` of noise.

    On a shared machine the wall time includes waiting for a core; the CPU time (all
    threads of this process) is the compute cost itself.
    """
    from livesep.bundle import Bundle

    bundle: Bundle = runner.bundle
    block = runner.block
    n_calls = int(np.ceil(seconds * bundle.sample_rate / block))
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal((runner.batch, (n_calls + WARMUP_HOPS) * block))).astype(
        np.float32
    )
    out = np.empty((runner.batch, block), np.float32)
    runner.set_embedding(rng.standard_normal((1, bundle.encoder_dim)).astype(np.float32))
    times = np.empty(n_calls)
    cpu = np.empty(n_calls)
    for i in range(n_calls + WARMUP_HOPS):
        chunk = audio[:, i * block : (i + 1) * block]
        c0, t0 = time.process_time(), time.perf_counter()
        runner.process(chunk, out=out)
        if i >= WARMUP_HOPS:
            times[i - WARMUP_HOPS] = time.perf_counter() - t0
            cpu[i - WARMUP_HOPS] = time.process_time() - c0
    return times, cpu


def report(label: str, times: np.ndarray, cpu: np.ndarray, block_s: float) -> str:
    ms = times * 1e3
    rtf = times.sum() / (len(times) * block_s)
    return (
        f"{label:<24} median {np.median(ms):7.3f} ms  p99 {np.percentile(ms, 99):7.3f} ms  "
        f"max {ms.max():7.3f} ms  RTF {rtf:.3f}  | CPU median {np.median(cpu) * 1e3:7.3f} ms "
        f"RTF {cpu.sum() / (len(cpu) * block_s):.3f}  ({len(times)} calls)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, help="bundle to time (default: export one)")
    parser.add_argument("--seconds", type=float, default=10.0, help="audio per measurement")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--graphs", nargs="+", default=["step", "chunk"])
    parser.add_argument("--no-plain-run", action="store_true", help="IO binding only")
    parser.add_argument("--batch", type=int, nargs="+", default=[1], help="rows per call")
    args = parser.parse_args(argv)

    import onnxruntime as ort

    from livesep.bundle import load_bundle
    from livesep.runner import StepRunner

    with tempfile.TemporaryDirectory() as tmp:
        path = args.bundle or _export_default(Path(tmp) / "bundle")
        bundle = load_bundle(path)
        print(
            f"bundle {bundle.name}: {bundle.sample_rate} Hz, hop {bundle.hop}, latency "
            f"{bundle.latency_samples} samples; onnxruntime {ort.__version__}; "
            f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}"
        )
        providers = [["CPUExecutionProvider"]]
        if "CUDAExecutionProvider" in ort.get_available_providers():
            providers.append(["CUDAExecutionProvider"])
        for prov in providers:
            for graph in [g for g in args.graphs if bundle.has_graph(g)]:
                block_s = bundle.graph_block(graph) / bundle.sample_rate
                for threads in args.threads:
                    for binding in (True,) if args.no_plain_run else (True, False):
                        for batch in args.batch:
                            runner = StepRunner(
                                bundle,
                                prov,
                                threads=threads,
                                graph=graph,
                                io_binding=binding,
                                batch=batch,
                            )
                            times, cpu = time_hops(runner, args.seconds)
                            label = (
                                f"{prov[0][:-17]} {graph} B={batch} {threads} thr "
                                f"{'iobind' if binding else 'run'}"
                            )
                            print(report(label, times, cpu, block_s), flush=True)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
