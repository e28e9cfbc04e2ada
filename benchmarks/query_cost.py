"""What a new query costs against a cached one: wall time and peak memory of a whole run.

Runs `livesep separate` and `livesep live --input-file` on the demo mixture in fresh
processes, once with a query the bundle caches ("drums") and once with one it does not
(encoded by the host's text encoder; a new text each run), and prints wall seconds, CPU
seconds (user + sys) and peak RSS (MiB) of each. With `--before DIR` (a folder whose
`livesep` package is another version of the code, e.g. an export of main arranged as the
installed package), every run is repeated on it, interleaved, so the two are paired.

    .venv/bin/python benchmarks/query_cost.py [--repeats 3] [--before /tmp/before_pkg]
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


def run(argv: list[str], pythonpath: str | None = None) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MiB) of one child process."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    start = time.perf_counter()
    pid = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(pid.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {pid.stderr.read().decode()[-500:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--before", help="PYTHONPATH holding another version's livesep")
    args = parser.parse_args(argv)
    versions = {"this": None} | ({"before": args.before} if args.before else {})
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; demo {DEMO.name}")
    with tempfile.TemporaryDirectory() as tmp:
        outs = (Path(tmp) / f"out{i}.wav" for i in range(10**6))
        commands = {
            "separate": lambda q: [
                str(LIVESEP),
                "separate",
                str(DEMO),
                "-q",
                q,
                "-o",
                str(next(outs)),
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
                str(next(outs)),
            ],
        }
        for name, make in commands.items():
            for i in range(args.repeats):
                for version, path in versions.items():
                    for kind, query in QUERIES.items():
                        query = query if kind == "cached" else f"{query} {i + 1}"
                        seconds, cpu, mib = run(make(query), path)
                        print(
                            f"{name:<12} {version:<7} {kind:<7} query {query!r:<26} "
                            f"{seconds:6.2f} s  cpu {cpu:5.2f} s  peak {mib:6.0f} MiB",
                            flush=True,
                        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
