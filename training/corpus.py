"""Build the labelled corpus: sources -> items -> splits -> clips -> manifest.

An *item* is one source file (a recording inside a package, or one render); splits are
decided per item, so segments of one file never land in two splits. Each item is decoded,
made mono, resampled to the corpus rate (soxr), trimmed of leading/trailing silence, cut
into 5-10 s segments when long, loudness-normalised and written as 16-bit WAV under
`DIR/audio/<class>/`. Everything random is seeded from (seed, source, path): the same
packages and seed give the same manifest and the same audio bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from livesep.training import drumkits, renderers
from livesep.training.captions import train_captions, val_captions
from livesep.training.corpus_classes import CLASSES, ZEROSHOT
from livesep.training.corpus_sources import (
    CorpusError,
    DebSource,
    DrumkitSource,
    MidiSource,
    Source,
    SpeechSource,
    SynthSource,
    classify,
    resolve_sources,
)
from livesep.training.debs import PackageStore
from livesep.training.manifest import write_manifest

MIN_CLIP_S = 0.5  # shorter clips are dropped
MIN_HIT_S = 0.05  # shorter sounds are dropped; 0.05-0.5 s ones are joined (process_hits)
HITS_CLIP_S = 4.0  # joined one-shot sounds make clips of about this length
MAX_CLIP_S = 10.0  # longer ones are cut into ceil(d / 10) equal segments of 5-10 s
FRAME_S = 0.010  # RMS frame for trimming and loudness
TRIM_DB = -40.0  # frames this far below the file's loudest frame count as silence
FLOOR_DBFS = -65.0  # and anything below this is silence whatever the file
SEGMENT_DROP_DB = -30.0  # a segment this far below the file's active level is dropped
TARGET_DBFS = -24.0  # active-frame RMS after normalisation ("moderate")
MAX_GAIN_DB = 30.0
PEAK = 0.97  # peak guard after the gain
GAP_S = 2.0  # silence between rendered excerpts (release and reverb tails)
VAL_FRACTION = 0.2  # file hold-out when a class has a single source
CAP_VAL_RATIO = 4  # val/zeroshot clips are capped at max_per_class / 4

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def stable_int(*parts: object) -> int:
    """A 64-bit integer from the parts' text: stable across runs (unlike `hash`)."""
    digest = hashlib.sha1("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", text).strip("_") or "x"


@dataclass(frozen=True)
class Item:
    """One source file of one class, before processing."""

    source: str  # package (or generator) name: the unit of package hold-out
    version: str
    license: str
    path: str  # path inside the package, or what was rendered
    cls: str
    holdout: bool
    file: Path  # the audio file to decode
    unit: str = ""  # hold-out unit inside the source (a speaker); "" = the whole source

    @property
    def group(self) -> str:
        """The unit the split is decided for: the source, or one unit inside it."""
        return f"{self.source}/{self.unit}" if self.unit else self.source


@dataclass
class BuildOptions:
    out: Path
    sources: str = "default"
    rate: int = 32000  # Hz
    max_per_class: int = 0  # 0: no cap
    seed: int = 0
    cache: Path | None = None  # default: ~/.cache/livesep


@dataclass
class BuildReport:
    records: list[dict[str, Any]]
    packages: dict[str, dict[str, Any]] = field(default_factory=dict)
    tools: dict[str, str] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)


# -- collecting items -------------------------------------------------------------------
def _collect_deb(source: DebSource, store: PackageStore, report: BuildReport) -> list[Item]:
    unpacked = store.unpack(source.name, source.archive, source.archive_prefix, source.extra)
    items, used = [], 0
    for rel in unpacked.files:
        rule = classify(source, rel)
        if rule is not None:
            shown = f"{source.archive}:{rel}" if source.archive else rel
            items.append(
                Item(
                    source.name,
                    unpacked.version,
                    source.license,
                    shown,
                    rule.cls,
                    rule.holdout,
                    unpacked.root / rel,
                    rule.unit,
                )
            )
            used += 1
    report.packages[source.name] = {
        "version": unpacked.version,
        "license": source.license,
        "files": used,
    }
    if not items:
        raise CorpusError(f"package {source.name} {unpacked.version}: no file matched its rules")
    return items


