"""Copy a bench with its queries replaced: the same mixtures, asked for in other words.

    .venv/bin/python benchmarks/requery_bench.py --bench bench/val16k \
        --queries benchmarks/queries/free_phrasing.json --out bench/val16k_free

The bench's `livesep evaluate` figures depend on how its queries are phrased as much as on
the recordings (benchmarks/RESULTS.md, diagnostic 3). This writes a new bench.csv next to a
link to the bench's audio: item k of a class is queried with that class's query k (cycling),
and its wrong-query control with a query of the control's class, so the two benches
differ only in wording and `compare_reports.py`-style pairing by mixture still works.

The queries file is JSON: {"queries": {class: [query, ...]}} (or that mapping itself).
The wrong query's class is read off the bench's own query column and the corpus's
validation captions; an unknown wrong query or a class without queries is an error.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from pathlib import Path

from livesep.training.captions import val_captions
from livesep.training.corpus_classes import CLASSES

BENCH_CSV = "bench.csv"


def read_queries(path: Path) -> dict[str, list[str]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise SystemExit(f"{path}: not a readable JSON file ({err})") from err
    queries = data.get("queries", data) if isinstance(data, dict) else None
    if not isinstance(queries, dict) or not all(
        isinstance(v, list) and v and all(isinstance(q, str) and q.strip() for q in v)
        for v in queries.values()
    ):
        raise SystemExit(f"{path}: expected {{class: [query, ...]}} with non-empty lists")
    return {str(k): [q.strip() for q in v] for k, v in queries.items()}


def caption_classes(rows: list[dict[str, str]]) -> dict[str, str]:
    """Query text -> class, from the bench itself and every class's validation captions."""
    owner = {c: name for name, spec in CLASSES.items() for c in val_captions(spec)}
    owner.update({row["query"]: row["class"] for row in rows})
    return owner


def requery(rows: list[dict[str, str]], queries: dict[str, list[str]]) -> list[dict[str, str]]:
    owner = caption_classes(rows)
    missing = sorted({row["class"] for row in rows} - set(queries))
    if missing:
        raise SystemExit(f"no queries for classes: {', '.join(missing)}")
    seen: dict[str, int] = {}
    out = []
    for number, row in enumerate(rows):
        k = seen.get(row["class"], 0)
        seen[row["class"]] = k + 1
        new = dict(row, query=queries[row["class"]][k % len(queries[row["class"]])])
        wrong = row.get("wrong_query", "")
        if wrong:
            if wrong not in owner:
                raise SystemExit(f"bench row {number + 1}: wrong query {wrong!r}: unknown class")
            wrong_class = owner[wrong]
            if wrong_class not in queries:
                raise SystemExit(f"no queries for the wrong-query class {wrong_class!r}")
            options = queries[wrong_class]
            new["wrong_query"] = options[number % len(options)]
        out.append(new)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", type=Path, required=True, help="bench dir with bench.csv")
    parser.add_argument("--queries", type=Path, required=True, help="JSON {class: [query]}")
    parser.add_argument("--out", type=Path, required=True, help="new bench dir (must not exist)")
    args = parser.parse_args()
    source = args.bench / BENCH_CSV
    if not source.is_file():
        raise SystemExit(f"{args.bench}: no {BENCH_CSV}")
    if args.out.exists():
        raise SystemExit(f"{args.out} exists; pick a new folder")
    with source.open(newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = list(reader.fieldnames or []), list(reader)
    new = requery(rows, read_queries(args.queries))
    args.out.mkdir(parents=True)
    os.symlink((args.bench / "audio").resolve(), args.out / "audio")
    with (args.out / BENCH_CSV).open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(new)
    changed = sum(a["query"] != b["query"] for a, b in zip(rows, new, strict=True))
    print(f"{args.out / BENCH_CSV}: {len(new)} items, {changed} queries reworded")


if __name__ == "__main__":
    main()
