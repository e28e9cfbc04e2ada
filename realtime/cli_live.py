"""`livesep live`: separate a live input (or a file, faster than real time) by description.

While it runs, each line on stdin is a command: a query text, or `:mode extract|remove`,
`:mix W`, `:gain DB`, `:bypass on|off`, `:stats`. `--control-port` accepts the same lines
over TCP on 127.0.0.1 only, within the limits of `livesep.realtime.control_server` (line
length, connections, rate). `--input-file` reads and writes files as `livesep separate`
does (`livesep.audio`: validated input, atomic output, never over an existing file without
--overwrite).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from livesep.atomic import clean_stale_temps, write_text
from livesep.bundle import load_for_queries
from livesep.commands.bundle import add_expect_digest
from livesep.errors import AudioError, LivesepError
from livesep.realtime.control_server import ControlServer, reply_text, serve
from livesep.terminal import printable

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
    parser.add_argument(
        "--worker",
        choices=("callback", "thread"),
        default="callback",
        help="where the model runs: in the audio callback (lowest latency; JACK's real-time "
        "thread) or a worker thread (one period more latency)",
    )
    parser.add_argument("--blocksize", type=int, default=0, help="0 = the server's period")
    parser.add_argument(
        "--resample-quality",
        default="LQ",
        help="device <-> model rate filter: QQ LQ MQ HQ VHQ (0.38-2 ms each way at 48 kHz)",
    )
    parser.add_argument("--mix", type=float, default=1.0, help="wet amount 0..1")
    parser.add_argument("--gain-db", type=float, default=0.0)
    parser.add_argument("--duration", type=float, help="stop after S seconds")
    parser.add_argument("--stats-json", help="write the final statistics here")
    parser.add_argument("--control-port", type=int, help="TCP port on 127.0.0.1 for commands")
    parser.add_argument(
        "--virtual-mic",
        nargs="?",
        const="livesep",
        metavar="NAME",
        help="publish the output as a PipeWire microphone NAME (default livesep) that other "
        "apps can record; with --input-file the file plays in real time",
    )
    parser.add_argument("--input-file", help="process this file instead of a device")
    parser.add_argument(
        "--output-file", help="where --input-file's result goes (format from the extension)"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing --output-file"
    )
    add_expect_digest(parser)


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
            print(reply_text(reply), file=sys.stderr, flush=True)


def serve_controls(engine: Any, port: int) -> ControlServer:
    """The control port on 127.0.0.1:`port` applying each line to `engine` (daemon thread).

    Raises:
        LivesepError: the port is in use.
    """
    return serve(port, lambda line: _safe_apply(engine, line))


def _make_engine(args: argparse.Namespace, device_rate: int) -> Any:
    from livesep.realtime.engine import Engine

    bundle = load_for_queries(args.bundle, snap=not args.no_snap, expect_digest=args.expect_digest)
    engine = Engine(
        bundle,
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
    """File-driven mode: the same engine, as fast as the CPU allows; output aligned.

    The input is read and checked, and the output checked, before the model loads (as
    `livesep separate` does); the result is written atomically.
    """
    from livesep.audio import AtomicWriter, check_output, read_audio

    if not args.output_file:
        raise AudioError("--input-file needs --output-file")
    check_output(args.output_file, args.overwrite, protect=[args.input_file])
    clean_stale_temps(Path(args.output_file).parent)  # what a killed run left
    audio_cf, rate = read_audio(args.input_file)  # [C, T], validated (rate, NaN/Inf, empty)
    audio = np.ascontiguousarray(audio_cf.T)  # [T, C]
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
    with AtomicWriter(
        args.output_file, rate, audio.shape[1], args.overwrite, [args.input_file]
    ) as writer:
        writer.write(out.T)  # [C, T]
        writer.commit()
    print(
        f"{printable(args.input_file)}: {audio.shape[0] / rate:.1f} s in {elapsed:.2f} s "
        f"(latency compensated: {lat} frames)",
        file=sys.stderr,
    )
    _write_stats(args, stats)
    return 0


def _write_stats(args: argparse.Namespace, stats: Any) -> None:
    if args.stats_json:
        write_text(args.stats_json, json.dumps(stats.to_dict(), indent=2) + "\n")


def run(args: argparse.Namespace) -> int:
    if args.virtual_mic:
        from livesep.realtime import virtual_mic

        stats = virtual_mic.run(args, _make_engine, _wait)
        print(_summary(stats), file=sys.stderr)
        _write_stats(args, stats)
        return 0
    if args.input_file:
        return run_file(args)
    from livesep.realtime.stream import resolve_device, sounddevice

    rate = args.device_rate
    if rate is None:
        index = resolve_device(args.input, "input")
        info = sounddevice().query_devices(index, "input")
        rate = int(info["default_samplerate"])
    engine = _make_engine(args, rate)
    try:
        server = serve_controls(engine, args.control_port) if args.control_port else None
    except LivesepError:
        engine.close()
        raise
    threading.Thread(target=_stdin_loop, args=(engine,), name="livesep-stdin", daemon=True).start()
    try:
        engine.start(args.input, args.output, args.blocksize)
        _wait(engine, args.duration)
        stats = engine.stats()
    finally:
        engine.close()
        if server is not None:
            server.stop()
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
        + _faults(s)
    )


def _faults(s: Any) -> str:
    """The guards' counts, when there is anything to say."""
    cleaned = s.input_nonfinite + s.input_clipped
    if not (cleaned or s.output_nonfinite or s.limited_frames):
        return ""
    return (
        f", input cleaned {cleaned} samples ({s.input_nonfinite} NaN/Inf), "
        f"limited {s.limited_frames} frames"
    )
