"""The query seam: text in, a request the model can run out.

Every host (`livesep separate`, `Separator`, the live engine, the GUI, `livesep evaluate
--bundle`) turns what the user typed into a `Request` here, once:

    "keep the guitar and the drums, remove the crowd"
        -> parse_request: [("keep the guitar", keep), ("the drums", keep), ("the crowd", remove)]
        -> QueryReader.read: each sound's conditioning vector (the bundle's cached
           embedding or the text encoder's, snapped onto the training captions when
           `snap` is on), its reading (the nearest training captions) and its familiarity
           (the largest cosine to those captions)
        -> Request: output = sum(kept estimates) when a sound is kept ("voice, not
           wind" = the voice's estimate), else mixture - sum(removed estimates)
           ("everything but the dog" = mixture - dog)

Grammar (`parse_request`). Clauses are split at commas, semicolons, "but", "and" before
a determiner or a keep/remove word ("the guitar and the drums"; "a bow and arrow" stays
one sound) and before "without", "minus", "except", "not". A clause that starts with a
removal phrase ("remove", "no", "without", "get rid of", "not", ...) removes the sound it
names; "keep", "extract", "isolate" mark a kept sound (and stay in the text: the training
captions have that shape); a clause with neither takes the previous clause's role (the
first: keep). "everything but X" / "all except X" remove X from the mixture. At most
`MAX_SOUNDS` sounds: the live engine runs them as that many rows of one batched call.

A removed sound next to a kept one is read (its reading and warning are shown) but not run:
the kept estimate already leaves it out, and subtracting the removed estimate as well lost
4.6 dB against the speech on mixtures of real speech, a real noise and a third sound, the
expert's speech 5.5 dB; every other combination of the two estimates measured (weighted,
per-bin projection, mask product, Wiener-like) was no better than the kept estimate alone
(benchmarks/RESULTS.md, "Keep and remove: which combination").

A sound may also be a learned query, `@NAME` ("@my-dog, not music", "remove @fan"): a
vector `livesep learn` fitted to the user's examples for this bundle (`livesep.learned`),
used as it is (never snapped, no reading); a query fitted for another bundle is refused.

A sound whose familiarity is below the bundle's threshold (`familiarity_threshold` in the
manifest's `query_bank`, else `DEFAULT_FAMILIARITY`, measured in benchmarks/RESULTS.md
"Queries that mean what they say") is one the model does not know: `Request.warnings()`
says so, naming the nearest known sounds. A bundle without a query bank has no readings
and never warns.

numpy only; the text encoder is built on first use (`default_encoder`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from livesep.errors import BundleError, QueryError
from livesep.terminal import printable
from livesep.text.base import validate_query

if TYPE_CHECKING:
    from livesep.bundle import Bundle
    from livesep.learned import QueryStore

__all__ = [
    "DEFAULT_FAMILIARITY",
    "MAX_SOUNDS",
    "MODES",
    "QueryReader",
    "Request",
    "Sound",
    "default_encoder",
    "learned_name",
    "parse_request",
    "snap",
    "snap_weights",
]

MAX_SOUNDS = 4  # sounds per request = condition rows of one batched step call, padded
# Largest cosine to the training captions below which a sound is "not known" (cosine
# units). Measured on known vs unknown phrasings: benchmarks/familiarity_bench.py.
DEFAULT_FAMILIARITY = 0.6
READING_TOP = 3  # training captions shown per sound
TEXT_SHOWN = 200  # characters of a query shown in a warning or a description
MODES = ("extract", "remove")
NORM_EPS = 1e-12  # rows shorter than this are left unscaled

# ---------------------------------------------------------------------------------------
# Parsing: text -> [(description, keep)]

# Leading phrases that mean "remove what follows". Longest first; whole words.
REMOVE_PHRASES = (
    "get rid of",
    "filter out",
    "take out",
    "cut out",
    "remove all",
    "remove",
    "without",
    "suppress",
    "eliminate",
    "mute",
    "cancel",
    "no more",
    "but not",
    "and not",
    "not",
    "minus",
    "except for",
    "except",
    "no",
)
KEEP_WORDS = ("keep", "extract", "isolate", "only", "just")  # mark a kept sound; not stripped
_DETERMINERS = ("the", "a", "an", "some", "my", "his", "her", "their", "your", "our", "any")
_ALL_BUT = re.compile(
    r"^\s*(?:everything|all|anything)(?:\s+(?:else|sounds?|noises?))?\s+"
    r"(?:but|except(?:\s+for)?|apart\s+from|other\s+than|besides|save)\b[\s,:]*",
    re.IGNORECASE,
)


def _words(phrases: Sequence[str]) -> str:
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in phrases)


_LEADING_REMOVE = re.compile(
    r"^(?:please\s+)?(?:" + _words(REMOVE_PHRASES) + r")\b[\s,:]*", re.IGNORECASE
)
_LEADING_KEEP = re.compile(r"^(?:please\s+)?(?:" + _words(KEEP_WORDS) + r")\b", re.IGNORECASE)
_FILLER = re.compile(r"^(?:please|and|but|then|also|plus)\b\s*", re.IGNORECASE)
_TRAILING = re.compile(r"[\s,.!;:]*(?:\bplease)?[\s.!]*$", re.IGNORECASE)
# Clause boundaries: punctuation, "but", "and" before a determiner or a role word, and
# before a mid-sentence removal word ("voice without wind", "speech not noise").
_SPLIT = re.compile(
    r"\s*[,;]\s*"
    r"|\s+but\s+"
    r"|\s+(?:and|&|plus)\s+(?=(?:"
    + _words(_DETERMINERS + KEEP_WORDS + ("remove", "no", "not", "without", "mute"))
    + r")\b)"
    r"|\s+(?=(?:without|minus|except|not|and\s+not|but\s+not)\b)",
    re.IGNORECASE,
)


def parse_request(text: str, mode: str = "extract") -> list[tuple[str, bool]]:
    """Split a query into the sounds it names and whether each is kept.

    "voice, not wind" -> [("voice", True), ("wind", False)]; "everything but the dog" ->
    [("the dog", False)]; "remove the dog" -> [("the dog", False)]; "drums" -> [("drums",
    True)]. With `mode` "remove", a query that removes nothing removes what it names
    instead (`--mode remove -q drums`); one that says what to remove is taken as written.

    Raises:
        QueryError: an empty query, an unknown mode, or more than `MAX_SOUNDS` sounds.
    """
    text = validate_query(text)
    if mode not in MODES:
        raise QueryError(f"mode must be one of {MODES}, got {mode!r}")
    keep = True
    everything_but = _ALL_BUT.match(text)
    if everything_but and text[everything_but.end() :].strip():
        text, keep = text[everything_but.end() :], False
    sounds: list[tuple[str, bool]] = []
    for clause in _SPLIT.split(text):
        clause = _FILLER.sub("", _TRAILING.sub("", clause.strip()))
        if not clause:
            continue
        removal = _LEADING_REMOVE.match(clause)
        rest = _TRAILING.sub("", clause[removal.end() :]).strip() if removal else ""
        if removal and rest:
            clause, keep = rest, False
        elif _LEADING_KEEP.match(clause):
            keep = True
        if (clause, keep) not in sounds:
            sounds.append((clause, keep))
    if not sounds:  # only filler words: the text itself is the description
        sounds = [(validate_query(text), True)]
    if len(sounds) > MAX_SOUNDS:
        raise QueryError(
            f"query {text!r} names {len(sounds)} sounds; at most {MAX_SOUNDS} in one query"
        )
    if mode == "remove" and all(k for _, k in sounds):
        sounds = [(s, False) for s, _ in sounds]
    return sounds


# A learned query in a clause: "@my-dog", "keep @fan", "the @fan". Names as
# `livesep.learned.NAME_PATTERN` (kept here as text so this module imports no store).
_LEARNED = re.compile(r"(?<![\w@])@[A-Za-z0-9]")  # anything that looks like one
_LEARNED_ALONE = re.compile(
    r"^(?:(?:" + _words(KEEP_WORDS + _DETERMINERS) + r")\s+)*@([A-Za-z0-9][A-Za-z0-9_-]{0,63})$",
    re.IGNORECASE,
)


def learned_name(description: str) -> str | None:
    """The learned query a sound's description names ("@dog", "keep @dog" -> "dog"), or
    None for a text description.

    Raises:
        QueryError: `@NAME` is mixed with other words ("the @dog barking").
    """
    alone = _LEARNED_ALONE.match(description.strip())
    if alone:
        return alone.group(1)
    if _LEARNED.search(description):
        raise QueryError(
            f"{printable(description, TEXT_SHOWN)!r}: a learned query stands alone in its "
            "clause ('@dog', 'keep @dog', '@dog, not music', 'remove @fan')"
        )
    return None


# ---------------------------------------------------------------------------------------
# Snapping onto the training captions


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return (x / max(float(np.linalg.norm(x)), NORM_EPS)).astype(np.float32)


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

    A small model trained on a few thousand captions follows those captions, not the whole
    space of the text encoder; snapping answers a new phrasing with what the nearest
    trained phrasings ask for (benchmarks/RESULTS.md, "Query snapping").

    Args:
        embedding: float [D], the query's (unit-length) embedding.
        bank: float [N, D], unit-length embeddings of the training captions.
        temperature: > 0; small values pick the nearest caption, large ones average.

    Returns:
        float32 [D].
    """
    return _unit(snap_weights(embedding, bank, temperature).astype(np.float32) @ bank)