def _collect_speech(
    source: SpeechSource, store: PackageStore, work: Path, seed: int, report: BuildReport
) -> list[Item]:
    argv, env, version = store.tool(source.binary, source.name)
    report.tools[source.binary] = version
    data = store.tools_root / "usr/lib/x86_64-linux-gnu"
    data_dir = data if (data / "espeak-ng-data").exists() else None
    classes = sorted({c for _, c in source.voices})
    items = []
    for cls in classes:
        voices = [v for v, c in source.voices if c == cls]
        for i in range(source.count):
            voice = voices[i % len(voices)]
            rng = np.random.default_rng([seed, stable_int(source.name, cls, i)])
            text = renderers.utterance(rng)
            out = work / f"{source.name}-{slug(cls)}-{i:04d}.wav"
            if source.binary == "flite":
                renderers.render_flite(argv, env, voice, text, out)
            else:
                renderers.render_espeak(argv, env, data_dir, voice, text, rng, out)
            items.append(
                Item(
                    source.name,
                    version,
                    source.license,
                    f"{source.binary} -v {voice} #{i:04d}",
                    cls,
                    source.holdout,
                    out,
                )
            )
    report.packages[source.name] = {
        "version": version,
        "license": source.license,
        "files": len(items),
    }
    return items


def _collect_midi(
    source: MidiSource,
    store: PackageStore,
    work: Path,
    seed: int,
    rate: int,
    report: BuildReport,
) -> list[Item]:
    # render(argv, env, font file, midi, out wav, rate)
    render: Callable[[list[str], dict[str, str], Path, Path, Path, int], None]
    if source.synth == "timidity":
        argv, env, tool_version = store.tool("timidity", "timidity")
        font = store.unpack(source.name, extra=(".pat", ".cfg"))
        sf2 = work / f"{source.name}.cfg"
        programs, drums = renderers.timidity_config(font.root / source.sf2, font.root, sf2)
        wanted = {p for p, _, _ in source.instruments + source.variants}
        lacking = sorted(p for p in wanted if not (p in programs or (p == -1 and drums)))
        if lacking:
            raise CorpusError(f"{source.name} has no patch for GM program(s) {lacking}")
        render = renderers.render_midi_timidity
    elif source.synth == "fluidsynth":
        argv, env, tool_version = store.tool("fluidsynth", "fluidsynth")
        font = store.unpack(source.name)
        sf2 = font.root / source.sf2
        if not sf2.exists():
            raise CorpusError(f"soundfont {source.sf2} missing from package {source.name}")
        render = renderers.render_midi
    else:
        raise CorpusError(f"{source.name}: unknown synth {source.synth!r}")
    report.tools[source.synth] = tool_version
    tunes: list[tuple[str, list[list[renderers.Note]]]] = []
    if source.tunes == "music21":
        tunes = renderers.chorale_tunes(
            min(source.count, 40), stable_int(seed, source.name), store.cache / "music21"
        )
        report.tools["music21"] = _module_version("music21")
    items = []
    presets: list[tuple[int, str, bool, int, tuple[int, ...]]] = [
        (*inst, source.count, ()) for inst in source.instruments
    ]
    presets += [(*v, source.variant_count, (v[0],)) for v in source.variants]
    for program, cls, poly, count, key in (p for p in presets if p[3] > 0):
        # `key` keeps a variant's seeds and files apart from its class's first preset.
        # One fluidsynth run per preset (loading a soundfont costs ~0.5-2 s): the
        # excerpts play one after another with GAP_S of silence and are cut apart again.
        excerpts, notes, starts, t = [], [], [], 0.0
        for i in range(count):
            rng = np.random.default_rng([seed, stable_int(source.name, cls, *key, i)])
            name, beats, bpm = _tune(rng, tunes, i, program, cls, poly)
            seconds = [(p, t + on * 60.0 / bpm, d * 60.0 / bpm) for p, on, d in beats]
            notes += seconds
            starts.append(t)
            t = max(on + d for _, on, d in seconds) + GAP_S
            what = f"{name} at {bpm:.0f} bpm / {_preset_name(program)} / #{i:03d}"
            excerpts.append(what)
        stem = f"{source.name}-{slug(cls)}" + "".join(f"-p{k}" for k in key)
        midi = work / f"{stem}.mid"
        rendered = midi.with_suffix(".wav")
        velocity = int(
            np.random.default_rng([seed, stable_int(source.name, cls, *key)]).integers(75, 111)
        )
        renderers.write_midi(midi, notes, program, 60.0, velocity)  # 60 bpm: 1 beat = 1 s
        render(argv, env, sf2, midi, rendered, rate)
        audio, got = sf.read(rendered, dtype="float32", always_2d=True)
        if got != rate:
            raise CorpusError(f"{source.synth} rendered {got} Hz instead of {rate} Hz")
        bounds = [round(s * rate) for s in starts] + [len(audio)]
        for i, what in enumerate(excerpts):
            out = work / f"{stem}-{i:04d}.wav"
            sf.write(out, audio[bounds[i] : bounds[i + 1]], rate, subtype="FLOAT")
            items.append(
                Item(source.name, font.version, source.license, what, cls, source.holdout, out)
            )
    report.packages[source.name] = {
        "version": font.version,
        "license": source.license,
        "files": len(items),
    }
    return items


