"""Which queries go to the speech expert (`livesep.expert`) instead of the model.

A query asks for speech *in general* ("speech", "voice", "my voice", "someone talking",
"remove the voices") when its text embedding is nearest to one of `GENERAL` below, by at
least `THRESHOLD` in cosine. The expert keeps every voice and cannot tell one speaker from
another, so a query that names a kind of speaker ("a man speaking", "female speech") is
nearest to one of `SPEAKER` and stays with the text-queried model; other vocal sounds
("singing", "laughter", "a crowd") are nearest to one of `OTHER` and stay with the model
too. The threshold and the anchors were measured on phrasings not among the anchors
(benchmarks/speech_route.py; benchmarks/RESULTS.md, "Speech expert").

The route is decided on each sound's description, after `livesep.query` has split off a
removal phrase: "remove the speech" routes "the speech" and the host outputs the mixture
minus the expert's estimate. A request goes to the expert when every sound that makes its
output does (`Request.active`: the kept sounds, else the removed ones): "voice, not
music" is the voice's estimate, so the expert's; "voice and a dog" stays with the model.
Embeddings are MiniLM's (the thresholds are MiniLM cosines): the router embeds through the
host's query reader when its encoder is MiniLM (so a text the bundle caches costs no
encoder), else through its own. The anchors' embeddings travel precomputed
(`speech_anchors.npz`, the packaged int8 MiniLM's; `python -m livesep.speech_route`
rewrites it), so routing a cached query loads no text encoder.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np

__all__ = [
    "GENERAL",
    "OTHER",
    "ROUTES",
    "SPEAKER",
    "THRESHOLD",
    "Route",
    "SpeechRouter",
    "speech_route",
]

Route = Literal["expert", "model"]
ROUTES = ("expert", "model")
# Cosine (MiniLM) the nearest speech-in-general anchor must reach: the middle of the
# interval that separates the held-out phrasings of benchmarks/speech_route.py (every
# speech-in-general one nearest a GENERAL anchor at >= 0.604, "narration"; the highest
# other query nearest a GENERAL anchor, "a telephone ringing", at 0.472).
THRESHOLD = 0.54
MINILM_NAMES = ("minilm", "minilm-onnx")
ANCHOR_FILE = Path(__file__).with_name("speech_anchors.npz")  # texts [A], vectors [A, 384]

# Speech in general: the expert's job.
GENERAL = (
    "speech",
    "voice",
    "voices",
    "my voice",
    "a voice",
    "someone talking",
    "a person speaking",
    "people talking",
    "human voice",
    "talking",
    "spoken words",
)
# A particular kind of speaker: the expert cannot tell them apart.
SPEAKER = (
    "a man speaking",
    "a woman speaking",
    "a child speaking",
    "male speech",
    "female speech",
    "a man's voice",
    "a woman's voice",
    "a male voice",
    "a female voice",
    "a girl talking",
    "a boy talking",
    "men talking",
    "women talking",
)
# Voices and human sounds that are not speech, and music.
OTHER = (
    "singing",
    "a choir",
    "a crowd",
    "laughter",
    "a baby crying",
    "screaming",
    "coughing",
    "whistling",
    "music",
)


class SpeechRouter:
    """Routes sound descriptions to the expert or the model; caches every decision.

    Args:
        encoder: a text encoder (`name`, `embed(texts) -> float32 [N, D]`, unit rows), or
            None for MiniLM (`livesep.text.get_encoder("minilm")`, built on first use).
            A non-MiniLM encoder is not used: the thresholds are MiniLM cosines.
        threshold: cosine the nearest speech-in-general anchor must reach.
        embed: MiniLM embeddings by another way (`QueryReader.embed`, which reads the
            bundle's cache first); takes the place of `encoder`.
    """

    def __init__(
        self,
        encoder: Any = None,
        threshold: float = THRESHOLD,
        embed: Callable[[list[str]], np.ndarray] | None = None,
    ) -> None:
        if encoder is not None and getattr(encoder, "name", None) not in MINILM_NAMES:
            encoder = None
        self._encoder = encoder
        self._embed_fn = embed
        self.threshold = threshold
        self._anchors: np.ndarray | None = None  # [A, D] GENERAL + SPEAKER + OTHER
        self._cache: dict[str, tuple[Route, str, float]] = {}
        self._lock = threading.Lock()

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self._embed_fn is not None:
            return np.asarray(self._embed_fn(texts), np.float32)  # [N, D]
        with self._lock:
            if self._encoder is None:
                from livesep.text import get_encoder

                self._encoder = get_encoder("minilm")
            encoder = self._encoder
        return np.asarray(encoder.embed(texts), np.float32)  # [N, D]

    def _anchor_vectors(self) -> np.ndarray:
        """[A, D]: the precomputed file when it holds these anchors, else embedded now."""
        anchors = list(GENERAL + SPEAKER + OTHER)
        if ANCHOR_FILE.is_file():
            with np.load(ANCHOR_FILE) as data:
                if [str(t) for t in data["texts"]] == anchors:
                    return np.asarray(data["vectors"], np.float32)
        return self._embed(anchors)

    def nearest(self, text: str) -> tuple[Route, str, float]:
        """(route, nearest anchor, its cosine) for a sound's description."""
        key = text.strip().lower()
        if key not in self._cache:
            if self._anchors is None:
                self._anchors = self._anchor_vectors()
            cos = self._anchors @ self._embed([key])[0]  # [A]
            best = int(np.argmax(cos))
            general = best < len(GENERAL) and cos[best] >= self.threshold
            anchors = GENERAL + SPEAKER + OTHER
            self._cache[key] = ("expert" if general else "model", anchors[best], float(cos[best]))
        return self._cache[key]

    def route(self, query: Any) -> Route:
        """The route: "expert" when `query` asks for speech in general, else "model".

        Args:
            query: a query as typed (parsed by `livesep.query.parse_request`: every sound
                that makes its output must be speech in general, "remove the speech"
                included), a `livesep.query.Request` (its active sounds), or a read sound
                (its `text`).
        """
        texts = _descriptions(query)
        if any(_learned(t) for t in texts):  # "@me": a learned voice is the model's job
            return "model"
        general = all(self.nearest(t)[0] == "expert" for t in texts)
        return "expert" if texts and general else "model"


def _learned(text: str) -> bool:
    """Whether a description names a learned query ("@me")."""
    from livesep.query import learned_name

    return learned_name(text) is not None


def _descriptions(query: Any) -> list[str]:
    """The descriptions of the sounds that make a query's output (`Request.active`)."""
    if isinstance(query, str):
        from livesep.query import parse_request

        parts = parse_request(query)
        kept = [text for text, keep in parts if keep]
        return kept or [text for text, _ in parts]
    if hasattr(query, "active"):
        return [str(s.text) for s in query.active]
    return [str(query.text)]


_default: SpeechRouter | None = None


def speech_route(query: Any, encoder: Any = None) -> bool:
    """Whether a query asks for speech in general (the speech expert's job).

    "voice", "remove the speech", "someone talking" -> True; "a man speaking", "singing",
    "rain" -> False. See `SpeechRouter.route`.
    """
    global _default
    router = SpeechRouter(encoder) if encoder is not None else None
    if router is None:
        if _default is None:
            _default = SpeechRouter()
        router = _default
    return router.route(query) == "expert"


def write_anchors(path: Path = ANCHOR_FILE) -> None:
    """Embed the anchors with the packaged MiniLM and save them to `path` (npz)."""
    from livesep.text import get_encoder

    texts = list(GENERAL + SPEAKER + OTHER)
    vectors = np.asarray(get_encoder("minilm").embed(texts), np.float32)  # [A, 384]
    np.savez(path, texts=np.array(texts), vectors=vectors)


if __name__ == "__main__":
    write_anchors()
    print(f"wrote {ANCHOR_FILE}")