# ---------------------------------------------------------------------------------------
# The request


@dataclass(frozen=True)
class Sound:
    """One sound of a request, as the model will be asked for it."""

    text: str  # the description that was embedded ("the dog")
    keep: bool  # False: removed from the output
    embedding: np.ndarray  # float32 [D]: what the model is conditioned on
    reading: tuple[tuple[str, float, float], ...] = ()  # (caption, snap weight, cosine)
    familiarity: float | None = None  # largest cosine to the training captions; None: no bank
    known: bool = True  # familiarity >= the bundle's threshold (True without a bank)

    def nearest(self) -> str:
        """The reading as text: 'a marimba (10%), a drum kit (6%)' (safe to print)."""
        return printable(", ".join(f"{text} ({100 * w:.0f}%)" for text, w, _ in self.reading))

    def warning(self) -> str | None:
        """A one-line 'warning: ... does not know ...' when the sound is not known (safe to
        print: escapes stripped, the query capped at `TEXT_SHOWN` characters)."""
        if self.known:
            return None
        near = ", ".join(f'"{printable(text)}" ({cos:.2f})' for text, _, cos in self.reading)
        return (
            f'warning: the model does not know "{printable(self.text, TEXT_SHOWN)}" (closest '
            f"training caption {self.familiarity:.2f} in cosine); nearest known sounds: {near}"
        )


