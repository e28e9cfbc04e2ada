"""Evaluate a separator on a benchmark: SDR, SDRi, SI-SDR, SI-SDRi, controls, report.

Benchmarks read here:
- ours: a directory with `bench.csv` (columns `mixture, target, query, class`, optional
  `wrong_query`; paths relative to the directory), e.g. written by `build_bench` from a
  corpus's val/zeroshot splits;
- AudioSep's benchmark CSVs (`evaluation/metadata/*_eval.csv`): `idx, caption, src_wav,
  noise_wav` with `segment-<idx>.wav` / `mixture-<idx>.wav` in the audio directory
  (AudioCaps, Clotho, ESC-50, MUSIC), or VGGSound's `file_id, mix_wav, s0_wav, s0_text,
  s1_wav, s1_text`; and AudioSet's directory layout (`class_id=<k>/<name>,mixture.wav` +
  `,source.wav`, labels from `class_labels_indices.csv`).

Aggregation as AudioSep reports each set: AudioSet median per class then mean over
classes; MUSIC mean per instrument then mean; the others (and ours) the plain mean over
items. Per-class means are always reported too.

Two references on the same mixtures: a wrong-query control (each mixture also separated
with the query of a class that is absent from it; query sensitivity = SDRi(right) -
SDRi(wrong)) and the oracle ideal-ratio-mask SDRi (what a perfect mask on the same STFT
reaches), for scale.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soxr

from livesep import metrics
from livesep.atomic import atomic_path, write_text
from livesep.audio import read_audio, write_audio
from livesep.errors import ConfigError

__all__ = [
    "BenchItem",
    "Bench",
    "read_bench",
    "Separator",
    "checkpoint_separator",
    "bundle_separator",
    "with_speech_expert",
    "irm_oracle",
    "sdri_batch",
    "evaluate",
    "write_report",
    "build_bench",
    "BENCH_CSV",
]

BENCH_CSV = "bench.csv"  # our bench format's table
OURS_COLUMNS = ("mixture", "target", "query", "class")
IRM_N_FFT = 1024  # oracle mask STFT: 32 ms window at 32 kHz (scaled with the rate)
IRM_HOP_DIV = 4  # hop = n_fft / 4
SPECTROGRAM_ITEMS = 4  # items drawn in the report

# separate(mixture[T], query) -> estimate[T]
Separator = Callable[[np.ndarray, str], np.ndarray]


@dataclass(frozen=True)
class BenchItem:
    """One benchmark mixture: the files, the query and the class it describes."""

    mixture: Path
    target: Path
    query: str
    cls: str
    wrong_query: str | None = None  # a query of a class absent from the mixture
    absent_exclude: tuple[str, ...] = ()  # queries known present (never used as wrong)


@dataclass
class Bench:
    """A benchmark: items plus how AudioSep aggregates its scores."""

    name: str
    items: list[BenchItem]
    aggregation: str = "mean"  # mean | mean_per_class | median_per_class
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- reading benchmarks


def _read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]


def read_bench(path: str | Path, audio_dir: str | Path | None = None) -> Bench:
    """Read any supported benchmark (see the module docstring).

    Args:
        path: our bench directory, an AudioSet-layout directory, or a CSV file.
        audio_dir: where an AudioSep CSV's wavs are (default: the CSV's directory).

    Raises:
        ConfigError: unknown layout, missing columns, or an empty benchmark.
    """
    path = Path(path)
    if path.is_dir() and (path / BENCH_CSV).is_file():
        bench = _read_ours(path / BENCH_CSV, path)
    elif path.is_dir() and any(path.glob("class_id=*")):
        bench = _read_audioset_dir(path)
    elif path.is_file() and path.suffix.lower() == ".csv":
        bench = _read_csv(path, Path(audio_dir) if audio_dir else path.parent)
    else:
        raise ConfigError(f"benchmark {path}: not a bench dir ({BENCH_CSV}), CSV or AudioSet dir")
    if not bench.items:
        raise ConfigError(f"benchmark {path}: no items")
    return bench


def _read_csv(path: Path, audio_dir: Path) -> Bench:
    rows = _read_rows(path)
    header = set(rows[0]) if rows else set()
    if set(OURS_COLUMNS) <= header:
        return _read_ours(path, path.parent)
    if {"mix_wav", "s0_wav", "s0_text"} <= header:  # VGGSound
        items = [
            BenchItem(
                audio_dir / r["mix_wav"],
                audio_dir / r["s0_wav"],
                r["s0_text"],
                r["s0_text"],
                absent_exclude=(r.get("s1_text", ""),),
            )
            for r in rows
        ]
        return Bench(path.stem, items)
    if {"idx", "caption"} <= header:  # AudioCaps, Clotho, ESC-50, MUSIC
        items = [
            BenchItem(
                audio_dir / f"mixture-{r['idx']}.wav",
                audio_dir / f"segment-{r['idx']}.wav",
                r["caption"],
                r["caption"],
            )
            for r in rows
        ]
        music = "music" in path.stem.lower()
        return Bench(path.stem, items, "mean_per_class" if music else "mean")
    raise ConfigError(f"benchmark {path}: unknown CSV columns {sorted(header)}")


def _read_ours(csv_path: Path, root: Path) -> Bench:
    rows = _read_rows(csv_path)
    missing = [c for c in OURS_COLUMNS if rows and c not in rows[0]]
    if missing:
        raise ConfigError(f"benchmark {csv_path}: missing columns {missing}")
    items = [
        BenchItem(
            root / r["mixture"],
            root / r["target"],
            r["query"],
            r["class"],
            r.get("wrong_query") or None,
        )
        for r in rows
    ]
    return Bench(root.name, items)


def _read_audioset_dir(root: Path) -> Bench:
    labels_csv = next(
        (
            p
            for p in (root / "class_labels_indices.csv", root.parent / "class_labels_indices.csv")
            if p.is_file()
        ),
        None,
    )
    if labels_csv is None:
        raise ConfigError(f"benchmark {root}: AudioSet layout needs class_labels_indices.csv")
    labels = {int(r["index"]): r["display_name"] for r in _read_rows(labels_csv)}
    items = []
    for sub in sorted(root.glob("class_id=*"), key=lambda p: int(p.name.split("=")[1])):
        label = labels[int(sub.name.split("=")[1])]
        names = sorted(
            {
                m.group(1)
                for p in sub.glob("*.wav")
                if (m := re.match(r"(.*),(mixture|source)\.wav$", p.name))
            }
        )
        for name in names:
            items.append(
                BenchItem(sub / f"{name},mixture.wav", sub / f"{name},source.wav", label, label)
            )
    return Bench(root.name, items, "median_per_class")


def load_wav(path: Path, sample_rate: int) -> np.ndarray:
    """Mono float32 [T] at `sample_rate`, validated as every input (`read_audio`).

    Raises:
        AudioError: missing, unreadable, empty or non-finite audio, or a bad rate.
    """
    audio, rate = read_audio(path)  # [C, T]
    mono = audio.mean(axis=0)
    if rate != sample_rate:
        mono = soxr.resample(mono, rate, sample_rate, quality="HQ")
    return np.asarray(mono, np.float32)


# ---------------------------------------------------------------- separators


def _embedder(
    encoder_name: str, cache_path: Path | None = None, **options: Any
) -> Callable[[str], np.ndarray]:
    """query -> embedding [D]; a training run's caption cache (`embeddings.npz`) answers
    first, and the text encoder is only loaded for a query it lacks."""
    from livesep.training.dataset import read_caption_cache

    cache = read_caption_cache(cache_path, encoder_name)
    encoder: list[Any] = []

    def embed(query: str) -> np.ndarray:
        if query not in cache:
            if not encoder:
                from livesep.text import get_encoder

                encoder.append(get_encoder(encoder_name, **options))
            cache[query] = np.asarray(encoder[0].embed([query])[0], np.float32)
        return cache[query]

    return embed


def checkpoint_separator(
    path: str | Path,
    encoder: str = "minilm",
    device: str = "cpu",
    condition: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[Separator, int]:
    """A torch checkpoint as a separator (whole clip, one forward pass, as AudioSep).

    `condition` maps a query's embedding to the one the model gets (e.g. the query snap a
    bundle will apply); None: the raw embedding.

    Returns:
        (separate(mixture[T], query) -> estimate[T], the model's sample rate).
    """
    import torch

    from livesep.model import load_checkpoint

    model, extra = load_checkpoint(path, device=device)
    data_cfg = extra.get("train_config", {}).get("data", {})
    name = data_cfg.get("text_encoder", encoder)
    rate = int(getattr(model.config, "sample_rate", data_cfg.get("sample_rate", 32000)))
    embed = _embedder(name, Path(path).parent / "embeddings.npz")

    def separate(mixture: np.ndarray, query: str) -> np.ndarray:
        with torch.no_grad():
            mix = torch.from_numpy(mixture[None].astype(np.float32)).to(device)  # [1, T]
            vec = embed(query) if condition is None else condition(embed(query))  # [D]
            emb = torch.from_numpy(vec[None]).to(device)  # [1, D]
            return model(mix, emb)[0].float().cpu().numpy()  # [T]

    return separate, rate


def bundle_separator(
    path: str | Path, threads: int = 1, expect_digest: str | None = None
) -> tuple[Separator, int]:
    """A bundle's step graph run over the whole clip (ONNX Runtime), latency removed;
    `expect_digest` pins the bundle (`livesep.bundle.load_bundle`).

    Queries are read as every host reads them (`livesep.query`: cached or encoded,
    snapped, "X, not Y" as one batched call of X and Y, signs applied).
    """
    from livesep.bundle import load_bundle
    from livesep.query import QueryReader
    from livesep.runner import StepRunner

    bundle = load_bundle(path, expect_digest=expect_digest)
    reader = QueryReader(bundle)
    runners: dict[int, StepRunner] = {}

    def separate(mixture: np.ndarray, query: str) -> np.ndarray:
        request = reader.read(query)
        k = len(request.active)
        if k not in runners:
            runners[k] = StepRunner(bundle, threads=threads, batch=k)
        runner = runners[k]
        runner.reset()
        runner.set_embedding(request.conditions)  # [K, D]
        n = mixture.size
        total = n + runner.latency
        padded = np.zeros((k, -(-total // runner.block) * runner.block), np.float32)
        padded[:, :n] = mixture
        out = runner.process(padded)  # [K, L], delayed by latency
        estimates = out[:, runner.latency : runner.latency + n]  # [K, T]
        return request.weights @ estimates + request.mixture * mixture  # [T]

    return separate, bundle.sample_rate


def with_speech_expert(separate: Separator, sample_rate: int) -> Separator:
    """`separate`, with queries for speech in general sent to the speech expert, as the
    hosts route them (`livesep.speech_route`): "voice" -> DeepFilterNet3's estimate,
    "remove the speech" -> the mixture minus it; every other query -> `separate`.

    Raises:
        ConfigError: the `speech` extra is not installed (the message says how to add it).
    """
    from livesep import expert
    from livesep.query import parse_request
    from livesep.speech_route import SpeechRouter

    if not expert.available():
        raise ConfigError(f"--speech-expert: {expert.EXTRA_HINT}")
    router = SpeechRouter()

    def routed(mixture: np.ndarray, query: str) -> np.ndarray:
        if router.route(query) != "expert":
            return separate(mixture, query)
        estimate = expert.enhance(mixture, sample_rate)  # [T], aligned
        keeps = [keep for _, keep in parse_request(query)]
        if any(keeps):  # as a Request: the kept sounds' (identical) estimates
            return sum(keeps) * estimate
        return mixture - len(keeps) * estimate

    return routed


def irm_oracle(mixture: np.ndarray, target: np.ndarray, sample_rate: int) -> np.ndarray:
    """Ideal ratio mask |S| / (|S| + |N|) applied to the mixture STFT (N = mixture - S).

    Returns:
        [T] the oracle estimate.
    """
    from scipy.signal import istft, stft

    n_fft = max(64, IRM_N_FFT * sample_rate // 32000)
    hop = n_fft // IRM_HOP_DIV
    kw = {"fs": sample_rate, "nperseg": n_fft, "noverlap": n_fft - hop}
    _, _, mix = stft(mixture, **kw)  # [F, frames]
    _, _, src = stft(target, **kw)
    _, _, noise = stft(mixture - target, **kw)
    mask = np.abs(src) / np.maximum(np.abs(src) + np.abs(noise), 1e-12)
    _, est = istft(mix * mask, **kw)
    return np.asarray(est[: mixture.size], np.float32)


def sdri_batch(est: np.ndarray, target: np.ndarray, mixture: np.ndarray) -> list[float]:
    """SDRi per row of [B, T] arrays (validation)."""
    return [float(v) for v in np.atleast_1d(metrics.sdri(est, target, mixture))]


# ---------------------------------------------------------------- evaluation


def _wrong_queries(bench: Bench, seed: int) -> list[str]:
    """For each item, a query of another class that is not known to be in the mixture."""
    by_class: dict[str, str] = {}
    for item in bench.items:
        by_class.setdefault(item.cls, item.query)
    rng = np.random.default_rng(seed)
    out = []
    for item in bench.items:
        if item.wrong_query:
            out.append(item.wrong_query)
            continue
        options = sorted(
            q for c, q in by_class.items() if c != item.cls and q not in item.absent_exclude
        )
        out.append(options[int(rng.integers(len(options)))] if options else "")
    return out


def _item_scores(est: np.ndarray, target: np.ndarray, mix: np.ndarray) -> dict[str, float]:
    return {
        "sdr": float(metrics.sdr(est, target)),
        "sdri": float(metrics.sdri(est, target, mix)),
        "si_sdr": float(metrics.si_sdr(est, target)),
        "si_sdri": float(metrics.si_sdri(est, target, mix)),
        "sdr_mixture": float(metrics.sdr(mix, target)),
        "si_sdr_mixture": float(metrics.si_sdr(mix, target)),
    }


def evaluate(
    separate: Separator,
    bench: Bench,
    sample_rate: int,
    wrong_query: bool = True,
    oracle: bool = True,
    seed: int = 0,
    keep_audio: int = SPECTROGRAM_ITEMS,
) -> dict[str, Any]:
    """Score `separate` on every item; aggregate per class and overall.

    Args:
        separate: separate(mixture[T], query) -> estimate[T] at `sample_rate`.
        bench: the items.
        sample_rate: Hz the separator works at (files are resampled to it).
        wrong_query: also run each mixture with an absent class's query.
        oracle: also score the ideal-ratio-mask estimate.
        seed: picks the wrong queries.
        keep_audio: keep mixture/target/estimate arrays of this many items (for plots).

    Returns:
        The report: {"bench", "aggregation", "items": [...], "classes": {...},
        "overall": {...}, "audio": [...] (arrays, not JSON)}.
    """
    wrong = _wrong_queries(bench, seed) if wrong_query else [""] * len(bench.items)
    rows, audio = [], []
    for n, item in enumerate(bench.items):
        mix = load_wav(item.mixture, sample_rate)
        target = load_wav(item.target, sample_rate)
        length = min(mix.size, target.size)
        mix, target = mix[:length], target[:length]
        est = np.asarray(separate(mix, item.query), np.float32)[:length]
        row: dict[str, Any] = {
            "mixture": str(item.mixture),
            "query": item.query,
            "class": item.cls,
            **_item_scores(est, target, mix),
        }
        if wrong[n]:
            est_wrong = np.asarray(separate(mix, wrong[n]), np.float32)[:length]
            row["wrong_query"] = wrong[n]
            row["wrong_sdri"] = float(metrics.sdri(est_wrong, target, mix))
        if oracle:
            row["oracle_sdri"] = float(
                metrics.sdri(irm_oracle(mix, target, sample_rate), target, mix)
            )
        rows.append(row)
        if n < keep_audio:
            audio.append({"mixture": mix, "target": target, "estimate": est, "row": row})
    classes = _per_class(rows)
    return {
        "bench": bench.name,
        "aggregation": bench.aggregation,
        "sample_rate": sample_rate,
        "items": rows,
        "classes": classes,
        "overall": _overall(rows, classes, bench.aggregation),
        "audio": audio,
    }


METRICS = ("sdr", "sdri", "si_sdr", "si_sdri", "wrong_sdri", "oracle_sdri")


def _per_class(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["class"], []).append(row)
    out = {}
    for cls, members in sorted(groups.items()):
        stats: dict[str, float] = {"items": len(members)}
        for key in METRICS:
            values = [m[key] for m in members if key in m]
            if values:
                stats[key] = float(np.mean(values))
                stats[f"{key}_median"] = float(np.median(values))
        out[cls] = stats
    return out


def _overall(
    rows: list[dict[str, Any]], classes: dict[str, dict[str, float]], aggregation: str
) -> dict[str, float]:
    out: dict[str, float] = {"items": len(rows), "classes": len(classes)}
    for key in METRICS:
        if not any(key in r for r in rows):
            continue
        if aggregation == "mean":
            out[key] = float(np.mean([r[key] for r in rows if key in r]))
        else:
            suffix = "_median" if aggregation == "median_per_class" else ""
            out[key] = float(np.mean([c[key + suffix] for c in classes.values() if key in c]))
    if "wrong_sdri" in out:
        out["query_sensitivity"] = out["sdri"] - out["wrong_sdri"]
    return out


# ---------------------------------------------------------------- report


def write_report(report: dict[str, Any], out_dir: str | Path, title: str = "") -> list[Path]:
    """Write `report.json`, `report.md` and spectrogram PNGs; returns the written paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pngs = [
        _spectrogram_png(a, report["sample_rate"], out / f"item_{i:02d}.png")
        for i, a in enumerate(report["audio"])
    ]
    plain = {k: v for k, v in report.items() if k != "audio"}
    write_text(out / "report.json", json.dumps(plain, indent=2) + "\n")
    write_text(out / "report.md", _markdown(plain, title, pngs))
    return [out / "report.json", out / "report.md", *pngs]


def _fmt(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _markdown(report: dict[str, Any], title: str, pngs: list[Path]) -> str:
    o = report["overall"]
    lines = [
        f"# Evaluation: {title or report['bench']}",
        "",
        f"{o['items']} items, {o['classes']} classes, aggregation `{report['aggregation']}`"
        f", {report['sample_rate']} Hz. dB throughout.",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in o.items() if k not in ("items", "classes")]
    keys = [k for k in METRICS if any(k in c for c in report["classes"].values())]
    lines += [
        "",
        "## Per class (mean)",
        "",
        "| class | items | " + " | ".join(keys) + " |",
        "|---|---|" + "---|" * len(keys),
    ]
    for cls, c in report["classes"].items():
        lines.append(
            f"| {cls} | {c['items']} | " + " | ".join(_fmt(c.get(k, "")) for k in keys) + " |"
        )
    if pngs:
        lines += ["", "## Spectrograms (mixture / target / estimate)", ""]
        lines += [f"![{p.stem}]({p.name})" for p in pngs]
    return "\n".join(lines) + "\n"


def _spectrogram_png(item: dict[str, Any], sample_rate: int, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.signal import stft

    fig, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True)
    n_fft = max(64, 512 * sample_rate // 16000)
    for ax, key in zip(axes, ("mixture", "target", "estimate"), strict=True):
        f, t, spec = stft(item[key], fs=sample_rate, nperseg=n_fft, noverlap=n_fft * 3 // 4)
        db = 20 * np.log10(np.abs(spec) + 1e-8)  # [F, frames]
        ax.pcolormesh(t, f, db, vmin=db.max() - 80, vmax=db.max(), shading="auto")
        ax.set_ylabel(f"{key}\nHz")
    row = item["row"]
    axes[0].set_title(f"{row['query']!r}: SDRi {row['sdri']:.1f} dB")
    axes[-1].set_xlabel("s")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)
    return path


# ---------------------------------------------------------------- bench builder


def build_bench(
    corpus_dir: str | Path,
    out_dir: str | Path,
    sample_rate: int = 32000,
    items_per_class: int = 10,
    segment_s: float = 4.0,
    seed: int = 0,
    manifest: str = "manifest.jsonl",
) -> Path:
    """Write a bench (mixture/target wavs + bench.csv) from a corpus's val/zeroshot splits.

    Each item: a target from a held-out class, one interferer from another held-out class,
    AudioSep's recipe (energy match, -10..+10 dB); query = a held-out caption of the target
    class; `wrong_query` = a caption of a class absent from the mixture. Fixed seed: the
    same corpus always gives the same bench.

    Returns:
        The bench directory.
    """
    from livesep.training.config import DataConfig, MixConfig
    from livesep.training.dataset import CaptionTable, Corpus, load_corpus, validation_set

    data = DataConfig(corpus=str(corpus_dir), manifest=manifest, sample_rate=sample_rate)
    corpus: Corpus = load_corpus(data, cache_dir=None)
    texts: list[str] = []
    val_rows: dict[str, list[int]] = {}
    for split in ("val", "zeroshot"):
        for cls in corpus.classes(split):
            for caption in corpus.captions(split, cls):
                val_rows.setdefault(cls, []).append(len(texts))
                texts.append(caption)
    table = CaptionTable(texts, np.zeros((len(texts), 1), np.float32), {}, val_rows)
    items = validation_set(corpus, table, MixConfig(), segment_s, items_per_class, seed)
    out = Path(out_dir)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 104729])
    classes = sorted(val_rows)
    rows = []
    for n, it in enumerate(items):
        mix_rel, tgt_rel = f"audio/{n:05d}_mixture.wav", f"audio/{n:05d}_target.wav"
        write_audio(out / mix_rel, it.mixture, sample_rate, overwrite=True)  # float WAV
        write_audio(out / tgt_rel, it.target, sample_rate, overwrite=True)
        wrong = [c for c in classes if c not in (it.cls, it.interferer_cls)]
        wrong_query = texts[val_rows[wrong[int(rng.integers(len(wrong)))]][0]] if wrong else ""
        rows.append(
            {
                "mixture": mix_rel,
                "target": tgt_rel,
                "query": texts[it.caption_row],
                "class": it.cls,
                "split": it.split,
                "wrong_query": wrong_query,
            }
        )
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(rows[0]) if rows else list(OURS_COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    write_text(out / BENCH_CSV, text.getvalue())
    return out
