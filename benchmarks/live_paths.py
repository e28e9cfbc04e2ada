"""Cost per hop of the live engine's two paths: the model and the speech expert.

    .venv/bin/python benchmarks/live_paths.py [--bundle models/default] [--seconds 20]

Runs the engine in file mode (the same callback and chain code as live, no device) at
48 kHz / 256-frame periods on one thread, with the expert on: a non-speech query plays
the model lane (resample 48 -> 16 kHz, step graph, mixer, resample back), a speech query
the expert lane (DeepFilterNet3 at 48 kHz, mixer). Prints per path the engine's own hop
timings (wall, median / p99, as `stats()` reports them), the worker thread's CPU time per
hop, and the latency the engine reports (no device latency in file mode). RTF = time per
hop / 10 ms.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from livesep.realtime import Engine

ROOT = Path(__file__).resolve().parent.parent
RATE = 48000  # Hz, the device rate
PERIOD = 256  # frames per callback
QUERIES = {"model": "rain", "expert": "speech"}


def run(bundle: str, path: str, seconds: float) -> dict[str, float]:
    engine = Engine(bundle, device_rate=RATE, expert=True)
    request = engine.set_query_blocking(QUERIES[path])
    assert engine.route(request) == path, (path, engine.stats().expert_note)
    x = (np.random.default_rng(0).standard_normal((int(seconds * RATE), 1)) * 0.1).astype(
        np.float32
    )
    engine.process(x[: RATE // 2], block=PERIOD)  # warm up (the lane switch is over)
    hops0 = engine.stats().hops
    cpu0 = time.thread_time()
    engine.process(x, block=PERIOD)
    cpu = time.thread_time() - cpu0
    s = engine.stats()
    engine.close()
    assert s.path == path
    hops = s.hops - hops0
    return {
        "rtf_median": s.rtf_median,
        "rtf_p99": s.rtf_p99,
        "cpu_ms_per_hop": 1000.0 * cpu / hops,
        "latency_ms": s.latency_ms,
        "algorithmic_ms": s.algorithmic_ms,
        "buffering_ms": s.buffering_ms,
        "resample_ms": s.resample_ms,
    }


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--bundle", default=str(ROOT / "models" / "default"))
    p.add_argument("--seconds", type=float, default=20.0, help="audio per path")
    args = p.parse_args()
    for path in ("model", "expert"):
        f = run(args.bundle, path, args.seconds)
        print(
            f"{path:6s} ({QUERIES[path]!r}): hop wall median {10 * f['rtf_median']:.2f} ms "
            f"(RTF {f['rtf_median']:.3f}), p99 {10 * f['rtf_p99']:.2f} ms (RTF "
            f"{f['rtf_p99']:.3f}); CPU {f['cpu_ms_per_hop']:.2f} ms per hop (RTF "
            f"{f['cpu_ms_per_hop'] / 10:.3f}, whole chain); reported latency "
            f"{f['latency_ms']:.2f} ms = {f['algorithmic_ms']:.2f} algorithmic + "
            f"{f['resample_ms']:.2f} resampling + {f['buffering_ms']:.2f} buffering",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
