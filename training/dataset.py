"""Training and validation examples drawn from a corpus manifest.

The corpus (see "Corpus manifest" in docs/CONTRACTS.md) is a directory with a JSON-lines
manifest: one clip per line with `path` (relative to the corpus), `class`, `captions`,
`split` (train | val | zeroshot), ... . It is preloaded once, resampled, into float16
arrays held in memory (cached in the run directory as one `.npy` so a resumed run or a
second rank maps it instead of decoding again). Every caption is embedded once by the
text encoder and cached in the run directory; training never runs the text encoder.

An example is a pure function of (seed, index): class-balanced target, 1-3 interferers
from other classes, AudioSep's mixing recipe (`mixing.py`). So the data order needs no
state beyond the step counter, and `--resume` is exact with any number of workers.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr
import torch
from torch.utils.data import Dataset, Sampler

from livesep.atomic import atomic_path, write_bytes, write_text
from livesep.errors import AudioError, ConfigError
from livesep.training.config import DataConfig, MixConfig
from livesep.training.mixing import (
    change_speed,
    mix_sources,
    random_band_limit,
    random_colour,
    random_speed,
)

__all__ = [
    "SPLITS",
    "ClipInfo",
    "read_manifest",
    "Corpus",
    "load_corpus",
    "CaptionTable",
    "caption_embeddings",
    "Example",
    "draw_segment",
    "make_training_example",
    "MixtureDataset",
    "StepBatchSampler",
    "ValidationItem",
    "validation_set",
]

SPLITS = ("train", "val", "zeroshot")
QUIET_RETRIES = 3  # re-draw a segment this many times when it lands on near-silence
QUIET_FRACTION = 0.01  # "near-silence": segment power below this fraction of the clip's
PAIRED = 2  # seed word that keeps paired-twin mixtures apart from unpaired ones


@dataclass(frozen=True)
class ClipInfo:
    """One manifest line (the fields training needs)."""

    path: str  # relative to the corpus directory
    cls: str
    captions: tuple[str, ...]
    split: str


def read_manifest(path: str | Path) -> list[ClipInfo]:
    """Read a JSON-lines corpus manifest.

    Raises:
        ConfigError: the file is missing, a line is not JSON, or a required field is absent.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"corpus manifest {path}: not found")
    clips = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            captions = row["captions"]
            if isinstance(captions, str):
                captions = [captions]
            clip = ClipInfo(str(row["path"]), str(row["class"]), tuple(captions), row["split"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ConfigError(f"corpus manifest {path}:{number}: bad line ({exc!r})") from exc
        if clip.split not in SPLITS:
            raise ConfigError(f"corpus manifest {path}:{number}: unknown split {clip.split!r}")
        if not clip.captions:
            raise ConfigError(f"corpus manifest {path}:{number}: no captions")
        clips.append(clip)
    if not clips:
        raise ConfigError(f"corpus manifest {path}: no clips")
    return clips


def _load_mono(path: Path, sample_rate: int) -> np.ndarray:
    try:
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)  # [T, C]
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioError(f"corpus audio {path}: cannot read ({exc})") from exc
    mono = audio.mean(axis=1)  # [T]
    if rate != sample_rate:
        mono = soxr.resample(mono, rate, sample_rate, quality="HQ")
    if not np.all(np.isfinite(mono)):
        raise AudioError(f"corpus audio {path}: contains NaN or Inf")
    return np.asarray(mono, dtype=np.float32)


@dataclass
class Corpus:
    """Preloaded corpus: float16 audio per clip, grouped by split and class."""

    sample_rate: int
    clips: list[ClipInfo]
    audio: list[np.ndarray]  # float16 [T_i] per clip (views into one array)
    # split -> class -> indices into `clips`
    by_split: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    _weights: dict[tuple[str, float], np.ndarray] = field(default_factory=dict, repr=False)

    def classes(self, split: str) -> list[str]:
        """Sorted class names present in a split."""
        return sorted(self.by_split.get(split, {}))

    def class_weights(self, split: str, power: float) -> np.ndarray:
        """float64 [C] over `classes(split)`: (seconds of audio) ** power, summing to 1."""
        key = (split, power)
        cached = self._weights.get(key)
        if cached is None:
            seconds = np.array(
                [
                    sum(self.audio[i].size for i in self.by_split[split][c]) / self.sample_rate
                    for c in self.classes(split)
                ]
            )  # [C]
            w = np.power(np.maximum(seconds, 1e-3), power)  # [C]
            cached = self._weights[key] = w / w.sum()
        return cached

    def captions(self, split: str, cls: str) -> list[str]:
        """Unique captions of a class's clips in a split, in first-seen order."""
        seen: dict[str, None] = {}
        for i in self.by_split.get(split, {}).get(cls, []):
            seen.update(dict.fromkeys(self.clips[i].captions))
        return list(seen)


def _group(clips: list[ClipInfo]) -> dict[str, dict[str, list[int]]]:
    groups: dict[str, dict[str, list[int]]] = {}
    for i, clip in enumerate(clips):
        groups.setdefault(clip.split, {}).setdefault(clip.cls, []).append(i)
    return groups


def load_corpus(cfg: DataConfig, cache_dir: str | Path | None = None) -> Corpus:
    """Preload the corpus at `cfg.sample_rate` as float16, using/creating a cache file.

    Args:
        cfg: corpus directory, manifest, rate, size limit, minimum clip length.
        cache_dir: where `corpus_<rate>.npy` + `corpus_<rate>.json` live (the run dir);
            None disables the cache.

    Raises:
        ConfigError: manifest problems, or a corpus too large to preload.
        AudioError: an unreadable audio file.
    """
    corpus_dir = Path(cfg.corpus)
    clips = read_manifest(corpus_dir / cfg.manifest)
    cache = _cache_paths(cache_dir, cfg.sample_rate)
    flat, offsets = _read_cache(cache, clips)
    if flat is None:
        arrays = [_load_mono(corpus_dir / c.path, cfg.sample_rate) for c in clips]
        total_gb = sum(a.size for a in arrays) * 2 / 1e9
        if total_gb > cfg.preload_max_gb:
            raise ConfigError(
                f"corpus {corpus_dir}: {total_gb:.1f} GB as float16 exceeds "
                f"data.preload_max_gb={cfg.preload_max_gb}"
            )
        offsets = np.cumsum([0] + [a.size for a in arrays])
        flat = np.concatenate(arrays).astype(np.float16) if arrays else np.zeros(0, np.float16)
        _write_cache(cache, clips, flat, offsets)
    assert offsets is not None
    min_len = int(cfg.min_clip_s * cfg.sample_rate)
    keep = [i for i in range(len(clips)) if offsets[i + 1] - offsets[i] >= max(min_len, 1)]
    kept_clips = [clips[i] for i in keep]
    audio = [flat[offsets[i] : offsets[i + 1]] for i in keep]
    return Corpus(cfg.sample_rate, kept_clips, audio, _group(kept_clips))


def _cache_paths(cache_dir: str | Path | None, rate: int) -> tuple[Path, Path] | None:
    if cache_dir is None:
        return None
    base = Path(cache_dir)
    return base / f"corpus_{rate}.npy", base / f"corpus_{rate}.json"


def _clip_key(clips: list[ClipInfo]) -> list[str]:
    return [c.path for c in clips]


def _read_cache(
    cache: tuple[Path, Path] | None, clips: list[ClipInfo]
) -> tuple[np.ndarray | None, np.ndarray | None]:
    if cache is None or not (cache[0].is_file() and cache[1].is_file()):
        return None, None
    try:
        index = json.loads(cache[1].read_text())
        if not isinstance(index, dict) or index.get("paths") != _clip_key(clips):
            return None, None  # the manifest changed: rebuild
        flat = np.load(cache[0], mmap_mode="r", allow_pickle=False)
        return flat, np.asarray(index["offsets"], dtype=np.int64)
    except (OSError, ValueError, KeyError, TypeError):  # unreadable cache: rebuild it
        return None, None


def _write_cache(
    cache: tuple[Path, Path] | None, clips: list[ClipInfo], flat: np.ndarray, offsets: np.ndarray
) -> None:
    if cache is None:
        return
    npy, meta = cache
    with atomic_path(npy) as tmp, open(tmp, "wb") as f:
        np.save(f, flat)
    write_text(meta, json.dumps({"paths": _clip_key(clips), "offsets": offsets.tolist()}))


@dataclass
class CaptionTable:
    """Every caption the run uses, its embedding row, and which rows each class may draw."""

    texts: list[str]
    embeddings: np.ndarray  # float32 [N, D]
    train_rows: dict[str, list[int]]  # class -> rows of its training captions
    val_rows: dict[str, list[int]]  # class -> rows of its val/zeroshot captions


def caption_embeddings(
    texts: list[str], encoder_name: str, cache_path: str | Path | None
) -> np.ndarray:
    """Embed captions once; reuse `cache_path` (.npz) when it holds them all.

    Returns:
        float32 [N, D], row i the embedding of texts[i].
    """
    cached = read_caption_cache(cache_path, encoder_name)
    missing = [t for t in dict.fromkeys(texts) if t not in cached]
    if missing:
        from livesep.text import get_encoder

        vectors = get_encoder(encoder_name).embed(missing)  # [M, D]
        cached.update(zip(missing, np.asarray(vectors, dtype=np.float32), strict=True))
        if cache_path is not None:
            _save_embeddings(Path(cache_path), encoder_name, cached)
    return np.stack([cached[t] for t in texts]).astype(np.float32)


def read_caption_cache(path: str | Path | None, encoder_name: str) -> dict[str, np.ndarray]:
    """The caption -> embedding [D] table of a run's `embeddings.npz` ({} when absent or
    from another encoder). Read without pickle: object arrays are refused.

    Raises:
        ConfigError: the file is not such a cache (one line naming it).
    """
    if path is None or not Path(path).is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["encoder"]) != encoder_name:
                return {}
            texts, vectors = data["texts"], np.asarray(data["vectors"], np.float32)
            if texts.ndim != 1 or vectors.ndim != 2 or len(texts) != len(vectors):
                raise ValueError("texts [N] and vectors [N, D] expected")
            return dict(zip((str(t) for t in texts.tolist()), vectors, strict=True))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ConfigError(
            f"{path}: not a caption embedding cache ({str(exc).splitlines()[0][:120]}); "
            "delete it to rebuild"
        ) from None


