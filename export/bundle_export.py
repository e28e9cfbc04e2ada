"""Torch separator -> bundle directory (graphs + manifest, written via `livesep.bundle`).

Streaming models get `step.onnx` (one hop per call), `chunk.onnx` (the same states, many
hops per call, for offline use; the two keep their tensors once, in `weights.bin`) and
`film.onnx`; whole-signal models (ResUNet30) get
`offline.onnx`. Every graph is checked against the torch model before the bundle is written
(`livesep.export.verify`); a failed check raises and leaves no bundle behind.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from livesep import __version__
from livesep.bundle import (
    FORMAT,
    FORMAT_VERSION,
    Bundle,
    write_bundle,
    write_embeddings,
    write_query_bank,
)
from livesep.export.onnx_step import ExportError, export_film, export_offline, export_step
from livesep.export.shared_weights import share_weights
from livesep.export.verify import verify_offline, verify_streaming
from livesep.model.streaming import StreamingResUNet

ENCODER_DIMS = {"minilm": 384, "clap": 512}  # text encoder name -> embedding size
DEFAULT_CHUNK_HOPS = 50  # hops per chunk.onnx call (0.5 s at 10 ms hops)
WEIGHTS_FILE = "weights.bin"  # the tensors step.onnx and chunk.onnx share (external data)


def model_embed_dim(model: nn.Module) -> int:
    """The embedding size a separator takes (StreamingConfig.embed_dim / condition_size)."""
    config = getattr(model, "config", None)
    dim = getattr(config, "embed_dim", None) or getattr(config, "condition_size", None)
    if not isinstance(dim, int):
        raise ExportError(f"{type(model).__name__}: config names no embedding size")
    return dim


def _config_dict(model: nn.Module) -> dict[str, Any]:
    config: Any = getattr(model, "config", None)
    if config is None or not is_dataclass(config) or isinstance(config, type):
        raise ExportError(f"{type(model).__name__}: no dataclass config to record")
    return asdict(config)


def export_bundle(
    model: nn.Module,
    out_dir: str | Path,
    *,
    encoder: str = "minilm",
    name: str = "default",
    chunk_hops: int = DEFAULT_CHUNK_HOPS,
    with_text_encoder: bool = False,
    queries: Sequence[str] = (),
    provenance: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    query_bank: Mapping[str, Any] | None = None,
    snap_temperature: float = 0.05,
    familiarity_threshold: float | None = None,
    overwrite: bool = False,
    verify: bool = True,
) -> Bundle:
    """Export `model` to a bundle directory.

    Args:
        model: a StreamingResUNet (step/chunk/film graphs) or another whole-signal separator
            with `family` and `config` (offline graph).
        out_dir: the bundle directory to create.
        encoder: text encoder name the model was trained with ("minilm" or "clap").
        name: the bundle's name in its manifest.
        chunk_hops: hops per call of chunk.onnx; 0 or 1 = no chunk graph.
        with_text_encoder: add MiniLM as ONNX (`text_encoder.onnx` + `tokenizer.json`).
        queries: texts whose embeddings are cached in `embeddings.json`.
        provenance: free-form origin facts (checkpoint, training step...).
        metrics: free-form quality figures.
        query_bank: training caption -> unit-length embedding [D]; the hosts snap every
            query onto these (`livesep.query.snap`) with `snap_temperature`. None: no bank.
        familiarity_threshold: cosine to the nearest training caption below which the
            hosts warn that the model does not know a sound (`livesep.query`); None: the
            hosts' default (`livesep.query.DEFAULT_FAMILIARITY`).
        overwrite: replace an existing `out_dir`.
        verify: check every graph against the torch model first.

    Returns:
        The written bundle, loaded and validated.

    Raises:
        ExportError: the model does not fit the encoder, or a graph fails its check.
        BundleError: the bundle cannot be written.
    """
    model = model.eval()
    if encoder not in ENCODER_DIMS:
        raise ExportError(f"unknown encoder {encoder!r} (known: {', '.join(ENCODER_DIMS)})")
    dim = model_embed_dim(model)
    if dim != ENCODER_DIMS[encoder]:
        raise ExportError(
            f"{type(model).__name__} takes {dim}-d embeddings, encoder {encoder!r} gives "
            f"{ENCODER_DIMS[encoder]}-d"
        )
    if with_text_encoder and encoder != "minilm":
        raise ExportError(f"--with-text-encoder exports MiniLM only, not {encoder!r}")
    with tempfile.TemporaryDirectory(prefix="livesep-export-") as tmp_name:
        tmp = Path(tmp_name)
        if isinstance(model, StreamingResUNet):
            manifest, files = _streaming_graphs(model, tmp, chunk_hops, verify)
        else:
            manifest, files = _offline_graph(model, tmp, dim, verify)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": name,
            **manifest,
            "channels": 1,
            "encoder": {"name": encoder, "dim": dim},
            "model": {"family": getattr(model, "family", "?"), "config": _config_dict(model)},
            "provenance": {"exporter": f"livesep {__version__}", "torch": torch.__version__}
            | dict(provenance or {}),
            "metrics": dict(metrics or {}),
        }
        if with_text_encoder:
            from livesep.export.text_encoder import export_minilm

            paths = export_minilm(tmp / "text")
            files.update({p.name: p for p in paths})
            manifest["text_encoder"] = {"files": [p.name for p in paths]}
        if queries:
            files["embeddings.json"] = _cache_queries(tmp, encoder, queries)
            manifest["embeddings"] = "embeddings.json"
        if query_bank:
            write_query_bank(tmp / "query_bank.npz", query_bank)
            files["query_bank.npz"] = tmp / "query_bank.npz"
            manifest["query_bank"] = {"file": "query_bank.npz", "temperature": snap_temperature}
            if familiarity_threshold is not None:
                manifest["query_bank"]["familiarity_threshold"] = float(familiarity_threshold)
        return write_bundle(out_dir, manifest, files, overwrite=overwrite)


def _streaming_graphs(
    model: StreamingResUNet, tmp: Path, chunk_hops: int, verify: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Export step/chunk/film graphs into `tmp`; returns manifest fields and files."""
    cfg = model.config
    files: dict[str, Any] = {
        "step.onnx": export_step(model, tmp / "step.onnx", block_hops=1),
        "film.onnx": export_film(model, tmp / "film.onnx"),
    }
    graphs: dict[str, Any] = {
        "step": {"file": "step.onnx", "block_hops": 1},
        "film": {"file": "film.onnx"},
    }
    if chunk_hops > 1:
        files["chunk.onnx"] = export_step(model, tmp / "chunk.onnx", block_hops=chunk_hops)
        graphs["chunk"] = {"file": "chunk.onnx", "block_hops": chunk_hops}
        # One copy of the tensors both hold (5.3 MB for the default model).
        files[WEIGHTS_FILE] = share_weights([files["step.onnx"], files["chunk.onnx"]], WEIGHTS_FILE)
    if verify:
        verify_streaming(model, files["step.onnx"], files["film.onnx"], files.get("chunk.onnx"))
    fields = {
        "sample_rate": cfg.sample_rate,
        "hop": cfg.hop,
        "n_fft": cfg.n_fft,
        "window": "hann",
        "block_hops": 1,
        "latency_samples": model.latency,
        "graphs": graphs,
        "cond_dim": model.cond_dim,
        "states": [{"name": n, "shape": list(s)} for n, s in model.state_specs()],
    }
    return fields, files


