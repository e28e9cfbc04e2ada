"""Control messages for the engine and the background query encoder.

Controls cross threads through `ControlQueue`, a bounded deque (CPython's `append` and
`popleft` are atomic, so neither side takes a lock); the worker drains it between hops.
Text queries are encoded on `QueryEncoder`'s own thread, never on the audio path, and the
finished embedding is posted to the engine as an ordinary message.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from livesep.bundle import Bundle
from livesep.errors import LivesepError, QueryError

MAX_PENDING = 256  # controls waiting to be applied
MODES = ("extract", "remove")


@dataclass(frozen=True)
class Control:
    """One parameter change: `kind` in {"embedding", "mode", "wet", "gain_db", "bypass"}."""

    kind: str
    value: Any
    label: str | None = None  # query text of an embedding


class ControlQueue:
    """Bounded multi-producer / single-consumer queue that never blocks."""

    def __init__(self, maxsize: int = MAX_PENDING) -> None:
        self._items: deque[Control] = deque()
        self.maxsize = maxsize

    def put(self, item: Control) -> None:
        if len(self._items) >= self.maxsize:
            raise LivesepError(f"engine control queue full ({self.maxsize} pending)")
        self._items.append(item)

    def get(self) -> Control | None:
        try:
            return self._items.popleft()
        except IndexError:
            return None


def clean_query(text: str) -> str:
    """The query stripped of surrounding whitespace; empty -> `QueryError`."""
    if not isinstance(text, str) or not text.strip():
        raise QueryError("empty query: describe the sound to separate")
    return text.strip()


def default_encoder(bundle: Bundle) -> Any:
    """A torch-free text encoder matching the bundle's encoder, or raise `QueryError`.

    The bundle's own `text_encoder` files first, else the packaged ONNX MiniLM ("minilm").
    """
    from livesep.text import get_encoder  # lazily: only for queries not cached in the bundle

    if bundle.encoder_name not in ("minilm", "minilm-onnx"):
        raise QueryError(
            f"{bundle.path}: queries for encoder {bundle.encoder_name!r} must be cached in "
            "the bundle or encoded by a given encoder"
        )
    if "text_encoder.onnx" in bundle.text_encoder_files:
        return get_encoder("minilm-onnx", path=bundle.path)
    return get_encoder("minilm")


class QueryEncoder:
    """Encodes query texts on a background thread and hands each result to `deliver`.

    Args:
        bundle: for cached embeddings and the default encoder.
        deliver: called on the encoder thread with (text, embedding float32[D]).
        on_error: called with a one-line message when encoding fails.
        encoder: a `TextEncoder` to use instead of the default.
    """

    def __init__(
        self,
        bundle: Bundle,
        deliver: Callable[[str, np.ndarray], None],
        on_error: Callable[[str], None],
        encoder: Any = None,
    ) -> None:
        self.bundle = bundle
        self.deliver = deliver
        self.on_error = on_error
        self.encoder = encoder
        self._todo: deque[str] = deque()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def lookup(self, text: str) -> np.ndarray | None:
        """The conditioning embedding of `text` from the bundle's cache, or None."""
        cached = self.bundle.cached_embedding(text)
        return None if cached is None else self.bundle.condition(cached)

    def submit(self, text: str) -> None:
        """Encode `text` soon (the latest submitted text wins)."""
        self._todo.append(text)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="livesep-query", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def encode_now(self, text: str) -> np.ndarray:
        """Encode synchronously on the caller's thread (the CLI's first query)."""
        cached = self.lookup(text)
        if cached is not None:
            return cached
        if self.encoder is None:
            self.encoder = default_encoder(self.bundle)
        emb = np.asarray(self.encoder.embed([text]), dtype=np.float32)[0]  # [D]
        if emb.shape != (self.bundle.encoder_dim,):
            raise QueryError(
                f"encoder gives {emb.shape[0]}-d vectors, {self.bundle.path} expects "
                f"{self.bundle.encoder_dim}-d"
            )
        return self.bundle.condition(emb)  # snapped when the bundle has a query bank

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            text = None
            while self._todo:  # only the newest request matters
                text = self._todo.popleft()
            if text is None:
                continue
            try:
                self.deliver(text, self.encode_now(text))
            except LivesepError as exc:
                self.on_error(str(exc))
            except Exception as exc:  # an encoder bug must not kill the thread silently
                self.on_error(f"query {text!r}: {type(exc).__name__}: {exc}")