def _save_embeddings(path: Path, encoder_name: str, table: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez(
        buffer,
        encoder=np.array(encoder_name),
        texts=np.array(list(table)),
        vectors=np.stack(list(table.values())),
    )
    write_bytes(path, buffer.getvalue())


def build_caption_table(
    corpus: Corpus, encoder_name: str, cache_path: str | Path | None
) -> CaptionTable:
    """Collect train captions per class and val/zeroshot captions per class, embed them."""
    texts: dict[str, int] = {}

    def rows(captions: list[str]) -> list[int]:
        return [texts.setdefault(t, len(texts)) for t in captions]

    train_rows = {c: rows(corpus.captions("train", c)) for c in corpus.classes("train")}
    val_rows: dict[str, list[int]] = {}
    for split in ("val", "zeroshot"):
        for c in corpus.classes(split):
            val_rows.setdefault(c, []).extend(rows(corpus.captions(split, c)))
    ordered = list(texts)
    return CaptionTable(
        ordered, caption_embeddings(ordered, encoder_name, cache_path), train_rows, val_rows
    )


def draw_segment(audio: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """A random `length`-sample float32 segment of a clip (zero-padded at a random place
    when the clip is shorter); re-drawn a few times if it lands on near-silence."""
    clip = np.asarray(audio, dtype=np.float32)
    if clip.size <= length:
        out = np.zeros(length, np.float32)
        start = int(rng.integers(0, length - clip.size + 1))
        out[start : start + clip.size] = clip
        return out
    clip_power = float(np.mean(np.square(clip, dtype=np.float64)))
    for _ in range(QUIET_RETRIES + 1):
        start = int(rng.integers(0, clip.size - length + 1))
        segment = clip[start : start + length]
        if np.mean(np.square(segment, dtype=np.float64)) >= QUIET_FRACTION * clip_power:
            break
    return segment.copy()


@dataclass
class Example:
    """One mixture with its target and query."""

    mixture: np.ndarray  # float32 [T]
    target: np.ndarray  # float32 [T]
    caption_row: int  # row in the CaptionTable
    cls: str  # the target's class (queried even when the target is silent)
    silent: bool


def _pick_clip(corpus: Corpus, split: str, cls: str, rng: np.random.Generator) -> np.ndarray:
    indices = corpus.by_split[split][cls]
    return corpus.audio[indices[int(rng.integers(len(indices)))]]


def _draw_source(
    corpus: Corpus, cls: str, length: int, mix: MixConfig, rng: np.random.Generator
) -> np.ndarray:
    """A `length`-sample training segment of class `cls`, at a random speed (`mix.speed_*`):
    the segment is drawn `factor` times longer, then played `factor` times faster."""
    clip = _pick_clip(corpus, "train", cls, rng)
    factor = random_speed(mix, rng)
    if factor == 1.0:
        return draw_segment(clip, length, rng)
    span = int(np.ceil((length - 1) * factor)) + 1  # input samples the output reads
    return change_speed(draw_segment(clip, span, rng), factor, length)


def _pick_others(classes: list[str], cls: str, k: int, rng: np.random.Generator) -> list[str]:
    others = [c for c in classes if c != cls]
    picks = rng.choice(len(others), size=k, replace=k > len(others))
    return [others[int(i)] for i in picks]


def make_training_example(
    corpus: Corpus,
    captions: CaptionTable,
    mix: MixConfig,
    length: int,
    rng: np.random.Generator,
    query_interferer: bool = False,
) -> Example:
    """A class-balanced target, 1-3 interferers of other classes, mixed by the recipe.

    `query_interferer`: the same mixture (same draws), but the query describes one of the
    interferers (drawn last) and the target is that interferer as it is in the mixture. An
    example and its twin differ only in the query, so "the loudest / most salient source" is
    no answer: the model has to read the query.
    """
    classes = corpus.classes("train")
    if mix.class_power:
        cls = classes[
            int(rng.choice(len(classes), p=corpus.class_weights("train", mix.class_power)))
        ]
    else:
        cls = classes[int(rng.integers(len(classes)))]  # the same draws as phases 1-6
    target = _draw_source(corpus, cls, length, mix, rng)
    k = int(rng.integers(mix.interferers_min, mix.interferers_max + 1))
    interferer_classes = _pick_others(classes, cls, k, rng)
    interferers = [_draw_source(corpus, other, length, mix, rng) for other in interferer_classes]
    rate = corpus.sample_rate
    target = random_colour(random_band_limit(target, rate, mix, rng), rate, mix, rng)
    interferers = [
        random_colour(random_band_limit(x, rate, mix, rng), rate, mix, rng) for x in interferers
    ]
    silent = bool(rng.random() < mix.silence_prob)
    mixed = mix_sources(target, interferers, mix, rng, silent=silent)
    rows = captions.train_rows[cls]
    row = rows[int(rng.integers(len(rows)))]
    if query_interferer:
        j = int(rng.integers(len(interferer_classes)))
        cls = interferer_classes[j]
        rows = captions.train_rows[cls]
        row = rows[int(rng.integers(len(rows)))]
        return Example(mixed.mixture, mixed.interferers[j], row, cls, False)
    return Example(mixed.mixture, mixed.target, row, cls, silent)


class MixtureDataset(Dataset):
    """Map-style dataset: item `index` is the example drawn with seed (seed, index).

    With `mix.paired`, items come in twins: 2k and 2k + 1 share one mixture (drawn with
    seed (seed, k, PAIRED)); 2k queries its target, 2k + 1 one of its interferers. The
    batch sampler's batches start at even indices, so twins share a batch when it is even.
    """

    def __init__(
        self, corpus: Corpus, captions: CaptionTable, mix: MixConfig, segment_s: float, seed: int
    ) -> None:
        if len(corpus.classes("train")) < 2:
            raise ConfigError("corpus: training needs at least two classes in the train split")
        self.corpus = corpus
        self.captions = captions
        self.mix = mix
        self.length = int(round(segment_s * corpus.sample_rate))  # samples per example
        self.seed = seed

    def __len__(self) -> int:
        return 2**62  # effectively infinite; indices come from StepBatchSampler

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        if self.mix.paired:
            rng = np.random.default_rng([self.seed, int(index) // 2, PAIRED])
            twin = bool(index % 2)
        else:
            rng, twin = np.random.default_rng([self.seed, int(index)]), False
        ex = make_training_example(self.corpus, self.captions, self.mix, self.length, rng, twin)
        return torch.from_numpy(ex.mixture), torch.from_numpy(ex.target), ex.caption_row


class StepBatchSampler(Sampler[list[int]]):
    """Batches of example indices for steps `start_step`..`steps-1` of one rank.

    Batch of step s on rank r holds indices (s * world + r) * B + [0, B): every rank draws
    different examples, and resuming at step s needs nothing but s.
    """

    def __init__(
        self, start_step: int, steps: int, batch_size: int, rank: int = 0, world_size: int = 1
    ) -> None:
        self.start_step = start_step
        self.steps = steps
        self.batch_size = batch_size
        self.rank = rank
        self.world_size = world_size

    def __len__(self) -> int:
        return max(self.steps - self.start_step, 0)

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start_step, self.steps):
            first = (step * self.world_size + self.rank) * self.batch_size
            yield list(range(first, first + self.batch_size))


@dataclass
class ValidationItem:
    """A fixed validation mixture."""

    mixture: np.ndarray  # float32 [T]
    target: np.ndarray  # float32 [T]
    caption_row: int
    cls: str
    split: str  # val | zeroshot
    interferer_cls: str = ""  # the class mixed in (absent from the query)


def validation_set(
    corpus: Corpus,
    captions: CaptionTable,
    mix: MixConfig,
    segment_s: float,
    items_per_class: int,
    seed: int,
) -> list[ValidationItem]:
    """Fixed mixtures for every class of the val and zeroshot splits (same seed, same set).

    Target from the class's held-out clips, one interferer from another held-out class,
    AudioSep's recipe without the training augmentations; query = one of the class's
    held-out captions.
    """
    length = int(round(segment_s * corpus.sample_rate))
    plain = MixConfig(
        ratio_min=mix.ratio_min,
        ratio_max=mix.ratio_max,
        gain_db_min=mix.gain_db_min,
        gain_db_max=mix.gain_db_max,
        level_db_min=0.0,
        level_db_max=0.0,
    )
    pool: dict[str, str] = {}  # class -> split it is held out in
    for split in ("val", "zeroshot"):
        pool.update(dict.fromkeys(corpus.classes(split), split))
    items = []
    for n, cls in enumerate(sorted(pool)):
        split = pool[cls]
        rng = np.random.default_rng([seed, 7919, n])
        for _ in range(items_per_class if len(pool) > 1 else 0):
            target = draw_segment(_pick_clip(corpus, split, cls, rng), length, rng)
            (other,) = _pick_others(sorted(pool), cls, 1, rng)
            noise = draw_segment(_pick_clip(corpus, pool[other], other, rng), length, rng)
            mixed = mix_sources(target, [noise], plain, rng)
            rows = captions.val_rows[cls]
            row = rows[int(rng.integers(len(rows)))]
            items.append(ValidationItem(mixed.mixture, mixed.target, row, cls, split, other))
    return items


def describe(corpus: Corpus) -> dict[str, Any]:
    """Counts per split (clips, classes, hours) for the log."""
    out = {}
    for split, groups in corpus.by_split.items():
        n = [i for idx in groups.values() for i in idx]
        seconds = sum(corpus.audio[i].size for i in n) / corpus.sample_rate
        out[split] = {"clips": len(n), "classes": len(groups), "hours": round(seconds / 3600, 3)}
    return out
