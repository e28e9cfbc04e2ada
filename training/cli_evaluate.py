"""`livesep evaluate`: SDR / SDRi / SI-SDR / SI-SDRi of a model on a benchmark.

    livesep evaluate --checkpoint runs/r1/last.pt --bench bench/ --out report/
    livesep evaluate --bundle models/default --bench evaluation/metadata/esc50_eval.csv \\
        --audio-dir evaluation/data/esc50
    livesep evaluate --build-bench-from corpus/ --bench bench/      # build a bench only
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from livesep.commands.bundle import add_expect_digest
from livesep.errors import ConfigError

HELP = "SDR / SDRi / SI-SDR of a model on a benchmark set"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    model = parser.add_mutually_exclusive_group()
    model.add_argument("--bundle", help="model bundle directory (ONNX, evaluated as it streams)")
    model.add_argument("--checkpoint", help="training checkpoint (.pt, torch, whole clip)")
    parser.add_argument(
        "--bench", required=True, help="bench dir (bench.csv), AudioSep CSV or AudioSet-layout dir"
    )
    parser.add_argument("--audio-dir", help="wav folder of an AudioSep CSV (default: its folder)")
    parser.add_argument("--out", help="report folder (report.json, report.md, PNGs)")
    parser.add_argument(
        "--build-bench-from",
        metavar="CORPUS",
        help="first write a bench into --bench from this corpus's val/zeroshot",
    )
    parser.add_argument("--items-per-class", type=int, default=10, help="bench builder")
    parser.add_argument("--segment-s", type=float, default=4.0, help="bench builder, seconds")
    parser.add_argument("--rate", type=int, default=32000, help="bench builder sample rate, Hz")
    parser.add_argument("--seed", type=int, default=0, help="bench builder and wrong queries")
    parser.add_argument("--no-wrong-query", action="store_true", help="skip the control")
    parser.add_argument("--no-oracle", action="store_true", help="skip the oracle IRM")
    parser.add_argument("--device", default="cpu", help="torch device for --checkpoint")
    add_expect_digest(parser)
    parser.add_argument(
        "--speech-expert",
        action="store_true",
        help="send queries for speech in general ('voice', 'someone talking') to the speech "
        "expert (DeepFilterNet3, the 'speech' extra), as livesep separate does",
    )


def run(args: argparse.Namespace) -> int:
    from livesep.training import evaluate as ev

    if args.build_bench_from:
        out = ev.build_bench(
            args.build_bench_from,
            args.bench,
            args.rate,
            args.items_per_class,
            args.segment_s,
            args.seed,
        )
        print(f"bench written to {out}", file=sys.stderr)
    if not (args.bundle or args.checkpoint):
        if args.build_bench_from:
            return 0
        raise ConfigError("evaluate: give --bundle or --checkpoint (or --build-bench-from)")
    if args.expect_digest and not args.bundle:
        raise ConfigError("evaluate: --expect-digest pins a --bundle")
    if args.checkpoint:
        separate, rate = ev.checkpoint_separator(args.checkpoint, device=args.device)
    else:
        separate, rate = ev.bundle_separator(args.bundle, expect_digest=args.expect_digest)
    if args.speech_expert:
        separate = ev.with_speech_expert(separate, rate)
    bench = ev.read_bench(args.bench, args.audio_dir)
    report = ev.evaluate(
        separate,
        bench,
        rate,
        wrong_query=not args.no_wrong_query,
        oracle=not args.no_oracle,
        seed=args.seed,
    )
    o = report["overall"]
    summary = ", ".join(f"{k} {v:.2f}" for k, v in o.items() if isinstance(v, float))
    print(f"{bench.name}: {o['items']} items: {summary}")
    if args.out:
        model = Path(args.checkpoint or args.bundle).name
        paths = ev.write_report(report, args.out, title=f"{model} on {bench.name}")
        print(f"report: {paths[1]}", file=sys.stderr)
    return 0
