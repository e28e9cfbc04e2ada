"""`livesep live`: separate a live input (or a file, faster than real time) by description.

While it runs, each line on stdin is a command: a query text, or `:mode extract|remove`,
`:mix W`, `:gain DB`, `:bypass on|off`, `:stats`. `--control-port` accepts the same lines
over TCP on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import socketserver
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from livesep.bundle import load_for_queries
from livesep.errors import AudioError, LivesepError

HELP = "separate a live audio input by description"
STATS_EVERY_S = 5.0  # seconds between status lines on stderr


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--query",
        required=True,
        help="the sound to extract or remove ('remove the dog' switches to remove mode)",
    )
    parser.add_argument("--mode", choices=("extract", "remove"), default="extract")
    parser.add_argument("--bundle", help="model bundle directory (default: the bundled one)")
    parser.add_argument(
        "--no-snap",
        action="store_true",
        help="condition on the raw query embedding instead of snapping it "
        "onto the bundle's training captions (for sounds the model was not trained on)",
    )
    parser.add_argument("--input", help="input device (index or name)")
    parser.add_argument("--output", help="output device (index or name)")
    parser.add_argument("--device-rate", type=int, help="device rate Hz (default: device's)")
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--channel-mode", choices=("batch", "downmix"), default="batch")
    parser.add_argument("--worker", choices=("thread", "callback"), default="thread")
    parser.add_argument("--blocksize", type=int, default=0, help="0 = the server's period")
    parser.add_argument("--resample-quality", default="LQ", help="soxr quality: QQ LQ MQ HQ VHQ")
    parser.add_argument("--mix", type=float, default=1.0, help="wet amount 0..1")
    parser.add_argument("--gain-db", type=float, default=0.0)
    parser.add_argument("--duration", type=float, help="stop after S seconds")
    parser.add_argument("--stats-json", help="write the final statistics here")
    parser.add_argument("--control-port", type=int, help="TCP port on 127.0.0.1 for commands")
    parser.add_argument("--input-file", help="process this file instead of a device")
    parser.add_argument("--output-file", help="where --input-file's result goes")


def apply_command(engine: Any, line: str) -> str:
    """Apply one control line to the engine; returns a one-line reply."""
    line = line.strip()
    if not line:
        return ""
    if not line.startswith(":"):
        engine.set_query(line)
        return f"query: {line}"
    word, _, arg = line[1:].partition(" ")
    arg = arg.strip()
    if word == "mode":
        engine.set_mode(arg)
    elif word == "mix":
        engine.set_mix(float(arg))
    elif word == "gain":
        engine.set_gain_db(float(arg))
    elif word == "bypass":
        engine.set_bypass(arg.lower() in ("on", "1", "true", "yes"))
    elif word == "stats":
        return json.dumps(engine.stats().to_dict())
    else:
        raise LivesepError(f"unknown command :{word} (mode, mix, gain, bypass, stats)")
    return f"{word}: {arg}"


def _safe_apply(engine: Any, line: str) -> str:
    try:
        return apply_command(engine, line)
    except (LivesepError, ValueError) as exc:
        return f"error: {exc}"


def _stdin_loop(engine: Any) -> None:
    for line in sys.stdin:
        reply = _safe_apply(engine, line)
        if reply:
            print(reply, file=sys.stderr, flush=True)


def serve_controls(engine: Any, port: int) -> socketserver.ThreadingTCPServer:
    """A TCP server on 127.0.0.1:`port` that applies each received line (daemon thread)."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            for raw in self.rfile:
                reply = _safe_apply(engine, raw.decode("utf-8", "replace"))
                self.wfile.write((reply + "\n").encode())

    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="livesep-control", daemon=True).start()
    return server


def _make_engine(args: argparse.Namespace, device_rate: int) -> Any:
    from livesep.realtime.engine import Engine

    engine = Engine(
        load_for_queries(args.bundle, snap=not args.no_snap),
        device_rate=device_rate,
        channels=args.channels,
        channel_mode=args.channel_mode,
        worker=args.worker,
        resample_quality=args.resample_quality,
    )
    engine.set_mode(args.mode)
    engine.set_query_blocking(args.query)  # after the mode: "remove the dog" switches it
    engine.set_mix(args.mix)
    engine.set_gain_db(args.gain_db)
    return engine