def _preset_name(program: int) -> str:
    """How a render's path names its preset: "program 65", "program drums", "drum kit 32"."""
    if program >= 0:
        return f"program {program}"
    return "program drums" if program == -1 else f"drum kit {-1 - program}"


def _tune(
    rng: np.random.Generator,
    tunes: list[tuple[str, list[list[renderers.Note]]]],
    i: int,
    program: int,
    cls: str,
    poly: bool,
) -> tuple[str, list[renderers.Note], float]:
    """(name, notes, bpm) of render `i`: a drum pattern, a chorale excerpt or a built-in tune."""
    if program < 0:
        return "drum pattern", renderers.drum_pattern(rng), float(rng.uniform(85, 135))
    if not tunes:
        bpm = float(rng.uniform(90, 130))
        return "builtin tune", renderers.fit_range(renderers.builtin_tune(rng, poly), cls), bpm
    name, parts = tunes[i % len(tunes)]
    bpm = float(rng.uniform(70, 110))
    chosen = [n for p in parts for n in p] if poly else parts[int(rng.integers(len(parts)))]
    window = bpm / 60.0 * 9.0  # beats in ~9 s
    end = max(t + d for _, t, d in chosen)
    onsets = sorted(
        {t for _, t, _ in chosen if t <= end - window} or {min(t for _, t, _ in chosen)}
    )
    start = onsets[int(rng.integers(len(onsets)))]  # an onset, so the excerpt is never empty
    notes = [(p, t - start, d) for p, t, d in chosen if start <= t < start + window]
    return (
        f"{name}{' all parts' if poly else ''} from beat {start:g}",
        renderers.fit_range(notes, cls),
        bpm,
    )


KIT_SUFFIXES = (".xml", ".aif", ".aiff")  # a Hydrogen kit's drumkit.xml and AIFF samples


def _collect_drumkit(
    source: DrumkitSource,
    store: PackageStore,
    work: Path,
    seed: int,
    rate: int,
    report: BuildReport,
) -> list[Item]:
    package = store.unpack(source.name, extra=KIT_SUFFIXES)
    cache: dict[Path, np.ndarray] = {}

    def load(path: Path) -> np.ndarray:  # a kit sample, mono float32 at `rate`, decoded once
        if path not in cache:
            cache[path] = decode_at(path, rate, str(path))
        return cache[path]

    items = []
    for folder, license_ in source.kits:
        kit_dir = package.root / source.root / folder
        kit = drumkits.read_kit(kit_dir)
        roles = drumkits.assign_roles(kit)
        for i in range(source.count):
            rng = np.random.default_rng([seed, stable_int(source.name, folder, i)])
            bpm = float(rng.uniform(85, 135))
            audio = drumkits.render_pattern(
                kit, roles, renderers.drum_pattern(rng), bpm, rng, rate, load
            )
            out = work / f"{source.name}-{slug(folder)}-{i:04d}.wav"
            sf.write(out, audio, rate, subtype="FLOAT")
            what = f"{folder}: drum pattern at {bpm:.0f} bpm / #{i:03d}"
            items.append(
                Item(source.name, package.version, license_, what, source.cls, source.holdout, out)
            )
    report.packages[source.name] = {
        "version": package.version,
        "license": source.license,
        "files": len(items),
    }
    return items


