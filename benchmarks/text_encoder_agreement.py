"""How closely the hosts' text encoder ("minilm", int8 ONNX) follows the float model.

The shipped model was trained on all-MiniLM-L6-v2's float vectors ("minilm-torch",
sentence-transformers); the hosts compute a query's vector with the packaged int8 ONNX
graph. This prints, over the project's captions (the bundle's query bank = every training
caption, the validation captions of training/corpus_classes.py and the free-phrasing
queries of benchmarks/queries/free_phrasing.json):

- the cosine between the two encoders' vectors of each text;
- for each query that is not a bank caption: whether snapping (`livesep.query.snap`) picks
  the same top caption and the same class with the int8 query on an int8 bank (what the
  hosts do) as with the float query on a float bank (what the model was trained for), and
  the cosine between the two conditioning vectors the model receives;
- load time and per-query encode time of each encoder (one thread).

Needs the `train` extra (torch, for the float reference):

    python benchmarks/text_encoder_agreement.py [--bundle models/default]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from livesep.bundle import default_bundle_path, load_bundle
from livesep.query import snap, snap_weights
from livesep.text import get_encoder

ROOT = Path(__file__).resolve().parents[1]
FREE = ROOT / "benchmarks" / "queries" / "free_phrasing.json"
TIMED_QUERY = "keep the voice, remove the wind"


def caption_classes() -> tuple[dict[str, str], dict[str, str]]:
    """(training caption -> class, validation caption -> class) from the corpus tables."""
    from livesep.training.captions import train_captions, val_captions
    from livesep.training.corpus_classes import CLASSES

    train: dict[str, str] = {}
    for spec in CLASSES.values():
        for caption in train_captions(spec):
            train.setdefault(caption, spec.name)
    val = {c: s.name for s in CLASSES.values() for c in val_captions(s, set(train))}
    return train, val


def timed_encoder(name: str) -> tuple[object, float, float]:
    """(encoder, load seconds, median ms per single query)."""
    start = time.perf_counter()
    encoder = get_encoder(name)
    load = time.perf_counter() - start
    encoder.embed([TIMED_QUERY])  # type: ignore[attr-defined]  # warm-up
    runs = []
    for _ in range(30):
        start = time.perf_counter()
        encoder.embed([TIMED_QUERY])  # type: ignore[attr-defined]
        runs.append(time.perf_counter() - start)
    return encoder, load, 1e3 * float(np.median(runs))


def embed(encoder: object, texts: list[str], batch: int = 64) -> np.ndarray:
    rows = [encoder.embed(texts[i : i + batch]) for i in range(0, len(texts), batch)]  # type: ignore[attr-defined]
    return np.concatenate(rows).astype(np.float32)  # [N, D]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=None, help="default: models/default")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    bundle = load_bundle(args.bundle or default_bundle_path())
    assert bundle.query_bank is not None, "the bundle has no query bank"
    bank_texts = list(bundle.query_bank_texts)
    train_class, val_class = caption_classes()
    free = json.loads(FREE.read_text(encoding="utf-8"))["queries"]
    free_class = {q: c for c, qs in free.items() for q in qs}
    texts = list(dict.fromkeys(bank_texts + list(val_class) + list(free_class)))

    host, host_load, host_ms = timed_encoder("minilm")
    ref, ref_load, ref_ms = timed_encoder("minilm-torch")
    print(f"encoder       load s   ms/query ({TIMED_QUERY!r}, 1 thread, median of 30)")
    print(f"minilm        {host_load:6.2f}   {host_ms:6.1f}")
    print(f"minilm-torch  {ref_load:6.2f}   {ref_ms:6.1f}")

    q = embed(host, texts)  # [N, D]
    f = embed(ref, texts)  # [N, D]
    cos = np.sum(q * f, axis=1)  # [N]
    order = np.argsort(cos)
    print(
        f"\ncosine(int8, float) over {len(texts)} texts: min {cos.min():.4f}, 1st pct "
        f"{np.percentile(cos, 1):.4f}, median {np.median(cos):.4f}; lowest: "
        + ", ".join(f"{texts[i]!r} {cos[i]:.4f}" for i in order[:3])
    )
    row = {t: i for i, t in enumerate(texts)}
    bank_q = q[[row[t] for t in bank_texts]]  # [B, D]
    bank_f = f[[row[t] for t in bank_texts]]  # [B, D]
    temp = bundle.query_temperature
    print(f"\nsnapping at temperature {temp} onto {len(bank_texts)} captions (int8 query on int8")
    print("bank, as the hosts do, vs float query on float bank, as in training):")
    print("queries              n   same top caption   same top class   right class f / q   "
          "cond cosine min / median")
    for label, queries in (("validation captions", val_class), ("free phrasing", free_class)):
        same_top = same_class = right_f = right_q = 0
        cond = []
        for text, cls in queries.items():
            wf = snap_weights(f[row[text]], bank_f, temp)
            wq = snap_weights(q[row[text]], bank_q, temp)
            top_f, top_q = bank_texts[int(wf.argmax())], bank_texts[int(wq.argmax())]
            same_top += top_f == top_q
            same_class += train_class[top_f] == train_class[top_q]
            right_f += train_class[top_f] == cls
            right_q += train_class[top_q] == cls
            cond.append(float(snap(f[row[text]], bank_f, temp) @ snap(q[row[text]], bank_q, temp)))
        n = len(queries)
        print(
            f"{label:19s} {n:3d}   {same_top:3d} ({100 * same_top / n:5.1f}%)    "
            f"{same_class:3d} ({100 * same_class / n:5.1f}%)   {right_f:3d} / {right_q:3d}        "
            f"{min(cond):.4f} / {np.median(cond):.4f}"
        )


if __name__ == "__main__":
    main()
