"""Does the GUI's repainting cost dropouts? The real window on a JACK dummy server.

    .venv/bin/python benchmarks/gui_soak.py --segment 30 --rounds 2 [--period 480]

Starts its own `jackd -d dummy` (stopped by PID), opens the livesep window (offscreen Qt
unless QT_QPA_PLATFORM says otherwise) on device "system" with the torch-free tiny delay
bundle (32 kHz, hop 320: the model costs ~nothing, so the figures are the engine's and the
GUI's), feeds noise into the engine's input from a second stream, and alternates segments
with the GUI idle (poll timer stopped: no pulls, no repaints) and the GUI live (30 Hz
pulls, meters, spectrograms, stats). Per segment it prints the engine's dropout counters,
GUI ticks/s and the GUI thread's time per second in event processing (polls, setImage,
painting): wall time (includes waiting for the GIL) and the thread's own CPU time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtCore import QEventLoop  # noqa: E402

from livesep.gui.app import LaunchOptions, application, build_window  # noqa: E402
from livesep.realtime import jack  # noqa: E402
from livesep.realtime.stream import open_duplex  # noqa: E402

LOOP_SLEEP_S = 0.002  # idle sleep of the hand-driven event loop (seconds)


def run_segment(app, window, seconds: float, live: bool) -> dict[str, float]:
    """Drive the Qt event loop for `seconds`; returns the engine counter deltas and GUI load."""
    c = window.controller
    c.timer.start() if live else c.timer.stop()
    s0, polls0 = c.engine.stats(), c.polls
    busy = cpu = 0.0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0, c0 = time.perf_counter(), time.thread_time()
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)
        busy += time.perf_counter() - t0
        cpu += time.thread_time() - c0
        time.sleep(LOOP_SLEEP_S)
    wall = time.perf_counter() - start
    s1 = c.engine.stats()
    xruns = sum(
        getattr(s1, k) - getattr(s0, k)
        for k in ("input_underflows", "input_overflows", "output_underflows", "output_overflows")
    )
    return {
        "xruns": xruns,
        "fallback_frames": s1.fallback_frames - s0.fallback_frames,
        "late_hops": s1.late_hops - s0.late_hops,
        "resyncs": s1.resyncs - s0.resyncs,
        "hops": s1.hops - s0.hops,
        "gui_ticks_per_s": (c.polls - polls0) / wall,
        "gui_wall_ms_per_s": 1000.0 * busy / wall,  # includes waiting for the GIL
        "gui_cpu_ms_per_s": 1000.0 * cpu / wall,  # the GUI thread's own CPU time
    }


def connect_feeder(server, rate: int):
    """A second stream that plays noise into the engine's input port; returns it (started)."""
    noise = (np.random.default_rng(0).standard_normal((rate, 1)) * 0.05).astype(np.float32)
    pos = [0]

    def feeder(indata, outdata, frames, t, status):
        start = pos[0] % (noise.shape[0] - frames)
        outdata[:] = noise[start : start + frames]
        pos[0] += frames

    before = set(server.ports())
    feed = open_duplex(feeder, rate, 1, "system", "system")
    feed.start()
    out_port = next(p for p in sorted(set(server.ports()) - before) if ":out_" in p)
    return feed, out_port


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--segment", type=float, default=30.0, help="seconds per segment")
    p.add_argument("--rounds", type=int, default=2, help="idle + live pairs")
    p.add_argument("--rate", type=int, default=48000, help="server rate Hz")
    p.add_argument("--period", type=int, default=480, help="server period frames")
    args = p.parse_args()
    from helpers.tiny_bundle import make_delay_bundle

    tmp = tempfile.mkdtemp()
    bundle = make_delay_bundle(tmp, sample_rate=32000, hop=320)
    app = application()
    with jack.JackServer(args.rate, args.period) as server:
        before = set(server.ports())
        opts = LaunchOptions(
            bundle=str(bundle.path),
            input_device="system",
            output_device="system",
            settings=str(Path(tmp) / "settings.ini"),
        )
        window = build_window(opts)
        window.show()
        if not window.controller.running:
            print(f"stream did not start: {window.controller.last_error}")
            return 1
        engine_in = next(p for p in sorted(set(server.ports()) - before) if ":in_" in p)
        feed, feed_out = connect_feeder(server, args.rate)
        for other in server.connections(engine_in):
            server.disconnect(other, engine_in)
        server.connect(feed_out, engine_in)
        run_segment(app, window, 1.0, live=True)  # settle
        s = window.controller.engine.stats()
        print(
            f"JACK dummy {args.rate} Hz, period {args.period}; latency {s.latency_ms:.1f} ms; "
            f"Qt platform {app.platformName()}; load average {os.getloadavg()[0]:.1f}"
        )
        for _ in range(args.rounds):
            for live in (False, True):
                fig = run_segment(app, window, args.segment, live)
                label = "GUI live" if live else "GUI idle"
                print(f"{label}: " + " ".join(f"{k}={v:.1f}" for k, v in fig.items()), flush=True)
        window.close()
        feed.stop()
        feed.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