def _collect_synth(source: SynthSource, work: Path, seed: int, rate: int) -> list[Item]:
    items = []
    for cls in source.classes:
        for i in range(source.count):
            rng = np.random.default_rng([seed, stable_int(source.name, cls, i)])
            out = work / f"{source.name}-{slug(cls)}-{i:04d}.wav"
            sf.write(out, renderers.synth_sound(cls, rng, rate), rate, subtype="FLOAT")
            items.append(
                Item(source.name, "1", source.license, f"{cls} #{i:03d}", cls, source.holdout, out)
            )
    return items


def collect(
    source: Source, store: PackageStore, work: Path, options: BuildOptions, report: BuildReport
) -> list[Item]:
    """All items of one source (downloading, unpacking or rendering as needed)."""
    if isinstance(source, DebSource):
        return _collect_deb(source, store, report)
    if isinstance(source, SpeechSource):
        return _collect_speech(source, store, work, options.seed, report)
    if isinstance(source, MidiSource):
        return _collect_midi(source, store, work, options.seed, options.rate, report)
    if isinstance(source, DrumkitSource):
        return _collect_drumkit(source, store, work, options.seed, options.rate, report)
    report.packages[source.name] = {
        "version": "1",
        "license": source.license,
        "files": len(source.classes) * source.count,
    }
    return _collect_synth(source, work, options.seed, options.rate)


# -- splits -----------------------------------------------------------------------------
def assign_splits(items: list[Item], seed: int) -> dict[tuple[str, str], str]:
    """Split per item, keyed by (source, path).

    Zero-shot classes: every item "zeroshot". A class with files from several groups (a
    group is a package, or one hold-out unit such as a speaker inside it): the groups
    marked hold-out for it (or else the one with fewest files) are "val", as long as
    another group keeps training files. A class from one group: a seeded 20% of its files
    (at least one, when it has two or more) are "val".
    """
    by_class: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_class[item.cls].append(item)
    splits: dict[tuple[str, str], str] = {}
    for cls, members in by_class.items():
        if CLASSES[cls].role == ZEROSHOT:
            splits.update({(m.source, m.path): "zeroshot" for m in members})
            continue
        groups = sorted({m.group for m in members})
        held = {m.group for m in members if m.holdout}
        if len(groups) > 1 and not held:
            counts = {g: sum(m.group == g for m in members) for g in groups}
            held = {min(groups, key=lambda g: (counts[g], g))}
        if len(groups) > 1 and set(groups) - held:
            splits.update(
                {(m.source, m.path): "val" if m.group in held else "train" for m in members}
            )
            continue
        ordered = sorted(members, key=lambda m: stable_int(seed, m.source, m.path))
        n_val = max(1, round(VAL_FRACTION * len(ordered))) if len(ordered) > 1 else 0
        for k, m in enumerate(ordered):
            splits[(m.source, m.path)] = "val" if k < n_val else "train"
    return splits


