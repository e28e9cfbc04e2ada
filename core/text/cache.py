"""Memoised text embeddings, optionally persisted as a JSON file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from livesep.atomic import write_text
from livesep.errors import QueryError
from livesep.text.base import TextEncoder, validate_queries

CACHE_FORMAT = "livesep-embedding-cache"


class EmbeddingCache:
    """A `TextEncoder` that remembers every embedding by (encoder name, text).

    Queries are stripped before lookup, so "dog " and "dog" share one entry. With `path`,
    entries are read from that JSON file at start and the file is rewritten atomically
    after every call that computed new embeddings. The file may hold entries of several
    encoders: `{"format": ..., "encoders": {name: {text: [D floats]}}}`.

    Args:
        encoder: The encoder that computes missing embeddings.
        path: Optional JSON file for persistence (created on first write).

    Raises:
        QueryError: the cache file exists but is not a valid cache.
    """

    def __init__(self, encoder: TextEncoder, path: str | Path | None = None) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.dim = encoder.dim
        self.path = Path(path) if path is not None else None
        self._entries: dict[tuple[str, str], np.ndarray] = {}
        if self.path is not None and self.path.exists():
            self._load(self.path)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and (self.name, text.strip()) in self._entries

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed queries, calling the encoder once for all texts not seen before.

        Returns:
            float32 [N, dim], L2-normalised rows.
        """
        queries = validate_queries(texts)
        missing = list(dict.fromkeys(q for q in queries if (self.name, q) not in self._entries))
        if missing:
            vectors = np.asarray(self.encoder.embed(missing), dtype=np.float32)  # [M, D]
            for text, vector in zip(missing, vectors, strict=True):
                self._entries[(self.name, text)] = vector
            if self.path is not None:
                self._save(self.path)
        if not queries:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._entries[(self.name, q)] for q in queries])  # [N, D]

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != CACHE_FORMAT:
                raise ValueError(f"format is {data.get('format')!r}, expected {CACHE_FORMAT!r}")
            for name, texts in data["encoders"].items():
                for text, vector in texts.items():
                    self._entries[(name, text)] = np.asarray(vector, dtype=np.float32)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise QueryError(f"embedding cache {path} is unreadable: {exc}") from exc

    def _save(self, path: Path) -> None:
        encoders: dict[str, dict[str, list[float]]] = {}
        for (name, text), vector in self._entries.items():
            encoders.setdefault(name, {})[text] = [float(v) for v in vector]
        payload = json.dumps({"format": CACHE_FORMAT, "encoders": encoders})
        write_text(path, payload)  # temp file + rename: readers never see half a cache
