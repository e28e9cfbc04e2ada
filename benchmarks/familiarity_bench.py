"""Familiarity of known vs unknown phrasings, and the threshold that separates them.

A sound's familiarity (`livesep.query`) is the largest cosine between its text embedding
and the bundle's training captions. Known: `queries/free_phrasing.json` for the classes
the bundle was trained on (its zero-shot classes are listed apart: the model never heard
them). Unknown: `queries/unknown_sounds.json` (sounds the corpus does not contain, plus
non-ASCII text and gibberish). Prints both distributions and, for each candidate
threshold, how many known phrasings would warn (false alarms) and how many unknown ones
would not (misses). The chosen threshold is the lowest whose balanced accuracy (Youden's
J) is within TIE_POINTS of the best: at equal accuracy, within the noise of ~100 unknown
phrasings, fewer false "does not know" claims.

    .venv/bin/python benchmarks/familiarity_bench.py [--bundle models/default]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CANDIDATES = np.round(np.arange(0.30, 0.701, 0.01), 2)  # cosine thresholds tried
TIE_POINTS = 1.0  # balanced-accuracy points (%) within which thresholds count as equal


def _zero_shot_classes(bundle_path: Path) -> set[str]:
    """Classes held out of the bundle's training (from the corpus recipe in the source)."""
    from livesep.training.corpus_classes import CLASSES, ZEROSHOT

    return {name for name, spec in CLASSES.items() if spec.role == ZEROSHOT}


def familiarities(reader, texts: list[str]) -> np.ndarray:
    """[N] familiarity of each text read as one sound (parsing off: the text as typed)."""
    request = reader.read_parts(texts[:1])  # warm up the encoder outside the loop
    del request
    return np.array([reader.read_parts([t]).sounds[0].familiarity for t in texts])


def quantiles(values: np.ndarray) -> str:
    q = np.percentile(values, [0, 5, 25, 50, 75, 95, 100])
    return " ".join(f"{v:.3f}" for v in q) + f"  (min p5 p25 median p75 p95 max, n={values.size})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=Path("models/default"))
    parser.add_argument(
        "--unknown",
        type=Path,
        default=HERE / "queries" / "unknown_sounds.json",
        help="sounds the bundle's corpus lacks: {\"queries\": {group: [text, ...]}} "
        "(unknown_sounds_v2.json for a corpus-v2 bundle)",
    )
    args = parser.parse_args(argv)

    from livesep.bundle import load_bundle
    from livesep.query import DEFAULT_FAMILIARITY, QueryReader

    bundle = load_bundle(args.bundle)
    if bundle.query_bank is None:
        print(f"{args.bundle}: no query bank, so no familiarity", file=sys.stderr)
        return 1
    known_file = json.loads((HERE / "queries" / "free_phrasing.json").read_text())["queries"]
    unknown_file = json.loads(args.unknown.read_text())["queries"]
    zero = _zero_shot_classes(args.bundle)
    known = [q for c, qs in known_file.items() if c not in zero for q in qs]
    zero_shot = [q for c, qs in known_file.items() if c in zero for q in qs]
    unknown = [q for qs in unknown_file.values() for q in qs]
    non_ascii = unknown_file.get("non-ASCII", [])

    reader = QueryReader(bundle)
    start = time.perf_counter()
    f_known = familiarities(reader, known)
    f_zero = familiarities(reader, zero_shot)
    f_unknown = familiarities(reader, unknown)
    seconds = time.perf_counter() - start
    encoder = reader.encoder
    print(
        f"bundle {bundle.name} ({bundle.path}): {bundle.query_bank.shape[0]} captions; encoder "
        f"{getattr(encoder, 'name', '?')}; {len(known) + len(zero_shot) + len(unknown)} "
        f"phrasings read in {seconds:.1f} s"
    )
    print(f"known ({len(known_file) - len(zero)} trained classes): {quantiles(f_known)}")
    print(f"zero-shot classes {sorted(zero)}: {quantiles(f_zero)}")
    print(f"unknown sounds and non-sounds: {quantiles(f_unknown)}")

    print("threshold  known warned (false alarms)  unknown not warned (misses)  balanced acc.")
    scores = {}
    for t in CANDIDATES:
        false_alarms = float(np.mean(f_known < t))
        misses = float(np.mean(f_unknown >= t))
        score = 1.0 - (false_alarms + misses) / 2
        scores[float(t)] = score
        if round(t * 100) % 5 == 0 or 0.55 < t < 0.7:
            print(
                f"  {t:.2f}     {100 * false_alarms:5.1f}%                      "
                f"{100 * misses:5.1f}%                      {100 * score:5.1f}%"
            )
    top = max(scores.values())
    best = min(t for t, v in scores.items() if v >= top - TIE_POINTS / 100)
    best_score = scores[best]
    print(
        f"chosen threshold {best:.2f} (balanced accuracy {100 * best_score:.1f}%); "
        f"livesep.query.DEFAULT_FAMILIARITY = {DEFAULT_FAMILIARITY}"
    )
    for name, texts, values in (("known", known, f_known), ("unknown", unknown, f_unknown)):
        wrong = values < best if name == "known" else values >= best
        listed = ", ".join(
            f"{t!r} {v:.2f}" for t, v, w in zip(texts, values, wrong, strict=True) if w
        )
        print(f"{name} on the wrong side of {best:.2f}: {listed or 'none'}")
    ascii_miss = [t for t in non_ascii if reader.read_parts([t]).sounds[0].familiarity >= best]
    print(f"non-ASCII phrasings not warned at {best:.2f}: {ascii_miss or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
