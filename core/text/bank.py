"""Query snapping: move a query's embedding onto the captions the model was trained on.

A small model trained on a few hundred captions follows those captions, not the whole
space of the text encoder: "a squeezebox" embeds far from "an accordion" and gets a poor
separation although the model knows the accordion. Snapping replaces the query's
embedding by a softmax-weighted mean of the training captions' embeddings (cosine
similarity over `temperature`), so a new phrasing is answered with what the nearest
trained phrasings ask for. Measured on the shipped model's held-out bench in
benchmarks/RESULTS.md ("Query snapping"). The bank travels in the bundle
(`query_bank.npz`); a bundle without one conditions on the raw embedding.
"""

from __future__ import annotations

import numpy as np

from livesep.errors import QueryError
from livesep.text.base import l2_normalize

__all__ = ["snap", "snap_weights"]


def snap_weights(embedding: np.ndarray, bank: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(cosine(embedding, bank rows) / temperature): float64 [N], summing to 1.

    Raises:
        QueryError: shapes do not match or the temperature is not positive.
    """
    e = np.asarray(embedding, dtype=np.float32)  # [D]
    if bank.ndim != 2 or e.shape != (bank.shape[1],) or bank.shape[0] == 0:
        raise QueryError(f"cannot snap a {e.shape} embedding to a {bank.shape} caption bank")
    if not temperature > 0:
        raise QueryError(f"snap temperature must be > 0, got {temperature}")
    cos = (bank @ e).astype(np.float64)  # [N]
    w = np.exp((cos - cos.max()) / temperature)  # [N], the largest is 1
    return w / w.sum()


def snap(embedding: np.ndarray, bank: np.ndarray, temperature: float) -> np.ndarray:
    """The softmax(cosine / temperature)-weighted mean of `bank`'s rows, unit length.

    Args:
        embedding: float [D], the query's (unit-length) embedding.
        bank: float [N, D], unit-length embeddings of the training captions.
        temperature: > 0; small values pick the nearest caption, large ones average.

    Returns:
        float32 [D].

    Raises:
        QueryError: shapes do not match or the temperature is not positive.
    """
    mean = snap_weights(embedding, bank, temperature).astype(np.float32) @ bank  # [D]
    return l2_normalize(mean[None])[0]
