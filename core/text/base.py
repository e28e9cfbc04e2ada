"""The text-encoder interface and the query checks every encoder shares (numpy only)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from livesep.errors import QueryError

# Rows whose norm is below this are left unscaled instead of blowing up (cf. F.normalize).
NORM_EPS = 1e-12


@runtime_checkable
class TextEncoder(Protocol):
    """Turns text queries into L2-normalised embeddings.

    Attributes:
        name: Encoder name as used by `get_encoder` and stored in bundles ("minilm", ...).
        dim: Embedding size D.
    """

    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed queries.

        Args:
            texts: N queries; each must contain a non-whitespace character.

        Returns:
            float32 [N, dim], every row L2-normalised.

        Raises:
            QueryError: a query is empty or whitespace only.
        """
        ...


def validate_query(text: str) -> str:
    """Return the query stripped of surrounding whitespace.

    Raises:
        QueryError: `text` is not a string, is empty or is whitespace only.
    """
    if not isinstance(text, str):
        raise QueryError(f"text query must be a string, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise QueryError(f"empty text query {text!r}: describe the sound to separate")
    return stripped


def validate_queries(texts: list[str]) -> list[str]:
    """`validate_query` over a list; a bare string is refused (it is not a list of queries)."""
    if isinstance(texts, str):
        raise QueryError("embed() takes a list of queries, got a single string")
    return [validate_query(text) for text in texts]


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Scale each row to unit L2 norm.

    Args:
        x: [N, D].

    Returns:
        float32 [N, D].
    """
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)  # [N, 1]
    return (x / np.maximum(norms, NORM_EPS)).astype(np.float32)
