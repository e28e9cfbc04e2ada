"""`livesep export`: a checkpoint (or a random-init model, for tests) -> a model bundle.

livesep export --checkpoint CKPT --out DIR [--encoder minilm] [--with-text-encoder]
               [--chunk-hops N] [--query TEXT ...] [--snap-captions CORPUS]
               [--familiarity-threshold COS]
livesep export --checkpoint CKPT --like BUNDLE --out DIR   # re-export: same queries, bank,
                                                           # name, provenance and metrics
livesep export --random-init --config CONFIG.{json,yaml} --out DIR
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from livesep.errors import LivesepError

HELP = "export a checkpoint to an ONNX step graph + bundle"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", type=Path, help="livesep checkpoint (.pt)")
    source.add_argument(
        "--random-init",
        action="store_true",
        help="export an untrained model with random weights (test bundles)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="with --random-init: JSON/YAML model config; key 'family' (default 'streaming') "
        'and the config fields, e.g. {"widths": [8, 16, 32], "embed_dim": 384}',
    )
    parser.add_argument("--seed", type=int, default=0, help="with --random-init: weight seed")
    parser.add_argument("--out", type=Path, required=True, help="bundle directory to write")
    parser.add_argument("--name", default=None, help="bundle name (default: the folder name)")
    parser.add_argument("--encoder", default="minilm", choices=["minilm", "clap"])
    parser.add_argument(
        "--with-text-encoder",
        action="store_true",
        help="add MiniLM as ONNX (text_encoder.onnx + tokenizer.json): no torch needed live",
    )
    parser.add_argument(
        "--chunk-hops",
        type=int,
        default=50,
        help="hops per call of chunk.onnx (offline use); 0 = no chunk graph",
    )
    parser.add_argument(
        "--query",
        action="append",
        default=[],
        metavar="TEXT",
        help="cache this query's embedding in the bundle (repeatable)",
    )
    parser.add_argument(
        "--snap-captions",
        type=Path,
        metavar="CORPUS",
        help="corpus folder or manifest.jsonl: its training captions become the bundle's "
        "query bank, onto which the hosts snap every query (see livesep.query.snap)",
    )
    parser.add_argument(
        "--snap-temperature", type=float, default=0.05, help="with --snap-captions (cosine)"
    )
    parser.add_argument(
        "--familiarity-threshold",
        type=float,
        metavar="COS",
        help="cosine to the nearest training caption below which hosts warn that the model "
        "does not know a sound (default: the hosts' own, livesep.query.DEFAULT_FAMILIARITY; "
        "measure it with benchmarks/familiarity_bench.py)",
    )
    parser.add_argument(
        "--like",
        type=Path,
        metavar="BUNDLE",
        help="re-export in this livesep's format: take the cached queries, query bank, "
        "temperature, threshold, name, provenance and metrics from BUNDLE (may be --out)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    parser.add_argument(
        "--no-verify", action="store_true", help="skip the ONNX == torch parity checks"
    )


def _read_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LivesepError(f"{path}: cannot read config ({exc.strerror})") from None
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # json and yaml errors differ; name the file and the cause
        raise LivesepError(f"{path}: unreadable config ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise LivesepError(f"{path}: config must be a mapping of fields")
    return data


def _random_model(config_path: Path | None, seed: int) -> tuple[Any, dict[str, Any]]:
    import torch

    from livesep.model import build_model

    data = _read_config(config_path) if config_path is not None else {}
    family = data.pop("family", "streaming")
    torch.manual_seed(seed)
    model = build_model(family, data)
    source = str(config_path) if config_path else "default config"
    return model.eval(), {"source": f"random init ({source}, seed {seed})"}


def _checkpoint_model(path: Path) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    from livesep.model import load_checkpoint

    model, extra = load_checkpoint(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    provenance: dict[str, Any] = {"checkpoint": path.name, "checkpoint_sha256": digest}
    for key, value in extra.items():  # plain facts the trainer stored (step, epoch, ...)
        if key != "metrics" and isinstance(value, str | int | float | bool):
            provenance[key] = value
    metrics = extra.get("metrics") if isinstance(extra.get("metrics"), dict) else {}
    return model, provenance, metrics or {}


def _like(path: Path, name: str | None, threshold: float | None) -> dict[str, Any]:
    """export_bundle options that re-create the bundle at `path` (read before writing)."""
    from livesep.bundle import load_bundle

    old = load_bundle(path)
    bank = None
    if old.query_bank is not None:
        bank = dict(zip(old.query_bank_texts, old.query_bank, strict=True))
    provenance = {k: v for k, v in old.provenance.items() if k not in ("exporter", "torch")}
    return {
        "encoder": old.encoder_name,
        "name": name or old.name,
        "with_text_encoder": "text_encoder.onnx" in old.text_encoder_files,
        "queries": list(old.embeddings),
        "provenance": provenance,
        "metrics": old.metrics,
        "query_bank": bank,
        "snap_temperature": old.query_temperature or 0.05,
        "familiarity_threshold": threshold if threshold is not None else old.familiarity_threshold,
    }


def run(args: argparse.Namespace) -> int:
    from livesep.export.bundle_export import export_bundle

    if args.random_init:
        model, provenance = _random_model(args.config, args.seed)
        metrics: dict[str, Any] = {}
    else:
        if args.config is not None:
            raise LivesepError("--config goes with --random-init (a checkpoint has its own)")
        model, provenance, metrics = _checkpoint_model(args.checkpoint)
    bank = None
    if args.snap_captions is not None:
        from livesep.export.bundle_export import caption_bank

        trained = None if args.random_init else Path(args.checkpoint).parent / "embeddings.npz"
        bank = caption_bank(args.snap_captions, args.encoder, trained)
    options: dict[str, Any] = {
        "encoder": args.encoder,
        "name": args.name or args.out.name,
        "with_text_encoder": args.with_text_encoder,
        "queries": args.query,
        "provenance": provenance,
        "metrics": metrics,
        "query_bank": bank,
        "snap_temperature": args.snap_temperature,
        "familiarity_threshold": args.familiarity_threshold,
    }
    if args.like is not None:
        if args.snap_captions is not None or args.query:
            raise LivesepError("--like takes the queries and the bank from the bundle")
        options.update(_like(args.like, args.name, args.familiarity_threshold))
    bundle = export_bundle(
        model,
        args.out,
        chunk_hops=args.chunk_hops,
        overwrite=args.overwrite,
        verify=not args.no_verify,
        **options,
    )
    ms = 1000 * bundle.latency_samples / bundle.sample_rate
    print(
        f"wrote {bundle.path}: graphs {', '.join(bundle.graphs)}; {bundle.sample_rate} Hz, "
        f"hop {bundle.hop}, latency {bundle.latency_samples} samples ({ms:.1f} ms), "
        f"{len(bundle.states)} state tensors"
    )
    return 0
