"""Re-run the issue-24 probes of the control port and the live guards; print the figures.

    python benchmarks/hostile_probe.py

Control port (the real `ControlServer`, a handler that only counts): one 64 MiB line
(process RSS before/after), 300 idle connections (threads), 3000 commands as fast as one
client can send them (how many reach the grammar). Live: the tiny test bundle's engine
with one NaN, one Inf and one 1e30 input sample (non-finite output samples, output peak).
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers.tiny_bundle import make_delay_bundle  # noqa: E402

from livesep.realtime import Engine  # noqa: E402
from livesep.realtime.control_server import serve  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def probe_port() -> None:
    handled = [0]

    def handle(line: str) -> str:
        handled[0] += 1
        return "ok"

    server = serve(0, handle)
    port = server.server_address[1]
    before = rss_mb()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        chunk = b"x" * (1 << 20)
        for _ in range(64):
            sock.sendall(chunk)
        sock.sendall(b"\n")
        reply = sock.makefile().readline().strip()
    print(f"64 MiB line: reply {reply!r}; RSS {before:.0f} -> {rss_mb():.0f} MB")

    threads_before = threading.active_count()
    socks = []
    refused = 0
    for _ in range(300):
        s = socket.create_connection(("127.0.0.1", port))
        socks.append(s)
    time.sleep(1.0)  # let the server accept them all
    for s in socks:
        s.settimeout(0.2)
        try:
            if s.recv(100).startswith(b"error: too many"):
                refused += 1
        except TimeoutError:
            pass
    print(
        f"300 idle connections: {refused} refused, threads {threads_before} -> "
        f"{threading.active_count()}"
    )
    for s in socks:
        s.close()
    time.sleep(1.0)

    handled[0] = 0
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"speech\n" * 3000)
        f = sock.makefile()
        replies = [f.readline() for _ in range(3000)]
    elapsed = time.perf_counter() - start
    dropped = sum(r.startswith("error: more than") for r in replies)
    print(
        f"3000 commands in {elapsed:.2f} s: {handled[0]} applied, {dropped} dropped "
        "by the rate limit"
    )
    server.stop()


def probe_live() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bundle = make_delay_bundle(Path(tmp))
        rate = bundle.sample_rate
        x = (0.1 * np.random.default_rng(0).standard_normal((2 * rate, 1))).astype(np.float32)
        x[rate // 2, 0], x[rate, 0], x[3 * rate // 2, 0] = np.nan, np.inf, 1e30
        with Engine(bundle, query="speech", worker="callback") as engine:
            y = engine.process(x)
            s = engine.stats()
    bad = int((~np.isfinite(y)).sum())
    print(
        f"live, 1 NaN + 1 Inf + one 1e30 input sample in 2 s: {bad} non-finite output samples, "
        f"output peak {np.abs(y).max():.3f} (input cleaned {s.input_nonfinite} + "
        f"{s.input_clipped}, limited {s.limited_frames} frames)"
    )


if __name__ == "__main__":
    probe_port()
    probe_live()
