"""Measure the speech-expert router: held-out phrasings, nearest anchor, cosine, route.

    python benchmarks/speech_route.py [--phrases benchmarks/queries/speech_route.json]

Prints one line per phrase (expected route, nearest anchor and its group, cosine) and the
interval of thresholds that routes every 'expert' phrase to the expert and no 'model'
phrase, under the rule of `livesep.speech_route` (nearest anchor is speech in general and
its cosine >= threshold). The shipped `THRESHOLD` must lie inside it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from livesep.speech_route import GENERAL, OTHER, SPEAKER, THRESHOLD, SpeechRouter

HERE = Path(__file__).resolve().parent


def group(anchor: str) -> str:
    return "general" if anchor in GENERAL else "speaker" if anchor in SPEAKER else "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phrases", default=str(HERE / "queries" / "speech_route.json"))
    args = parser.parse_args()
    phrases = json.loads(Path(args.phrases).read_text(encoding="utf-8"))
    router = SpeechRouter(threshold=-1.0)  # every decision by nearest anchor; threshold below
    lowest_expert, highest_model = 1.0, -1.0
    wrong_group = []
    for expected in ("expert", "model"):
        for text in phrases[expected]:
            _, anchor, cos = router.nearest(text)
            g = group(anchor)
            print(f"{expected:6s} {text!r:28} nearest {anchor!r:20} ({g:7s}) cos {cos:.3f}")
            if expected == "expert":
                lowest_expert = min(lowest_expert, cos) if g == "general" else lowest_expert
                if g != "general":
                    wrong_group.append(text)
            elif g == "general":
                highest_model = max(highest_model, cos)
    print(f"\nanchors: {len(GENERAL)} general, {len(SPEAKER)} speaker, {len(OTHER)} other")
    print(f"expert phrases nearest a non-general anchor (never routed): {wrong_group or 'none'}")
    print(f"lowest cosine of an expert phrase: {lowest_expert:.3f}")
    print(f"highest cosine of a model phrase nearest a general anchor: {highest_model:.3f}")
    ok = highest_model < THRESHOLD <= lowest_expert
    print(
        f"separating thresholds: ({highest_model:.3f}, {lowest_expert:.3f}]; "
        f"shipped THRESHOLD {THRESHOLD} {'inside' if ok else 'OUTSIDE'}"
    )


if __name__ == "__main__":
    main()
