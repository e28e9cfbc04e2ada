"""`livesep live`: separate a live input (or a file, faster than real time) by description.

While it runs, each line on stdin is a command: a query ("voice, not wind"), or `:mode
extract|remove`, `:mix W`, `:gain DB`, `:bypass on|off`, `:snap on|off`, `:stats`
(`livesep.realtime.controls.parse_command`: an unknown `:command` is an error, never a
query). `--control-port` accepts the same lines over TCP on 127.0.0.1 only.
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

from livesep.bundle import default_bundle_path
from livesep.errors import AudioError, LivesepError
from livesep.realtime.controls import parse_command

HELP = "separate a live audio input by description"
STATS_EVERY_S = 5.0  # seconds between status lines on stderr


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--query",
        help="what to play: 'a man speaking', 'voice, not wind', 'everything but the dog'",
    )
    parser.add_argument(
        "--keep", action="append", default=[], metavar="SOUND", help="a sound to keep (repeatable)"
    )
    parser.add_argument(
        "--remove",
        action="append",
        default=[],
        metavar="SOUND",
        help="a sound to remove (repeatable)",
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


def apply_command(engine: Any, line: str) -> list[str]:
    """Apply one control line to the engine (`parse_command`); returns the reply lines:
    what was done, then a `warning:` line for each sound the model does not know."""
    command = parse_command(line)
    if command is None:
        return []
    name, value = command.name, command.value
    if name == "query":  # read on this (control) thread, so its warnings can be told now
        request = engine.set_query_blocking(value)
        return [f"query: {value} ({request.describe()})", *request.warnings()]
    if name == "stats":
        return [json.dumps(engine.stats().to_dict())]
    setter = {
        "mode": engine.set_mode,
        "mix": engine.set_mix,
        "gain": engine.set_gain_db,
        "bypass": engine.set_bypass,
        "snap": engine.set_snap,
    }[name]
    setter(value)
    shown = ("on" if value else "off") if isinstance(value, bool) else value
    return [f"{name}: {shown}"]


def _safe_apply(engine: Any, line: str) -> list[str]:
    try:
        return apply_command(engine, line)
    except (LivesepError, ValueError) as exc:
        return [f"error: {exc}"]


def _stdin_loop(engine: Any) -> None:
    for line in sys.stdin:
        for reply in _safe_apply(engine, line):
            print(reply, file=sys.stderr, flush=True)


def serve_controls(engine: Any, port: int) -> socketserver.ThreadingTCPServer:
    """A TCP server on 127.0.0.1:`port` that applies each received line (daemon thread)."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            for raw in self.rfile:  # one reply line per command line
                reply = " | ".join(_safe_apply(engine, raw.decode("utf-8", "replace")))
                self.wfile.write((reply + "\n").encode())

    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="livesep-control", daemon=True).start()
    return server


def _make_engine(args: argparse.Namespace, device_rate: int) -> Any:
    from livesep.realtime.engine import Engine

    engine = Engine(
        args.bundle or default_bundle_path(),
        device_rate=device_rate,
        channels=args.channels,
        channel_mode=args.channel_mode,
        worker=args.worker,
        resample_quality=args.resample_quality,
        snap=not args.no_snap,
    )
    engine.set_mode(args.mode)
    if args.keep or args.remove:
        request = engine.set_parts(args.keep, args.remove)
    else:
        request = engine.set_query_blocking(args.query)
    for warning in request.warnings():  # before the work
        print(f"livesep live: {warning}", file=sys.stderr, flush=True)
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
    if (args.keep or args.remove) and args.query:
        raise LivesepError("give --query, or --keep/--remove, not both")
    if not (args.query or args.keep or args.remove):
        raise LivesepError("no --query: describe the sound to play (or --keep/--remove)")
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