@dataclass(frozen=True)
class Request:
    """What to do with the input: keep some sounds, remove others.

    output = sum(kept estimates) when any sound is kept (the removed ones are left out by
    the kept estimates, not subtracted: see the module docstring), else mixture -
    sum(removed estimates) ("remove the dog" = mixture - dog). The sounds that make the
    output are `active`; `conditions`, `weights` and `padded` cover those only.
    """

    text: str  # as the user typed it (a label)
    sounds: tuple[Sound, ...]

    @property
    def keep(self) -> tuple[Sound, ...]:
        return tuple(s for s in self.sounds if s.keep)

    @property
    def remove(self) -> tuple[Sound, ...]:
        return tuple(s for s in self.sounds if not s.keep)

    @property
    def active(self) -> tuple[Sound, ...]:
        """The sounds whose estimates make the output: the kept ones, else the removed."""
        return self.keep or self.remove

    @property
    def mixture(self) -> float:
        """Weight of the (delayed) mixture in the output: 1 when nothing is kept, else 0."""
        return 0.0 if self.keep else 1.0

    @property
    def weights(self) -> np.ndarray:
        """float32 [K]: +1 for each active kept sound's estimate, -1 for each removed one."""
        return np.array([1.0 if s.keep else -1.0 for s in self.active], np.float32)

    @property
    def conditions(self) -> np.ndarray:
        """float32 [K, D]: the conditioning vectors, one row per active sound."""
        return np.stack([s.embedding for s in self.active]).astype(np.float32)

    def padded(self, slots: int) -> tuple[np.ndarray, np.ndarray]:
        """(conditions [slots, D], weights [slots]) padded with the last sound, weight 0."""
        k = len(self.active)
        if not k <= slots:
            raise QueryError(f"{k} sounds do not fit {slots} condition slots")
        index = np.minimum(np.arange(slots), k - 1)  # [slots]
        weights = np.zeros(slots, np.float32)
        weights[:k] = self.weights
        return self.conditions[index], weights

    def warnings(self) -> list[str]:
        """One 'warning: ... does not know ...' line per sound the model does not know."""
        return [w for s in self.sounds if (w := s.warning()) is not None]

    def describe(self) -> str:
        """'keep: a dog; leave out: wind' (the request as the hosts run it; safe to print).

        A removed sound next to a kept one is "left out" (by the kept estimates), else
        "remove" (subtracted from the mixture)."""
        parts = []
        removal = "leave out" if self.keep else "remove"
        for label, group in (("keep", self.keep), (removal, self.remove)):
            if group:
                parts.append(f"{label}: " + ", ".join(printable(s.text, TEXT_SHOWN) for s in group))
        return "; ".join(parts)