def _offline_graph(
    model: nn.Module, tmp: Path, dim: int, verify: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Export the offline graph into `tmp`; returns manifest fields and files."""
    cfg: Any = model.config
    files: dict[str, Any] = {"offline.onnx": export_offline(model, tmp / "offline.onnx", dim)}
    if verify:
        verify_offline(model, files["offline.onnx"], dim)
    # No step graph and no state; cond_dim is the model's FiLM width (all its biases).
    film_width = sum(m.out_features for m in model.modules() if isinstance(m, nn.Linear))
    fields = {
        "sample_rate": cfg.sample_rate,
        "hop": cfg.hop,
        "n_fft": cfg.n_fft,
        "window": "hann",
        "block_hops": 1,
        "latency_samples": 0,  # non-causal, aligned whole-signal output
        "graphs": {"offline": {"file": "offline.onnx"}},
        "cond_dim": film_width,
        "states": [],
    }
    return fields, files


def caption_bank(
    manifest: str | Path, encoder: str = "minilm", trained: str | Path | None = None
) -> dict[str, np.ndarray]:
    """Every caption of the training clips in a corpus manifest -> its embedding [D].

    The bank a bundle snaps queries onto (`export_bundle(query_bank=...)`). Its vectors are
    both what a query is compared with and what the model then receives, so each caption
    gets the vector the model was trained on when the run's caption cache (`trained`,
    the `embeddings.npz` a training run writes beside its checkpoints) has it; only the
    others are encoded. On the shipped model, the training (float) vectors instead of the
    hosts' int8 ONNX ones scored +0.07 dB SI-SDRi, paired (benchmarks/RESULTS.md,
    "Torch-free text").

    Raises:
        ExportError: the manifest cannot be read or has no training captions.
    """
    from livesep.text import get_encoder

    path = Path(manifest)
    path = path / "manifest.jsonl" if path.is_dir() else path
    texts: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ExportError(f"{path}: cannot read the corpus manifest ({exc.strerror})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if record["split"] == "train":
                texts.update(str(c) for c in record["captions"])
        except (json.JSONDecodeError, KeyError, TypeError):
            raise ExportError(f"{path}:{number}: not a manifest record") from None
    if not texts:
        raise ExportError(f"{path}: no training clips, so no captions to snap queries onto")
    ordered = sorted(texts)
    bank = {t: v for t, v in _trained_vectors(trained, encoder).items() if t in texts}
    missing = [t for t in ordered if t not in bank]
    if missing:
        vectors = get_encoder(encoder).embed(missing)  # [M, D]
        bank.update((t, np.asarray(v, np.float32)) for t, v in zip(missing, vectors, strict=True))
    return {t: bank[t] for t in ordered}


def _trained_vectors(path: str | Path | None, encoder: str) -> dict[str, np.ndarray]:
    """A training run's caption cache (npz: encoder, texts [N], vectors [N, D]), if any."""
    if path is None or not Path(path).is_file():
        return {}
    minilm = ("minilm", "minilm-onnx", "minilm-torch")  # one embedding space
    try:
        with np.load(path, allow_pickle=False) as data:
            name = str(data["encoder"])
            if name != encoder and not (name in minilm and encoder in minilm):
                return {}
            vectors = data["vectors"].astype(np.float32)  # [N, D]
            return dict(zip(data["texts"].tolist(), vectors, strict=True))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ExportError(f"{path}: unreadable caption cache ({exc})") from None


def _cache_queries(tmp: Path, encoder: str, queries: Sequence[str]) -> Path:
    from livesep.text import get_encoder

    texts = list(dict.fromkeys(queries))  # unique, in order
    vectors = get_encoder(encoder).embed(texts)  # [N, D]
    path = tmp / "embeddings.json"
    write_embeddings(path, encoder, {t: np.asarray(v) for t, v in zip(texts, vectors, strict=True)})
    return path