def run_file(args: argparse.Namespace) -> int:
    """File-driven mode: the same engine, as fast as the CPU allows; output aligned."""
    import soundfile as sf

    if not args.output_file:
        raise AudioError("--input-file needs --output-file")
    if Path(args.output_file).resolve() == Path(args.input_file).resolve():
        raise AudioError(f"{args.output_file}: refusing to overwrite the input")
    try:
        audio, rate = sf.read(args.input_file, dtype="float32", always_2d=True)  # [T, C]
    except (OSError, RuntimeError) as exc:
        raise AudioError(f"{args.input_file}: cannot read audio ({exc})") from None
    args.channels = audio.shape[1]
    engine = _make_engine(args, rate)
    tail = rate  # 1 s of zeros flushes the latency (which is far shorter)
    with engine:
        padded = np.concatenate([audio, np.zeros((tail, audio.shape[1]), np.float32)])
        start = time.perf_counter()
        raw = engine.process(padded)  # [T + tail, C], delayed by latency_frames
        elapsed = time.perf_counter() - start
        lat = engine.latency_frames
        if not 0 <= lat <= tail:
            raise AudioError(f"engine latency {lat} frames exceeds the {tail}-frame flush")
        out = raw[lat : lat + audio.shape[0]]  # [T, C] aligned with the input
        stats = engine.stats()
    tmp = Path(args.output_file).with_name(f".{Path(args.output_file).name}.tmp")
    info = sf.info(args.input_file)
    sf.write(str(tmp), out, rate, format=info.format, subtype=info.subtype)
    tmp.replace(args.output_file)
    print(
        f"{args.input_file}: {audio.shape[0] / rate:.1f} s in {elapsed:.2f} s "
        f"(latency compensated: {lat} frames)",
        file=sys.stderr,
    )
    _write_stats(args, stats)
    return 0


def _write_stats(args: argparse.Namespace, stats: Any) -> None:
    if args.stats_json:
        Path(args.stats_json).write_text(json.dumps(stats.to_dict(), indent=2) + "\n")


def run(args: argparse.Namespace) -> int:
    if args.input_file:
        return run_file(args)
    from livesep.realtime.stream import resolve_device, sounddevice

    rate = args.device_rate
    if rate is None:
        index = resolve_device(args.input, "input")
        info = sounddevice().query_devices(index, "input")
        rate = int(info["default_samplerate"])
    engine = _make_engine(args, rate)
    server = serve_controls(engine, args.control_port) if args.control_port else None
    threading.Thread(target=_stdin_loop, args=(engine,), name="livesep-stdin", daemon=True).start()
    try:
        engine.start(args.input, args.output, args.blocksize)
        _wait(engine, args.duration)
        stats = engine.stats()
    finally:
        engine.close()
        if server is not None:
            server.shutdown()
    print(_summary(stats), file=sys.stderr)
    _write_stats(args, stats)
    return 0


def _wait(engine: Any, duration: float | None) -> None:
    start = time.monotonic()
    next_report = start + STATS_EVERY_S
    while duration is None or time.monotonic() - start < duration:
        time.sleep(0.1)
        if time.monotonic() >= next_report:
            print(_summary(engine.stats()), file=sys.stderr, flush=True)
            next_report += STATS_EVERY_S


def _summary(s: Any) -> str:
    return (
        f"[{s.provider}] latency {s.latency_ms:.1f} ms, RTF {s.rtf_median:.3f}/{s.rtf_p99:.3f}, "
        f"xruns in {s.input_overflows + s.input_underflows} out "
        f"{s.output_underflows + s.output_overflows}, late hops {s.late_hops}, "
        f"resyncs {s.resyncs}, in {s.input_peak_dbfs:.0f} dBFS out {s.output_peak_dbfs:.0f} dBFS"
    )