# ---------------------------------------------------------------------------------------
# The reader


def default_encoder(bundle: Bundle, torch_free: bool = False, **options: Any) -> Any:
    """The text encoder for `bundle`'s embeddings (built now; may load a model).

    A MiniLM bundle ("minilm", or "minilm-onnx" as older bundles say) is read by the
    bundle's own ONNX text encoder files when it has them, else by the packaged int8 ONNX
    MiniLM (`get_encoder("minilm")`): no torch on any host. Another encoder is built by the
    name the manifest gives (with `options`), unless `torch_free` (the live path).

    Raises:
        QueryError: the bundle's encoder cannot be built (torch-free, when asked).
    """
    from livesep.text import get_encoder

    name = bundle.encoder_name
    if name in ("minilm", "minilm-onnx"):
        if "text_encoder.onnx" in bundle.text_encoder_files:
            return get_encoder("minilm", path=bundle.path)
        return get_encoder("minilm")
    if torch_free:
        raise QueryError(
            f"{bundle.path}: queries for encoder {name!r} must be cached in the bundle "
            "or encoded by a given encoder"
        )
    return get_encoder(name, **options)


class QueryReader:
    """Reads queries into `Request`s for one model; caches every sound it has read.

    Thread-safe: the live engine reads on its caller's thread and on a background one.

    Args:
        bundle: the model's bundle (cached embeddings, query bank, threshold), or None
            (e.g. the official checkpoint: raw embeddings, no readings).
        encoder: a text encoder (`name`, `dim`, `embed(texts) -> float32 [N, D]`), kept
            for the reader's life; or a zero-argument factory, or None for
            `default_encoder(bundle)`: then the encoder is built only when a text is not
            cached and released after encoding it (a new query costs the encoder's memory
            only while it is encoded; benchmarks/RESULTS.md, "A new query's memory").
        dim: the embedding size the model takes (default: the bundle's).
        snap: condition on the bundle's training captions (runtime option; without a
            bank it changes nothing).
        threshold: familiarity below which a sound is not known (default: the bundle's,
            else `DEFAULT_FAMILIARITY`).
        learned: where `@NAME` queries are looked up (a `livesep.learned.QueryStore`;
            default: the user's store, `livesep.learned.queries_dir()`).
    """

    def __init__(
        self,
        bundle: Bundle | None = None,
        *,
        encoder: Any = None,
        dim: int | None = None,
        snap: bool = True,
        threshold: float | None = None,
        learned: QueryStore | None = None,
    ) -> None:
        if bundle is None and dim is None:
            raise QueryError("QueryReader needs a bundle or an embedding size")
        self.bundle = bundle
        self.dim = int(dim if dim is not None else bundle.encoder_dim)  # type: ignore[union-attr]
        self.snap = snap
        self._given = encoder  # an encoder, a factory or None
        self._release = encoder is None or not hasattr(encoder, "embed")
        self._encoder: Any = None if self._release else encoder
        self._cached: dict[str, np.ndarray] = dict(bundle.embeddings) if bundle else {}
        self._bank = bundle.query_bank if bundle is not None else None
        given = bundle.familiarity_threshold if bundle is not None else None
        self.threshold = float(threshold if threshold is not None else given or DEFAULT_FAMILIARITY)
        self._sounds: dict[tuple[str, bool, bool], Sound] = {}
        self._lock = threading.Lock()
        self._store = learned

    # -- encoding ------------------------------------------------------------------------

    @property
    def encoder(self) -> Any:
        """The text encoder (built now when the reader builds its own; released again by
        the next encoding)."""
        with self._lock:
            if self._encoder is None:
                if self._given is None:
                    assert self.bundle is not None
                    self._encoder = default_encoder(self.bundle)
                else:
                    self._encoder = self._given()
            return self._encoder

    def needs_encoder(self, text: str, mode: str = "extract") -> bool:
        """Whether reading `text` would run the text encoder (a sound not yet seen)."""
        return any(
            t not in self._cached and learned_name(t) is None for t, _ in parse_request(text, mode)
        )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Raw (unsnapped) embeddings float32 [N, D] of `texts`, from the cache or the
        text encoder (one call for the missing ones; cached afterwards)."""
        self._raw(list(texts))
        return np.stack([self._cached[t] for t in texts]).astype(np.float32)

    def _raw(self, texts: list[str]) -> None:
        """Make sure every text has a raw embedding in the cache (one encoder call)."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cached))
        if not missing:
            return
        encoder = self.encoder
        name = getattr(encoder, "name", "?")
        try:
            vectors = np.asarray(encoder.embed(missing), dtype=np.float32)  # [M, D]
        finally:
            if self._release:
                with self._lock:
                    self._encoder = None
                if hasattr(encoder, "close"):  # its memory back before the model's work
                    encoder.close()
            del encoder
        if vectors.shape != (len(missing), self.dim):
            raise BundleError(
                f"text encoder {name!r} gives {vectors.shape[-1]}-d embeddings, the model "
                f"expects {self.dim}-d"
            )
        with self._lock:
            self._cached.update(zip(missing, vectors, strict=True))

    # -- reading -------------------------------------------------------------------------

    def read(self, text: str, mode: str = "extract") -> Request:
        """Parse, validate and encode a query (each sound once; later reads are cached).

        Raises:
            QueryError: an empty query, too many sounds or a bad mode.
            BundleError: the text encoder's embeddings do not fit the model.
        """
        parts = parse_request(text, mode)
        return self._request(validate_query(text), parts)

    def read_parts(self, keep: Sequence[str] = (), remove: Sequence[str] = ()) -> Request:
        """A request from lists of sounds as given (`--keep` / `--remove`), not parsed."""
        parts = [(validate_query(t), True) for t in keep]
        parts += [(validate_query(t), False) for t in remove]
        if not parts:
            raise QueryError("no sound given: describe a sound to keep or remove")
        if len(parts) > MAX_SOUNDS:
            raise QueryError(f"{len(parts)} sounds given; at most {MAX_SOUNDS} in one request")
        label = "; ".join(f"{'keep' if k else 'remove'} {t}" for t, k in parts)
        return self._request(label, parts)

    def from_embedding(self, embedding: np.ndarray, label: str | None, mode: str) -> Request:
        """A one-sound request conditioned on `embedding` float32 [D] as given."""
        emb = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if emb.shape != (self.dim,):
            raise QueryError(f"embedding must have {self.dim} values, got {emb.size}")
        if mode not in MODES:
            raise QueryError(f"mode must be one of {MODES}, got {mode!r}")
        name = label or "embedding"
        return Request(name, (Sound(name, mode == "extract", emb.copy()),))

    def _request(self, label: str, parts: list[tuple[str, bool]]) -> Request:
        learned = {t: name for t, _ in parts if (name := learned_name(t)) is not None}
        self._raw([t for t, _ in parts if t not in learned])
        return Request(label, tuple(self._sound(t, k, learned.get(t)) for t, k in parts))

    @property
    def store(self) -> QueryStore:
        """The learned-query store `@NAME` is read from."""
        if self._store is None:
            from livesep.learned import QueryStore

            self._store = QueryStore()
        return self._store

    def learned(self, name: str, keep: bool = True) -> Sound:
        """The sound of the learned query `@name`: its stored vector, as it is.

        Raises:
            QueryError: no such query, no bundle, another bundle's query, a wrong size.
        """
        query = self.store.load(name)
        if self.bundle is None:
            raise QueryError(f"@{name}: learned queries need a bundle (not --checkpoint)")
        query.check_bundle(self.bundle.digest)
        if query.vector.shape != (self.dim,):
            raise QueryError(f"@{name} has {query.vector.size} values, the model takes {self.dim}")
        return Sound("@" + name, keep, query.vector.copy())

    def _sound(self, text: str, keep: bool, learned: str | None = None) -> Sound:
        key = (text, keep, self.snap)
        sound = self._sounds.get(key)
        if learned is not None:  # read each time: a refit or --forget shows at once
            return self.learned(learned, keep)
        if sound is None:
            sound = self._make_sound(text, keep, self._cached[text])
            with self._lock:
                self._sounds[key] = sound
        return sound

    def _make_sound(self, text: str, keep: bool, raw: np.ndarray) -> Sound:
        bank = self._bank
        if bank is None:
            return Sound(text, keep, np.asarray(raw, np.float32))
        assert self.bundle is not None
        temperature = self.bundle.query_temperature
        weights = snap_weights(raw, bank, temperature)  # [N]
        cosines = bank @ _unit(raw)  # [N]
        texts = self.bundle.query_bank_texts
        top = np.argsort(-weights)[:READING_TOP]
        reading = tuple((texts[i], float(weights[i]), float(cosines[i])) for i in top)
        familiarity = float(cosines.max())
        embedding = _unit(weights.astype(np.float32) @ bank) if self.snap else raw
        return Sound(
            text,
            keep,
            np.asarray(embedding, np.float32),
            reading,
            familiarity,
            familiarity >= self.threshold,
        )
