"""Soak the real-time engine on a JACK dummy server and print dropouts, late hops and RTF.

    .venv/bin/python benchmarks/soak_live.py --duration 600 [--bundle PATH] [--worker thread]
        [--gui-load] [--period 256] [--expert --query speech] [--json figures.json]

Starts its own `jackd -d dummy` (stopped by PID at the end), opens the engine on it, feeds
it noise from a second PortAudio stream in this process (the dummy backend's capture is
silent; `--feeder sine`: jack_simple_client's sine, from a C client in its own process) and prints
a line every `--report` seconds (default 60): the counts in that interval and, over the
whole run so far, dropouts (device xruns in + out) and concealed runs per minute.
`--gui-load` runs a GUI-like load in this process: a thread
that every 33 ms does pure-Python and numpy work (spectrogram of the monitor tap, "widget"
updates) for ~8 ms, holding the GIL as a repainting Qt GUI would. Without --bundle it uses
the torch-free delay bundle of tests/helpers/tiny_bundle.py (32 kHz, 10 ms hop).
`--expert` turns the speech expert on (a speech query then plays DeepFilterNet3).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from livesep.realtime import Engine, jack  # noqa: E402
from livesep.realtime.stream import open_duplex  # noqa: E402

GUI_FRAME_S = 1 / 30  # repaint interval of the simulated GUI
GUI_BUSY_S = 0.008  # GIL-holding work per repaint


def gui_load(engine: Engine, stop: threading.Event, frames: list[int]) -> None:
    """Simulated GUI: read the monitor tap, compute a spectrogram column, busy Python work."""
    window = np.hanning(2048).astype(np.float32)
    while not stop.is_set():
        t0 = time.perf_counter()
        inp, out = engine.monitor(2048)
        np.abs(np.fft.rfft(out * window))  # one spectrogram column
        engine.stats()
        acc = 0
        while time.perf_counter() - t0 < GUI_BUSY_S:  # pure Python: holds the GIL
            acc += sum(range(200))
        frames.append(1)
        time.sleep(max(0.0, GUI_FRAME_S - (time.perf_counter() - t0)))


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--duration", type=float, default=600.0, help="seconds")
    p.add_argument("--bundle", help="bundle directory (default: the tiny delay bundle)")
    p.add_argument("--query", default="speech")
    p.add_argument("--worker", choices=("thread", "callback"), default="callback")
    p.add_argument("--rate", type=int, default=48000, help="server rate Hz")
    p.add_argument("--period", type=int, default=256, help="server period frames")
    p.add_argument("--quality", default="LQ", help="resampler quality (realtime.resample)")
    p.add_argument("--safety", type=int, default=0, help="extra output buffering, frames")
    p.add_argument("--gui-load", action="store_true")
    p.add_argument(
        "--feeder",
        choices=("noise", "sine"),
        default="noise",
        help="input: noise from a PortAudio stream in this process (default), or the sine of "
        "jack_simple_client, a C client in its own process (no second Python callback "
        "sharing the engine's GIL)",
    )
    p.add_argument("--expert", action="store_true", help="the speech expert on")
    p.add_argument("--report", type=float, default=60.0, help="seconds between lines")
    p.add_argument("--json", help="write the final figures here")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    if args.bundle:
        bundle_path = args.bundle
        bundle_name = args.bundle
    else:
        from helpers.tiny_bundle import make_delay_bundle

        bundle_path = str(make_delay_bundle(tempfile.mkdtemp(), sample_rate=32000, hop=320).path)
        bundle_name = "tiny delay bundle (32 kHz, hop 320)"
    noise = (np.random.default_rng(0).standard_normal((args.rate, 1)) * 0.05).astype(np.float32)
    feed_pos = [0]

    def feeder(indata, outdata, frames, t, status):
        start = feed_pos[0] % (noise.shape[0] - frames)
        outdata[:] = noise[start : start + frames]
        feed_pos[0] += frames

    with jack.JackServer(args.rate, args.period) as server:
        engine = Engine(
            bundle_path,
            device_rate=args.rate,
            worker=args.worker,
            resample_quality=args.quality,
            query=args.query,
            safety_frames=args.safety,
            expert=args.expert,
        )
        before = set(server.ports())
        engine.start("system", "system")
        engine_ports = sorted(set(server.ports()) - before)
        before = set(server.ports())
        feed: Any = None
        sine: subprocess.Popen[bytes] | None = None
        if args.feeder == "noise":
            feed = open_duplex(feeder, args.rate, 1, "system", "system")
            feed.start()
        else:
            sine = subprocess.Popen(["jack_simple_client", "livesep_feed"])
            deadline = time.monotonic() + 10.0
            while not any(p.startswith("livesep_feed:") for p in server.ports()):
                if sine.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("jack_simple_client did not start (apt-get install jackd2)")
                time.sleep(0.1)
        feed_ports = sorted(set(server.ports()) - before)
        e_in = next(p for p in engine_ports if ":in_" in p)
        f_out = next(p for p in feed_ports if ":out_" in p or p.endswith(":output1"))
        for other in server.connections(e_in):
            server.disconnect(other, e_in)
        server.connect(f_out, e_in)
        stop = threading.Event()
        gui_frames: list[int] = []
        if args.gui_load:
            threading.Thread(target=gui_load, args=(engine, stop, gui_frames), daemon=True).start()
        time.sleep(1.0)  # settle after the graph changes
        s0 = engine.stats()
        print(
            f"bundle: {bundle_name}; worker {args.worker}; {args.rate} Hz, period {args.period}; "
            f"provider {s0.provider}; path {s0.path}; latency {s0.latency_ms:.1f} ms "
            f"(algorithmic {s0.algorithmic_ms:.1f} + resampling {s0.resample_ms:.1f} + buffering "
            f"{s0.buffering_ms:.1f} + device "
            f"{s0.device_latency_ms:.1f}); gui load {'on' if args.gui_load else 'off'}; "
            f"feeder {args.feeder}",
            flush=True,
        )
        start = time.monotonic()
        next_report = start + args.report
        last = s0
        while (elapsed := time.monotonic() - start) < args.duration:
            time.sleep(min(0.5, max(0.0, args.duration - elapsed)))
            if time.monotonic() >= next_report:
                now = engine.stats()
                report(now, s0, time.monotonic() - start, last)
                last = now
                next_report += args.report
        s1 = engine.stats()
        stop.set()
        if feed is not None:
            feed.stop()
            feed.close()
        if sine is not None:
            sine.terminate()
            sine.wait(5)
        engine.close()
    figures = report(s1, s0, time.monotonic() - start)
    figures.update(
        bundle=bundle_name,
        worker=args.worker,
        safety_frames=args.safety,
        gui_load=args.gui_load,
        feeder=args.feeder,
        gui_fps=len(gui_frames) / args.duration if args.gui_load else None,
        latency_ms=s1.latency_ms,
    )
    if args.gui_load:
        print(f"simulated GUI: {figures['gui_fps']:.1f} repaints/s")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def report(s, s0, elapsed: float, last=None) -> dict[str, object]:
    """Print and return the figures of snapshot `s` relative to the start snapshot `s0`
    (with `last`, the previous report's snapshot, also the counts since then)."""
    fig: dict[str, object] = {
        "seconds": round(elapsed, 1),
        "xruns_in": (s.input_underflows + s.input_overflows)
        - (s0.input_underflows + s0.input_overflows),
        "xruns_out": (s.output_underflows + s.output_overflows)
        - (s0.output_underflows + s0.output_overflows),
        "fallback_frames": s.fallback_frames - s0.fallback_frames,
        "fallback_runs": s.fallback_runs - s0.fallback_runs,
        "late_hops": s.late_hops - s0.late_hops,
        "resyncs": s.resyncs - s0.resyncs,
        "hops": s.hops - s0.hops,
        "rtf_median": round(s.rtf_median, 4),
        "rtf_p99": round(s.rtf_p99, 4),
    }
    minutes = max(elapsed / 60.0, 1e-9)
    fig["dropouts_per_min"] = round((fig["xruns_in"] + fig["xruns_out"]) / minutes, 2)
    fig["concealed_runs_per_min"] = round(fig["fallback_runs"] / minutes, 2)
    fig["latency_ms"] = round(s.latency_ms, 2)
    fig["path"] = s.path
    line = " ".join(f"{k}={v}" for k, v in fig.items())
    if last is not None:  # this interval alone
        xruns = sum(
            getattr(s, k) - getattr(last, k)
            for k in (
                "input_underflows",
                "input_overflows",
                "output_underflows",
                "output_overflows",
            )
        )
        line += (
            f" | interval: xruns={xruns} concealed_runs={s.fallback_runs - last.fallback_runs} "
            f"late_hops={s.late_hops - last.late_hops}"
        )
    print(line, flush=True)
    return fig


if __name__ == "__main__":
    sys.exit(main())