# -- audio ------------------------------------------------------------------------------
def decode(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples and rate; soundfile first, then ffmpeg or sox when present.

    Raises:
        CorpusError: no decoder could read the file.
    """
    try:
        data, rate = sf.read(path, dtype="float32", always_2d=True)
        return data.mean(axis=1), int(rate)  # [T]
    except (sf.LibsndfileError, RuntimeError) as exc:
        error = str(exc)
    for tool in ("ffmpeg", "sox"):
        exe = shutil.which(tool)
        if exe is None:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "x.wav"
            cmd = (
                [exe, "-v", "quiet", "-i", str(path), str(wav)]
                if tool == "ffmpeg"
                else [exe, str(path), str(wav)]
            )
            if subprocess.run(cmd, capture_output=True, check=False).returncode == 0:
                data, rate = sf.read(wav, dtype="float32", always_2d=True)
                return data.mean(axis=1), int(rate)
    raise CorpusError(f"cannot decode {path}: {error}")


def _frame_db(x: np.ndarray, frame: int) -> np.ndarray:
    n = len(x) // frame
    if n == 0:
        return np.full(1, -120.0)
    frames = x[: n * frame].reshape(n, frame).astype(np.float64)  # [N, frame]
    return 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-12)  # [N] dBFS


def _active(db: np.ndarray) -> np.ndarray:
    return db > max(db.max() + TRIM_DB, FLOOR_DBFS)


def trim(x: np.ndarray, rate: int) -> np.ndarray:
    """Drop leading and trailing silence (10 ms frames below max-40 dB or -65 dBFS)."""
    frame = int(FRAME_S * rate)
    active = np.flatnonzero(_active(_frame_db(x, frame)))
    if len(active) == 0:
        return x[:0]
    return x[active[0] * frame : min(len(x), (active[-1] + 1) * frame)]


def normalise(x: np.ndarray, rate: int) -> np.ndarray:
    """Gain so active frames sit at -24 dBFS RMS (at most +30 dB), then peak <= 0.97."""
    db = _frame_db(x, int(FRAME_S * rate))
    level = 10.0 * np.log10(np.mean(10.0 ** (db[_active(db)] / 10.0)))
    gain = 10.0 ** (min(TARGET_DBFS - level, MAX_GAIN_DB) / 20.0)
    y = x.astype(np.float64) * gain
    peak = float(np.max(np.abs(y)))
    if peak > PEAK:
        y *= PEAK / peak
    return y


def segments(x: np.ndarray, rate: int) -> list[tuple[int, np.ndarray]]:
    """(start sample, clip) pairs: the trimmed file cut into equal parts of at most 10 s.

    Parts far quieter than the file (30 dB below its active level) and parts shorter than
    0.5 s are dropped.
    """
    x = trim(x, rate)
    if len(x) < MIN_CLIP_S * rate:
        return []
    count = math.ceil(len(x) / (MAX_CLIP_S * rate))
    length = len(x) // count
    frame = int(FRAME_S * rate)
    db = _frame_db(x, frame)
    file_level = 10.0 * np.log10(np.mean(10.0 ** (db[_active(db)] / 10.0)))
    out = []
    for k in range(count):
        start = k * length
        clip = trim(x[start : start + length], rate)
        if len(clip) < MIN_CLIP_S * rate:
            continue
        level = 10.0 * np.log10(np.mean(clip.astype(np.float64) ** 2) + 1e-12)
        if count > 1 and level < file_level + SEGMENT_DROP_DB:
            continue
        out.append((start, clip))
    return out


def decode_at(path: Path, rate: int, name: str) -> np.ndarray:
    """Decode `path` as mono float32 at `rate`; `name` is what an error calls it.

    Raises:
        CorpusError: undecodable, or NaN/Inf samples.
    """
    audio, got = decode(path)
    if not np.all(np.isfinite(audio)):
        raise CorpusError(f"{name} has NaN/Inf samples")
    if got != rate:
        audio = soxr.resample(audio, got, rate, quality="HQ")  # [T']
    return audio


def load_item(item: Item, rate: int) -> np.ndarray:
    """Decode one item as mono float32 at `rate` (see `decode_at`)."""
    return decode_at(item.file, rate, f"{item.source}:{item.path}")


def _write_clip(
    item: Item,
    path: str,
    name: str,
    clip: np.ndarray,
    start: int,
    split: str,
    options: BuildOptions,
    all_train: set[str],
) -> dict[str, Any]:
    spec = CLASSES[item.cls]
    captions = train_captions(spec) if split == "train" else val_captions(spec, all_train)
    folder = options.out / "audio" / slug(item.cls)
    folder.mkdir(parents=True, exist_ok=True)
    pcm = np.clip(np.round(normalise(clip, options.rate) * 32767.0), -32768, 32767)
    sf.write(folder / name, pcm.astype(np.int16), options.rate, subtype="PCM_16")
    return {
        "path": f"audio/{slug(item.cls)}/{name}",
        "class": item.cls,
        "captions": captions,
        "split": split,
        "source": {"package": item.source, "version": item.version, "path": path},
        "license": item.license,
        "duration_s": round(len(clip) / options.rate, 4),
        "sample_rate": options.rate,
        "offset_s": round(start / options.rate, 4),
    }


def process_item(
    item: Item, audio: np.ndarray, split: str, options: BuildOptions, all_train: set[str]
) -> list[dict[str, Any]]:
    """Cut one decoded item into clean clips, write them; returns their manifest records."""
    tag = f"{stable_int(item.source, item.path):016x}"[:8]
    stem = slug(item.file.stem)
    return [
        _write_clip(
            item,
            item.path,
            f"{slug(item.source)}__{stem}__{tag}_{k:03d}.wav",
            clip,
            start,
            split,
            options,
            all_train,
        )
        for k, (start, clip) in enumerate(segments(audio, options.rate))
    ]


def process_hits(
    hits: list[tuple[Item, np.ndarray]],
    split: str,
    options: BuildOptions,
    all_train: set[str],
) -> list[dict[str, Any]]:
    """Join short one-shot sounds (< 0.5 s once trimmed) of one class, package and split.

    A footstep, a pickaxe strike or a bell ding alone is too short to train on; in turn,
    in a seeded order, with 0.1-0.6 s gaps, they make clips of about 4 s. Each file is in
    one clip only, and the clip's source path lists its files (joined by " + ").
    """
    rate = options.rate
    hits = sorted(hits, key=lambda h: stable_int(options.seed, h[0].source, h[0].path))
    first = hits[0][0]
    rng = np.random.default_rng([options.seed, stable_int(first.source, first.cls, split)])
    # Each hit followed by its seeded gap; a clip closes once it reaches HITS_CLIP_S.
    groups: list[list[tuple[Item, np.ndarray]]] = [[]]
    length = 0
    for item, hit in hits:
        gap = np.zeros(int(rng.uniform(0.1, 0.6) * rate), np.float32)
        groups[-1].append((item, np.concatenate([normalise(hit, rate), gap])))
        length += len(hit) + len(gap)
        if length >= HITS_CLIP_S * rate:
            groups.append([])
            length = 0
    if len(groups) > 2 and length < HITS_CLIP_S * rate / 2:
        tail = groups.pop()
        groups[-1] += tail  # a short remainder joins the clip before it
    records = []
    for k, group in enumerate(g for g in groups if g):
        clip = trim(np.concatenate([h for _, h in group]), rate)  # [T], no trailing gap
        if len(clip) < MIN_CLIP_S * rate:
            continue
        paths = " + ".join(item.path for item, _ in group)
        tag = f"{stable_int(first.source, paths):016x}"[:8]
        name = f"{slug(first.source)}__hits__{tag}_{k:03d}.wav"
        records.append(_write_clip(first, paths, name, clip, 0, split, options, all_train))
    return records


def cap_records(records: list[dict[str, Any]], limit: int, seed: int) -> list[dict[str, Any]]:
    """At most `limit` train clips per class (`limit // 4` val/zero-shot), spread evenly.

    Clips are taken round-robin over source files in a seeded order, so one long loop
    does not crowd out the other files of its class.
    """
    if limit <= 0:
        return records
    groups: dict[tuple[str, str], dict[tuple[str, str], list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for r in records:
        groups[(r["class"], r["split"])][(r["source"]["package"], r["source"]["path"])].append(r)
    kept: list[dict[str, Any]] = []
    for (_, split), files in groups.items():
        quota = limit if split == "train" else max(1, limit // CAP_VAL_RATIO)
        order = sorted(files, key=lambda key: stable_int(seed, *key))
        queues = [list(files[key]) for key in order]
        taken = 0
        while taken < quota and any(queues):
            for queue in queues:
                if queue and taken < quota:
                    kept.append(queue.pop(0))
                    taken += 1
    return kept


# -- the build --------------------------------------------------------------------------
def default_cache() -> Path:
    return Path.home() / ".cache" / "livesep"


def build_corpus(options: BuildOptions, log: Log = _stderr) -> BuildReport:
    """Build the corpus into `options.out` (manifest.jsonl, classes.json, build.json, audio/).

    Raises:
        CorpusError: a package, tool or file cannot be used (named in the message).
    """
    started = time.monotonic()
    sources = resolve_sources(options.sources)
    out = Path(options.out)
    options = dataclasses.replace(options, out=out)
    store = PackageStore(options.cache or default_cache())
    shutil.rmtree(out / "audio", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    report = BuildReport(records=[])
    with tempfile.TemporaryDirectory(prefix="livesep-corpus-") as tmp:
        items: list[Item] = []
        for source in sources:
            work = Path(tmp) / slug(source.name)
            work.mkdir()
            t0 = time.monotonic()
            found = collect(source, store, work, options, report)
            log(f"{source.name}: {len(found)} files ({time.monotonic() - t0:.1f} s)")
            items += found
        splits = assign_splits(items, options.seed)
        all_train = {c for spec in CLASSES.values() for c in train_captions(spec)}
        records: list[dict[str, Any]] = []
        hits: dict[tuple[str, str, str], list[tuple[Item, np.ndarray]]] = defaultdict(list)
        for n, item in enumerate(items, start=1):
            split = splits[(item.source, item.path)]
            try:
                audio = load_item(item, options.rate)
            except CorpusError as exc:
                report.skipped.append(
                    {"source": item.source, "path": item.path, "reason": str(exc)}
                )
                continue
            short = trim(audio, options.rate)
            if MIN_HIT_S * options.rate <= len(short) < MIN_CLIP_S * options.rate:
                hits[(item.cls, split, item.source)].append((item, short))
            else:
                records += process_item(item, audio, split, options, all_train)
            if n % 200 == 0:
                log(f"processed {n}/{len(items)} files, {len(records)} clips")
        for (_, split, _), group in sorted(hits.items()):
            records += process_hits(group, split, options, all_train)
    kept = cap_records(records, options.max_per_class, options.seed)
    kept_paths = {r["path"] for r in kept}
    for r in records:
        if r["path"] not in kept_paths:
            (out / r["path"]).unlink()
    kept.sort(key=lambda r: (r["class"], r["split"], r["path"]))
    report.records = kept
    write_manifest(out / "manifest.jsonl", kept)
    _write_json(out / "classes.json", classes_summary(kept, all_train))
    _write_json(out / "build.json", _provenance(options, report, time.monotonic() - started))
    log(f"{len(kept)} clips, {len(report.skipped)} files skipped -> {out / 'manifest.jsonl'}")
    return report


def classes_summary(records: list[dict[str, Any]], all_train: set[str]) -> dict[str, Any]:
    """class -> {role, train_captions, val_captions} for the classes present."""
    present = sorted({r["class"] for r in records})
    return {
        name: {
            "role": CLASSES[name].role if name in CLASSES else "train",
            "train_captions": train_captions(CLASSES[name]) if name in CLASSES else [name],
            "val_captions": val_captions(CLASSES[name], all_train) if name in CLASSES else [],
        }
        for name in present
    }


def counts(records: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """class -> split -> {"clips", "seconds"}."""
    table: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for r in records:
        cell = table[r["class"]].setdefault(r["split"], {"clips": 0, "seconds": 0.0})
        cell["clips"] += 1
        cell["seconds"] = round(cell["seconds"] + r["duration_s"], 3)
    return {k: table[k] for k in sorted(table)}


def _module_version(name: str) -> str:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # noqa: BLE001 - provenance only
        return "unknown"


def _provenance(options: BuildOptions, report: BuildReport, seconds: float) -> dict[str, Any]:
    return {
        "format": "livesep-corpus",
        "format_version": 1,
        "sources": options.sources,
        "sample_rate": options.rate,
        "max_per_class": options.max_per_class,
        "seed": options.seed,
        "packages": report.packages,
        "tools": report.tools,
        "python": {m: _module_version(m) for m in ("numpy", "soundfile", "soxr")},
        "clips": len(report.records),
        "seconds": round(sum(r["duration_s"] for r in report.records), 2),
        "counts": counts(report.records),
        "skipped": report.skipped,
        "build_seconds": round(seconds, 1),
    }


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    tmp.replace(path)
