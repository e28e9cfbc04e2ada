"""People's queries: does what users type read as the sound they mean?

    .venv/bin/python benchmarks/people_queries.py --bundle models/default --corpus corpus \
        [--bench bench/v2 --out bench/v2_people]

For every query of benchmarks/queries/people.json (written blind to our captions, each with
the class its writer meant) this encodes the query as the hosts do, snaps it onto the
bundle's query bank and reads the top caption's class off the corpus's classes.json. It
prints, per query, the class it reads as and the familiarity (the largest cosine to any
training caption), then:
- reading accuracy: queries whose top snapped caption belongs to the intended class, over
  the queries whose class the corpus has (and over all, counting the classes it lacks);
- familiarity of known queries against benchmarks/queries/people_unknown.json (sounds the
  corpus lacks), for the "does not know" threshold.
With --bench/--out it also writes a copy of the bench whose items are asked with the
people's queries of their class (classes without people's queries are left out), for
`livesep evaluate --bundle ... --bench OUT`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from collections import Counter
from pathlib import Path

import numpy as np

from livesep.bundle import load_bundle
from livesep.query import QueryReader

# People's class -> the corpus classes that answer it ("speech": either sex; "music": any
# instrument). None: the corpus has no such class.
ALIASES: dict[str, tuple[str, ...] | None] = {
    "speech": ("male speech", "female speech"),
    "child speech": None,
    "rooster": ("chicken",),
    "insects": ("crickets",),
    "stream": ("river",),
    "mouse click": None,
    "clock tick": ("clock",),
    "alarm": None,
    "car horn": ("vehicle horn",),
    "fan hum": ("hum",),
    "vacuum cleaner": None,
    "dishes": None,
    "drilling": ("power tool",),
}
INSTRUMENTS = (
    "piano",
    "harpsichord",
    "organ",
    "accordion",
    "acoustic guitar",
    "electric guitar",
    "bass guitar",
    "violin",
    "cello",
    "harp",
    "flute",
    "clarinet",
    "saxophone",
    "trumpet",
    "trombone",
    "xylophone",
    "drums",
    "banjo",
)
# Unknown-set queries that name a class the corpus has: not counted as unknown.
KNOWN_HERE = {"harp", "accordion", "xylophone", "banjo", "frogs croaking", "wolf howling"}


def corpus_classes(intended: str, classes: set[str]) -> tuple[str, ...] | None:
    """The corpus classes that answer a people's class, or None if the corpus has none."""
    if intended == "music":
        found = tuple(c for c in INSTRUMENTS if c in classes)
        return found or None
    if intended in ALIASES:
        mapped = ALIASES[intended]
        return tuple(c for c in mapped if c in classes) or None if mapped else None
    return (intended,) if intended in classes else None


def load_reader(bundle: Path) -> QueryReader:
    """The hosts' query reader for `bundle` (its cache, encoder and query bank)."""
    b = load_bundle(bundle)
    if b.query_bank is None:
        raise SystemExit(f"{bundle}: the bundle has no query bank")
    return QueryReader(b)


def caption_owner(corpus: Path) -> dict[str, str]:
    """Training caption -> its class, from the corpus's classes.json."""
    table = json.loads((corpus / "classes.json").read_text())
    return {c: name for name, info in table.items() for c in info.get("train_captions", [])}


def read(reader: QueryReader, queries: list[str], owner: dict[str, str]) -> list[tuple[str, float]]:
    """(class of the top caption, familiarity) per query, as the hosts read each text
    (`livesep.query`; the text as written, not parsed into clauses)."""
    sounds = [reader.read_parts([q]).sounds[0] for q in queries]
    return [(owner.get(s.reading[0][0], "?"), float(s.familiarity or 0.0)) for s in sounds]


def people_bench(bench: Path, out: Path, people: list[dict[str, str]], classes: set[str]) -> int:
    """Copy `bench` with each item asked by the people's queries of its class."""
    by_class: dict[str, list[str]] = {}
    for q in people:
        for cls in corpus_classes(q["class"], classes) or ():
            if q["class"] in ("speech", "music"):
                continue  # ambiguous on purpose: scored by reading, not on a bench item
            by_class.setdefault(cls, []).append(q["query"])
    with (bench / "bench.csv").open(newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = list(reader.fieldnames or []), list(reader)
    kept, seen = [], Counter[str]()
    for row in rows:
        options = by_class.get(row["class"])
        if not options:
            continue
        k = seen[row["class"]]
        seen[row["class"]] += 1
        kept.append(dict(row, query=options[k % len(options)]))
    out.mkdir(parents=True)
    os.symlink((bench / "audio").resolve(), out / "audio")
    with (out / "bench.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(kept)
    return len(kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", type=Path, default=Path("models/default"))
    parser.add_argument("--corpus", type=Path, required=True, help="its classes.json names classes")
    here = Path(__file__).parent / "queries"
    parser.add_argument("--queries", type=Path, default=here / "people.json")
    parser.add_argument("--unknown", type=Path, default=here / "people_unknown.json")
    parser.add_argument("--bench", type=Path, help="a bench to re-ask with the people's queries")
    parser.add_argument("--out", type=Path, help="the new bench folder (must not exist)")
    args = parser.parse_args()
    if (args.bench is None) != (args.out is None):
        parser.error("--bench and --out go together")
    if args.out is not None and args.out.exists():
        parser.error(f"{args.out} exists; pick a new folder")

    people = json.loads(args.queries.read_text())["queries"]
    unknown = [q for q in json.loads(args.unknown.read_text())["queries"] if q not in KNOWN_HERE]
    reader = load_reader(args.bundle)
    owner = caption_owner(args.corpus)
    classes = set(json.loads((args.corpus / "classes.json").read_text()))
    readings = read(reader, [q["query"] for q in people], owner)
    hits = covered = 0
    missing: Counter[str] = Counter()
    for q, (got, fam) in zip(people, readings, strict=True):
        want = corpus_classes(q["class"], classes)
        ok = want is not None and got in want
        covered += want is not None
        hits += ok
        if want is None:
            missing[q["class"]] += 1
        mark = "ok " if ok else ("-- " if want is None else "XX ")
        print(f"{mark}{q['query']!r:45} meant {q['class']:16} reads as {got:18} fam {fam:.2f}")
    print(
        f"\nreading accuracy: {hits}/{covered} = {hits / max(covered, 1):.0%} of the queries "
        f"whose class the corpus has; {hits}/{len(people)} = {hits / len(people):.0%} of all "
        f"(classes the corpus lacks: {', '.join(sorted(missing))})"
    )
    known_fam = np.array(
        [
            f
            for (_, f), q in zip(readings, people, strict=True)
            if corpus_classes(q["class"], classes)
        ]
    )
    unknown_fam = np.array([f for _, f in read(reader, unknown, owner)])
    for name, fam in (("known", known_fam), ("unknown", unknown_fam)):
        p10, p50, p90 = np.percentile(fam, [10, 50, 90])
        print(
            f"familiarity of {name} queries ({len(fam)}): "
            f"p10 {p10:.2f} median {p50:.2f} p90 {p90:.2f}"
        )
    if args.bench is not None:
        n = people_bench(args.bench, args.out, people, classes)
        print(f"{args.out / 'bench.csv'}: {n} items asked with the people's queries")


if __name__ == "__main__":
    main()
