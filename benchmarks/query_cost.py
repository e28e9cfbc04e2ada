"""What a new query costs against a cached one: wall time and peak memory of a whole run.

Runs `livesep separate` and `livesep live --input-file` on the demo mixture in fresh
processes, once with a query the bundle caches ("drums") and once with one it does not
(encoded by the host's text encoder), and prints wall seconds and peak RSS (MiB) of each.

    .venv/bin/python benchmarks/query_cost.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "speech_and_drums.wav"
LIVESEP = Path(sys.executable).parent / "livesep"
QUERIES = {"cached": "drums", "new": "a rattling snare drum"}


def run(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process."""
    start = time.perf_counter()
    pid = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(pid.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {pid.stderr.read().decode()[-500:]}")
    return seconds, usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; demo {DEMO.name}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.wav"
        commands = {
            "separate": lambda q: [
                str(LIVESEP),
                "separate",
                str(DEMO),
                "-q",
                q,
                "-o",
                str(out),
                "--overwrite",
                "--quiet",
            ],
            "live (file)": lambda q: [
                str(LIVESEP),
                "live",
                "--query",
                q,
                "--input-file",
                str(DEMO),
                "--output-file",
                str(out),
            ],
        }
        for name, make in commands.items():
            for _ in range(args.repeats):
                for kind, query in QUERIES.items():
                    seconds, mib = run(make(query))
                    print(
                        f"{name:<12} {kind:<7} query {query!r:<24} {seconds:6.2f} s  "
                        f"peak {mib:6.0f} MiB",
                        flush=True,
                    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
