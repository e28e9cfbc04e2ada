"""`livesep live`: separate a live input (or a file, faster than real time) by description.

While it runs, each line on stdin is a command: a query ("voice, not wind"), or `:mode
extract|remove`, `:mix W`, `:gain DB`, `:bypass on|off`, `:snap on|off`, `:stats`
(`livesep.realtime.controls.parse_command`: an unknown `:command` is an error, never a
query). `--control-port` accepts the same lines over TCP on 127.0.0.1 only, within the
limits of `livesep.realtime.control_server` (line length, connections, rate). Replies are
printed without terminal escapes. `--input-file` reads and writes files as `livesep
separate` does (`livesep.audio`: validated input, atomic output, never over an existing
file without --overwrite).
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
from livesep.bundle import default_bundle_path, load_bundle
from livesep.commands.bundle import add_expect_digest
from livesep.commands.separate import expert_wanted
from livesep.errors import AudioError, LivesepError
from livesep.query import parse_request
from livesep.realtime.control_server import ControlServer, reply_text, serve
from livesep.realtime.controls import parse_command
from livesep.terminal import printable

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
    parser.add_argument(
        "--no-expert",
        action="store_true",
        help="never send speech queries ('voice', 'remove the speech') to the speech "
        "expert (DeepFilterNet3, the 'speech' extra); LIVESEP_NO_EXPERT=1 does the same",
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


def apply_command(engine: Any, line: str) -> list[str]:
    """Apply one control line to the engine (`parse_command`); returns the reply lines:
    what was done, then a `warning:` line for each sound the model does not know."""
    command = parse_command(line)
    if command is None:
        return []
    name, value = command.name, command.value
    if name == "query":  # read on this (control) thread, so its warnings can be told now
        request = engine.set_query_blocking(value)
        return [f"query: {value} ({request.describe()})", *route_lines(engine, request)]
    if name == "stats":
        return [json.dumps(engine.stats().to_dict())]
    setter = {
        "mode": engine.set_mode,
        "mix": engine.set_mix,
        "gain": engine.set_gain_db,
        "bypass": engine.set_bypass,
        "snap": engine.set_snap,
        "expert": engine.set_expert,
    }[name]
    setter(value)
    shown = ("on" if value else "off") if isinstance(value, bool) else value
    return [f"{name}: {shown}"]


def route_lines(engine: Any, request: Any) -> list[str]:
    """What a host tells about a request: the path it plays on (the speech expert, or what
    the `speech` extra would add), else the model's warnings for sounds it does not know."""
    from livesep import expert

    if engine.route(request) == "expert":
        i = expert.info()
        return [f"path: speech expert ({i.name}, {i.latency_ms:.0f} ms latency)"]
    note = engine.stats().expert_note
    if note == expert.EXTRA_HINT and engine.is_speech(request):
        return [f"path: model; a speech query: {note}", *request.warnings()]
    return list(request.warnings())


def _safe_apply(engine: Any, line: str) -> list[str]:
    try:
        return apply_command(engine, line)
    except (LivesepError, ValueError) as exc:
        return [f"error: {exc}"]


def _stdin_loop(engine: Any) -> None:
    for line in sys.stdin:
        for reply in _safe_apply(engine, line):
            print(reply_text(reply), file=sys.stderr, flush=True)


def serve_controls(engine: Any, port: int) -> ControlServer:
    """The control port on 127.0.0.1:`port` applying each line to `engine` (daemon thread);
    one reply line per command line (several replies joined with " | ").

    Raises:
        LivesepError: the port is in use.
    """
    return serve(port, lambda line: " | ".join(_safe_apply(engine, line)))


def _make_engine(args: argparse.Namespace, device_rate: int) -> Any:
    from livesep.realtime.engine import Engine

    bundle = load_bundle(args.bundle or default_bundle_path(), expect_digest=args.expect_digest)
    parts = args.keep + args.remove if args.keep or args.remove else None
    texts = parts if parts is not None else [t for t, _ in parse_request(args.query, args.mode)]
    engine = Engine(
        bundle,
        device_rate=device_rate,
        channels=args.channels,
        channel_mode=args.channel_mode,
        worker=args.worker,
        resample_quality=args.resample_quality,
        snap=not args.no_snap,
        expert=expert_wanted(args.no_expert),
        texts=texts,  # encoded before the model loads: a new query peaks as a cached one
    )
    engine.set_mode(args.mode)
    if args.keep or args.remove:
        request = engine.set_parts(args.keep, args.remove)
    else:
        request = engine.set_query_blocking(args.query)
    for line in route_lines(engine, request):  # before the work (printable)
        print(f"livesep live: {line}", file=sys.stderr, flush=True)
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
    if (args.keep or args.remove) and args.query:
        raise LivesepError("give --query, or --keep/--remove, not both")
    if not (args.query or args.keep or args.remove):
        raise LivesepError("no --query: describe the sound to play (or --keep/--remove)")
    if args.virtual_mic:
        from livesep.realtime import virtual_mic

        stats = virtual_mic.run(args, _make_engine, lambda e, d: _controlled(args, e, d))
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


def _controlled(args: argparse.Namespace, engine: Any, duration: float | None) -> None:
    """`_wait` for a started engine while stdin and `--control-port` lines control it."""
    server = serve_controls(engine, args.control_port) if args.control_port else None
    threading.Thread(target=_stdin_loop, args=(engine,), name="livesep-stdin", daemon=True).start()
    try:
        _wait(engine, duration)
    finally:
        if server is not None:
            server.stop()


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
        f"[{s.provider}, {s.path}] latency {s.latency_ms:.1f} ms, "
        f"RTF {s.rtf_median:.3f}/{s.rtf_p99:.3f}, "
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
