"""Paired comparison of two evaluation reports on the same bench: is B better than A?

    .venv/bin/python benchmarks/compare_reports.py OLD/report.json NEW/report.json \
        [--bench bench/val16k] [--group "NAME=class,class,..." ...]

Both reports must score the same mixtures with the same queries (`livesep evaluate` on one
bench). Per split (from the bench's bench.csv), prints each model's mean, the mean of the
per-item differences B - A and its standard error (sd / sqrt(n)), and how many classes
moved up; each `--group` adds the same rows for the items of its classes (e.g. the classes
a training change touched against those it did not). Pairing removes the spread between
mixtures, which dominates a 4-item-per-class bench: a difference within about two
standard errors is noise.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

METRICS = {  # name -> per-item value, dB
    "SDRi": lambda r: r["sdri"],
    "SI-SDRi": lambda r: r["si_sdri"],
    "wrong-query SDRi": lambda r: r["wrong_sdri"],
    "query sensitivity": lambda r: r["sdri"] - r["wrong_sdri"],
}


def load_items(path: Path) -> list[dict[str, Any]]:
    try:
        items = json.loads(path.read_text())["items"]
    except (OSError, ValueError, KeyError) as err:
        raise SystemExit(f"{path}: not a `livesep evaluate` report.json ({err})") from err
    if not items:
        raise SystemExit(f"{path}: the report scores no items")
    missing = [k for k in ("mixture", "query", "class", "sdri", "si_sdri") if k not in items[0]]
    if missing:
        raise SystemExit(f"{path}: items lack {', '.join(missing)}")
    if "wrong_sdri" not in items[0]:
        raise SystemExit(f"{path}: no wrong-query scores (evaluate without --no-wrong-query)")
    return items


def splits_of(bench: Path) -> dict[str, str]:
    """Mixture file name -> split, from bench.csv."""
    try:
        with (bench / "bench.csv").open(newline="") as f:
            return {Path(row["mixture"]).name: row["split"] for row in csv.DictReader(f)}
    except (OSError, KeyError) as err:
        raise SystemExit(f"{bench}: no bench.csv with mixture and split columns ({err})") from err


def pair(
    old: list[dict[str, Any]], new: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    if len(old) != len(new):
        raise SystemExit(f"the reports score different benches ({len(old)} vs {len(new)} items)")
    for a, b in zip(old, new, strict=True):
        if (Path(a["mixture"]).name, a["query"]) != (Path(b["mixture"]).name, b["query"]):
            raise SystemExit(
                f"the reports differ at {a['mixture']!r} / {a['query']!r} vs "
                f"{b['mixture']!r} / {b['query']!r}: not the same bench"
            )
    return list(zip(old, new, strict=True))


def mean_se(values: list[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, float("nan")
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var / n)


def compare(
    pairs: list[tuple[dict[str, Any], dict[str, Any]]],
    split_of: dict[str, str],
    groups: dict[str, set[str]] | None = None,
) -> list[dict[str, Any]]:
    """One row per (split or group, metric): means of A and B, paired difference, its SE.

    Raises:
        SystemExit: a mixture missing from bench.csv, or a group class no item has.
    """
    by_split: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = defaultdict(list)
    for a, b in pairs:
        name = Path(a["mixture"]).name
        if name not in split_of:
            raise SystemExit(f"{name} is not in the bench's bench.csv")
        by_split[split_of[name]].append((a, b))
    subsets = sorted(by_split.items())
    known = {a["class"] for a, _ in pairs}
    for label, classes in (groups or {}).items():
        unknown = sorted(classes - known)
        if unknown:
            raise SystemExit(f"group {label!r}: no item of class {', '.join(unknown)}")
        subsets.append((label, [(a, b) for a, b in pairs if a["class"] in classes]))
    return [_row(label, items, metric) for label, items in subsets for metric in METRICS]


def _row(
    label: str, items: list[tuple[dict[str, Any], dict[str, Any]]], metric: str
) -> dict[str, Any]:
    value = METRICS[metric]
    diffs = [value(b) - value(a) for a, b in items]
    per_class: dict[str, list[float]] = defaultdict(list)
    for (a, _), d in zip(items, diffs, strict=True):
        per_class[a["class"]].append(d)
    up = sum(sum(v) > 0 for v in per_class.values())
    diff, se = mean_se(diffs)
    return {
        "split": label,
        "metric": metric,
        "items": len(items),
        "old": sum(value(a) for a, _ in items) / len(items),
        "new": sum(value(b) for _, b in items) / len(items),
        "diff": diff,
        "se": se,
        "classes_up": f"{up}/{len(per_class)}",
    }


def parse_group(text: str) -> tuple[str, set[str]]:
    """`NAME=class,class,...` -> (NAME, classes)."""
    name, sep, classes = text.partition("=")
    members = {c.strip() for c in classes.split(",") if c.strip()}
    if not sep or not name.strip() or not members:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=class,class,...")
    return name.strip(), members


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path, help="report.json of model A")
    parser.add_argument("new", type=Path, help="report.json of model B")
    parser.add_argument(
        "--bench", type=Path, help="bench folder with bench.csv (default: from the mixtures' paths)"
    )
    parser.add_argument(
        "--group",
        type=parse_group,
        action="append",
        default=[],
        metavar="NAME=CLASSES",
        help="also compare the items of these comma-separated classes (repeatable)",
    )
    args = parser.parse_args()
    old, new = load_items(args.old), load_items(args.new)
    bench = args.bench or Path(old[0]["mixture"]).parent.parent
    rows = compare(pair(old, new), splits_of(bench), dict(args.group))
    print("| split or group | metric | items | A | B | B - A (paired) | SE | classes up |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['split']} | {r['metric']} | {r['items']} | {r['old']:.2f} | {r['new']:.2f} "
            f"| {r['diff']:+.2f} | {r['se']:.2f} | {r['classes_up']} |"
        )


if __name__ == "__main__":
    main()
