"""Query by example: fit a conditioning vector to a few recordings, the network frozen.

`livesep learn NAME FILE ...` (training/cli_learn.py) calls `learn()`:

1. the bundle's torch model (`model_for_bundle`: rebuilt from the bundle's own graphs, or
   a given checkpoint) is checked against the bundle's ONNX graphs (film + step): a vector
   fitted on it does on the hosts what it did here;
2. the examples are read (`livesep.audio.read_audio`), mixed down, resampled to the model
   rate and split by file (a quarter of the audio, in whole files, is held out; one file:
   its last quarter);
3. mixtures of random 1 s crops of the training part with interferers (`Interferers`:
   the user's `--not` files, clips of a corpus, synthetic noises) at -5..+5 dB train an
   embedding-sized vector `e` [D] through the frozen model: loss = -SNR of the estimate
   (as the model was trained), plus `reg * |e - e0|^2` towards the start;
4. a fixed set of mixtures of the held-out part scores each candidate (SDRi); the best
   vector is kept (early stopping; Ctrl-C keeps the best so far).

The vector lives in the text-embedding space (the `film` graph's input), so the hosts
run it exactly like a text query: no change to the graphs, nothing more per hop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from onnx import numpy_helper

from livesep.audio import read_audio, resample
from livesep.bundle import Bundle
from livesep.errors import AudioError, CheckpointError
from livesep.metrics import sdri
from livesep.model.streaming import StreamingResUNet

__all__ = [
    "Example",
    "Interferers",
    "LearnResult",
    "LearnSettings",
    "learn",
    "load_examples",
    "model_for_bundle",
    "split_examples",
]

MIN_ACTIVE_S = 3.0  # seconds of non-silent examples needed at least
MAX_TOTAL_S = 120.0  # seconds of examples used at most (the rest is ignored, said so)
SILENCE_DBFS = -60.0  # a frame quieter than this (RMS) is silence
FRAME_S = 0.02  # seconds per activity frame
ACTIVE_REL_DB = 40.0  # a frame more than this below the file's loudest frame is inactive
HOLDOUT = 0.25  # fraction of the examples held out (in whole files when there are several)
PARITY_ATOL = 2e-3  # torch vs ONNX: largest difference allowed on a probe (full scale 1)
SNR_MAX_DB = 30.0  # the training loss's cap (configs/default.yaml: loss.snr_max_db)
EPS = 1e-8
SEARCH_CANDIDATES = 32  # training captions tried as starting points (`search_start`)
SEARCH_MIXTURES = 4  # 1 s mixtures each candidate is scored on


@dataclass
class LearnSettings:
    """Knobs of one fit (stored with the query)."""

    steps: int = 120  # optimiser steps (each one batch of mixtures)
    batch: int = 4  # mixtures per step
    segment_s: float = 1.0  # seconds per training mixture
    lr: float = 0.03  # Adam learning rate on the vector
    reg: float = 1e-3  # weight of |e - e0|^2 (keeps the vector near the start)
    snr_db: tuple[float, float] = (-5.0, 5.0)  # target-to-interferer ratio range, dB
    init: str = "mean"  # "mean" of the query bank | "zero" | "text:<description>"
    interferers: str = "synthetic"  # what the examples were mixed with (a description)
    corpus: str | None = None  # the corpus whose clips were interferers, if any
    val_items: int = 8  # held-out mixtures scored per check
    val_segment_s: float = 2.0  # seconds per held-out mixture
    val_every: int = 20  # steps between held-out checks
    seed: int = 0
    bf16: bool = True  # autocast the training passes (3-4x faster on these CPUs)


@dataclass
class Example:
    """One example file, mono at the model rate."""

    path: Path
    audio: np.ndarray  # float32 [T]
    active: np.ndarray  # bool [frames]: frames loud enough to learn from


@dataclass
class LearnResult:
    vector: np.ndarray  # float32 [D]: the best vector found
    sdri_db: float  # held-out SDRi of `vector`
    start_sdri_db: float  # held-out SDRi of the starting vector
    steps: int  # optimiser steps run
    seconds: float  # wall time of the fit
    interrupted: bool  # stopped by Ctrl-C (the best so far is kept)
    history: list[tuple[int, float]] = field(default_factory=list)  # (step, held-out SDRi)


# ---------------------------------------------------------------------------------------
# The frozen model


def _onnx_arrays(path: Path) -> dict[str, np.ndarray]:
    import onnx

    graph = onnx.load(str(path)).graph  # external data (weights.bin) read from beside it
    return {t.name: numpy_helper.to_array(t) for t in graph.initializer}


def _from_graphs(bundle: Bundle) -> StreamingResUNet:
    """Rebuild the torch model from the bundle's film and step graphs.

    The exporter keeps every parameter under its name ("model.<key>") except the first
    conv of each residual block, which ONNX folded together with the BatchNorm after it
    into one conv with a bias (unnamed, in run order). Such a conv is restored as the
    folded weight, followed by an identity BatchNorm carrying the folded bias: the same
    function. `model_for_bundle` checks the result against the graphs.
    """
    from livesep.model import build_model

    model = build_model(bundle.model["family"], bundle.model["config"])
    if not isinstance(model, StreamingResUNet):
        raise CheckpointError(f"{bundle.path}: learning needs a streaming model")
    arrays = _onnx_arrays(bundle.graph_path("film")) | _onnx_arrays(bundle.graph_path("step"))
    named = {k[len("model.") :]: v for k, v in arrays.items() if k.startswith("model.")}
    folded = sorted(
        (k for k in arrays if k.startswith("onnx::Conv_")), key=lambda k: int(k.split("_")[-1])
    )
    state = model.state_dict()
    blocks = [m for m in model.modules() if hasattr(m, "conv1") and hasattr(m, "act2")]
    if len(folded) != 2 * len(blocks):
        raise CheckpointError(
            f"{bundle.path}: cannot rebuild the model from its graphs "
            f"({len(folded)} folded tensors for {len(blocks)} blocks); give --checkpoint"
        )
    prefix = {id(m): n for n, m in model.named_modules()}
    for i, block in enumerate(blocks):
        p = prefix[id(block)]
        weight, bias = arrays[folded[2 * i]], arrays[folded[2 * i + 1]]
        bn: torch.nn.BatchNorm2d = block.act2.bn  # type: ignore[union-attr,assignment]
        named[f"{p}.conv1.conv.weight"] = weight
        named[f"{p}.act2.bn.weight"] = np.ones_like(bias)
        named[f"{p}.act2.bn.bias"] = bias
        named[f"{p}.act2.bn.running_mean"] = np.zeros_like(bias)
        named[f"{p}.act2.bn.running_var"] = np.full_like(bias, 1.0 - bn.eps)
    missing = [k for k in state if k not in named and not k.endswith("num_batches_tracked")]
    if missing:
        raise CheckpointError(
            f"{bundle.path}: the graphs lack {len(missing)} parameters ({missing[0]}, ...); "
            "give --checkpoint"
        )
    with torch.no_grad():
        for key, value in state.items():
            if key in named:
                value.copy_(torch.from_numpy(np.array(named[key], np.float32)).reshape(value.shape))
    return model


def check_parity(model: StreamingResUNet, bundle: Bundle, seconds: float = 0.5) -> float:
    """Largest |torch - ONNX| over a probe (film + step graphs); raises when too far.

    Raises:
        CheckpointError: the torch model is not the bundle's model.
    """
    from livesep.runner import StepRunner

    rate = bundle.sample_rate
    block = bundle.graph_block("step")
    n = max(1, int(seconds * rate) // block) * block
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal((1, n))).astype(np.float32)  # [1, n]
    emb = rng.standard_normal((1, bundle.encoder_dim)).astype(np.float32)
    emb /= np.linalg.norm(emb)
    runner = StepRunner(bundle, providers=["cpu"], graph="step")
    runner.set_embedding(emb)
    onnx_out = runner.process(audio)[0]  # [n], delayed by the latency
    with torch.no_grad():
        ref = model(torch.from_numpy(audio), torch.from_numpy(emb))[0].numpy()  # [n]
    lat = bundle.latency_samples
    err = float(np.max(np.abs(onnx_out[lat:] - ref[: n - lat]))) if n > lat else 0.0
    if not err <= PARITY_ATOL:
        raise CheckpointError(
            f"the torch model does not match the bundle {bundle.path} (largest difference "
            f"{err:.3g} > {PARITY_ATOL}); give the checkpoint the bundle was exported from"
        )
    return err


def model_for_bundle(bundle: Bundle, checkpoint: str | Path | None = None) -> StreamingResUNet:
    """The bundle's model in torch, frozen, in eval mode, checked against its graphs.

    Args:
        bundle: the bundle the query is for.
        checkpoint: the checkpoint the bundle was exported from; None rebuilds the model
            from the bundle's graphs.

    Raises:
        CheckpointError: the model cannot be built or does not match the graphs.
    """
    if checkpoint is not None:
        from livesep.model import load_checkpoint

        model, _ = load_checkpoint(checkpoint)
        if not isinstance(model, StreamingResUNet):
            raise CheckpointError(f"{checkpoint}: learning needs a streaming model")
    else:
        model = _from_graphs(bundle)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    check_parity(model, bundle)
    return model


# ---------------------------------------------------------------------------------------
# Examples


def _activity(audio: np.ndarray, rate: int) -> np.ndarray:
    """bool [frames]: frames of FRAME_S with RMS above SILENCE_DBFS and within
    ACTIVE_REL_DB of the loudest frame."""
    n = max(1, int(FRAME_S * rate))
    frames = len(audio) // n
    if frames == 0:
        return np.zeros(0, bool)
    rms = np.sqrt(np.mean(audio[: frames * n].reshape(frames, n) ** 2, axis=1) + 1e-20)
    db = 20 * np.log10(rms)  # [frames]
    return (db > SILENCE_DBFS) & (db > db.max() - ACTIVE_REL_DB)


def load_examples(
    files: Sequence[str | Path], rate: int, what: str = "example", min_active_s: float = 0.0
) -> list[Example]:
    """Read, mix down and resample `files` to `rate`.

    Raises:
        AudioError: a file cannot be read, or the files hold less than `min_active_s`
            seconds of sound (silence does not count).
    """
    out = []
    for name in files:
        audio, sr = read_audio(name)  # [C, T]
        mono = resample(audio.mean(axis=0), sr, rate).astype(np.float32)  # [T']
        out.append(Example(Path(name), mono, _activity(mono, rate)))
    active = sum(float(e.active.sum()) for e in out) * FRAME_S
    if active < min_active_s:
        total = sum(len(e.audio) for e in out) / rate
        raise AudioError(
            f"the {what} files hold {active:.1f} s of sound ({total:.1f} s in all, the rest "
            f"silent); give at least {min_active_s:.0f} s (5-60 s works best)"
        )
    return out


def cap_total(examples: list[Example], rate: int, seconds: float) -> list[Example]:
    """The examples cut to `seconds` of audio in all (later files dropped or cut)."""
    out, left = [], int(seconds * rate)
    frame = max(1, int(FRAME_S * rate))
    for e in examples:
        if left <= 0:
            break
        n = min(len(e.audio), left)
        out.append(Example(e.path, e.audio[:n], e.active[: n // frame]))
        left -= n
    return out


def split_examples(examples: list[Example], rate: int) -> tuple[list[Example], list[Example]]:
    """(train, held-out): whole files, the smallest set of files holding >= HOLDOUT of
    the audio, chosen from the end; one file: its last HOLDOUT in time."""
    if len(examples) == 1:
        e = examples[0]
        cut = int(len(e.audio) * (1 - HOLDOUT))
        cut_f = int(cut / (FRAME_S * rate))
        head = Example(e.path, e.audio[:cut], e.active[:cut_f])
        tail = Example(e.path, e.audio[cut:], e.active[cut_f:])
        return [head], [tail]
    total = sum(len(e.audio) for e in examples)
    held: list[Example] = []
    for e in reversed(examples):
        if sum(len(h.audio) for h in held) >= HOLDOUT * total or len(held) == len(examples) - 1:
            break
        held.append(e)
    train = [e for e in examples if all(e is not h for h in held)]
    return train, held


class _Crops:
    """Random crops of a set of examples, from their active parts."""

    def __init__(self, examples: list[Example], rate: int) -> None:
        self.examples = [e for e in examples if len(e.audio) > 0]
        self.rate = rate
        self.frame = max(1, int(FRAME_S * rate))
        # Where a crop may start: every active frame, by example (weighted by activity).
        self.starts = [np.flatnonzero(e.active) * self.frame for e in self.examples]
        weights = np.array([max(len(s), 1) for s in self.starts], float)
        self.weights = weights / weights.sum()

    def crop(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """float32 [n]: a crop around an active frame (looped when the file is short)."""
        i = int(rng.choice(len(self.examples), p=self.weights))
        audio = self.examples[i].audio
        starts = self.starts[i]
        if len(audio) < n:
            audio = np.tile(audio, n // max(len(audio), 1) + 1)
        centre = int(rng.choice(starts)) if len(starts) else int(rng.integers(len(audio)))
        start = int(np.clip(centre - rng.integers(0, n // 2 + 1), 0, len(audio) - n))
        return audio[start : start + n].astype(np.float32)


# ---------------------------------------------------------------------------------------
# Interferers


def synthetic_noise(rng: np.random.Generator, n: int, rate: int) -> np.ndarray:
    """float32 [n], unit RMS: one of white, pink, brown noise, mains hum, a tone sweep,
    clicks or band-passed noise (generated, nothing carried)."""
    kind = int(rng.integers(7))
    t = np.arange(n) / rate
    if kind <= 2:  # white / pink / brown: shaped spectrum 1 / f^(kind)
        spec = np.fft.rfft(rng.standard_normal(n))
        f = np.maximum(np.fft.rfftfreq(n, 1 / rate), 20.0)
        x = np.fft.irfft(spec / f ** (kind / 2), n)
    elif kind == 3:  # mains hum with harmonics
        f0 = float(rng.choice([50.0, 60.0]))
        x = np.zeros(n)
        for h in range(1, 8):
            x += np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6.3)) / h
    elif kind == 4:  # sweep
        f0, f1 = rng.uniform(100, 2000), rng.uniform(100, min(6000, rate / 2.5))
        x = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * max(t[-1], 1e-3))))
    elif kind == 5:  # clicks
        x = np.zeros(n)
        for pos in rng.integers(0, n, size=int(rng.integers(3, 30))):
            m = min(n - pos, int(rate * 0.005))
            x[pos : pos + m] += rng.standard_normal(m) * np.exp(-np.arange(m) / (0.001 * rate))
    else:  # band-passed noise
        spec = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1 / rate)
        centre, width = rng.uniform(200, rate / 2.5), rng.uniform(100, 2000)
        x = np.fft.irfft(spec * np.exp(-(((f - centre) / width) ** 2)), n)
    x = np.asarray(x, np.float64)
    return (x / (np.sqrt(np.mean(x**2)) + EPS)).astype(np.float32)


class Interferers:
    """What the examples are mixed with: crops of given recordings and/or synthetic noise.

    Args:
        recordings: examples of other sounds (`--not` files, corpus clips).
        rate: model rate.
        synthetic: probability of a synthetic noise instead of a recording (1.0 when
            there are no recordings).
    """

    def __init__(self, recordings: list[Example], rate: int, synthetic: float = 0.3) -> None:
        self.crops = _Crops(recordings, rate) if recordings else None
        self.rate = rate
        self.synthetic = 1.0 if self.crops is None else synthetic

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """float32 [n], unit RMS."""
        if self.crops is None or rng.random() < self.synthetic:
            return synthetic_noise(rng, n, self.rate)
        x = self.crops.crop(rng, n)
        return x / (np.sqrt(np.mean(x**2)) + EPS)


def mixtures(
    targets: _Crops,
    interferers: Interferers,
    rng: np.random.Generator,
    count: int,
    n: int,
    snr_db: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """(mixtures, targets) float32 [count, n]: target crop at -24..-12 dBFS RMS plus one
    or two interferers at a target-to-interferers ratio drawn from `snr_db`."""
    mix = np.zeros((count, n), np.float32)
    tgt = np.zeros((count, n), np.float32)
    for i in range(count):
        s = targets.crop(rng, n)
        s = s / (np.sqrt(np.mean(s**2)) + EPS) * 10 ** (rng.uniform(-24, -12) / 20)
        noise = sum(interferers.sample(rng, n) for _ in range(int(rng.integers(1, 3))))
        noise = noise / (np.sqrt(np.mean(noise**2)) + EPS)
        level = np.sqrt(np.mean(s**2)) / 10 ** (rng.uniform(*snr_db) / 20)
        tgt[i], mix[i] = s, s + level * noise
    return mix, tgt


def corpus_interferers(
    corpus: str | Path, rate: int, per_class: int = 4, exclude: Sequence[str] = (), seed: int = 0
) -> list[Example]:
    """`per_class` clips of each class of a corpus (train split first), at `rate`.

    Raises:
        CorpusError: the corpus manifest cannot be read.
    """
    from livesep.training.manifest import audio_path, read_manifest

    manifest = Path(corpus) / "manifest.jsonl"
    records = read_manifest(manifest)
    rng = np.random.default_rng(seed)
    by_class: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if r["class"] not in exclude and r["split"] == "train":
            by_class.setdefault(r["class"], []).append(r)
    files = []
    for cls in sorted(by_class):
        clips = by_class[cls]
        for i in rng.permutation(len(clips))[:per_class]:
            files.append(audio_path(manifest, clips[i]))
    return load_examples(files, rate, "corpus")


def describe_interferers(negatives: int, corpus: str | Path | None) -> str:
    """'synthetic noises + 2 --not files + corpus /x' (stored with the query)."""
    parts = ["synthetic noises"]
    if negatives:
        parts.append(f"{negatives} --not file(s)")
    if corpus:
        parts.append(f"corpus {corpus}")
    return " + ".join(parts)


def start_vector(bundle: Bundle, like: str | None = None) -> tuple[np.ndarray, str]:
    """(float32 [D], how it was chosen): the text query `like` as the hosts read it, else
    the mean of the bundle's training captions (zero without a query bank)."""
    if like:
        from livesep.query import QueryReader

        sound = QueryReader(bundle).read(like).sounds[0]
        return sound.embedding.astype(np.float32), f"text:{like}"
    bank = bundle.query_bank
    if bank is None:
        return np.zeros(bundle.encoder_dim, np.float32), "zero"
    return np.asarray(bank, np.float32).mean(axis=0), "mean"


def _kmeans(x: np.ndarray, k: int, seed: int, iters: int = 10) -> np.ndarray:
    """[k] row indices of `x` [N, D] (unit rows): the member nearest each of k cosine
    k-means centroids, distinct."""
    rng = np.random.default_rng(seed)
    centres = x[rng.choice(len(x), size=min(k, len(x)), replace=False)]  # [k, D]
    for _ in range(iters):
        label = np.argmax(x @ centres.T, axis=1)  # [N]
        for j in range(len(centres)):
            members = x[label == j]
            if len(members):
                c = members.mean(axis=0)
                centres[j] = c / max(float(np.linalg.norm(c)), EPS)
    return np.unique(np.argmax(x @ centres.T, axis=0))  # [<= k]


def search_start(
    model: StreamingResUNet,
    bundle: Bundle,
    examples: list[Example],
    interferers: Interferers,
    candidates: int = SEARCH_CANDIDATES,
    seed: int = 0,
) -> tuple[np.ndarray, str]:
    """The best starting vector among the bank's mean and `candidates` training captions
    spread over the bank (k-means), scored by SNR on mixtures of the training part of the
    examples (never the held-out part). Without a bank: zero.

    Not the default: measured against the mean start (benchmarks/RESULTS.md, "Query by
    example"), it did no better on banjo and far worse on tabla; kept for the benchmark.

    Returns:
        (float32 [D], "search:<caption>" or "search:mean").
    """
    bank = bundle.query_bank
    if bank is None:
        return np.zeros(bundle.encoder_dim, np.float32), "zero"
    bank = np.asarray(bank, np.float32)  # [N, D]
    rate = model.config.sample_rate
    rows = _kmeans(bank, candidates, seed)
    vectors = np.concatenate([bank.mean(axis=0, keepdims=True), bank[rows]])  # [K+1, D]
    labels = ["mean"] + [bundle.query_bank_texts[i] for i in rows]
    train, _ = split_examples(examples, rate)
    rng = np.random.default_rng(seed + 2)
    mix, tgt = mixtures(_Crops(train, rate), interferers, rng, SEARCH_MIXTURES, rate, (-5.0, 5.0))
    scores = []
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        for v in vectors:
            emb = torch.from_numpy(v)[None].expand(len(mix), -1)  # [M, D]
            est = model(torch.from_numpy(mix), emb).float()  # [M, T]
            scores.append(-float(_neg_snr(est, torch.from_numpy(tgt))))
    best = int(np.argmax(scores))
    return vectors[best].copy(), f"search:{labels[best]}"


def settings_from_dict(d: dict[str, Any]) -> LearnSettings:
    """Inverse of `settings_dict` (unknown keys ignored: older queries)."""
    known = {f for f in LearnSettings.__dataclass_fields__}
    values = {k: v for k, v in d.items() if k in known}
    if "snr_db" in values:
        values["snr_db"] = tuple(values["snr_db"])
    return LearnSettings(**values)


# ---------------------------------------------------------------------------------------
# Fitting


def _neg_snr(est: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """-SNR in dB, capped at SNR_MAX_DB as the model's training loss. [B] -> scalar."""
    noise = (est - ref).pow(2).sum(-1)  # [B]
    signal = ref.pow(2).sum(-1)  # [B]
    cap = signal * 10 ** (-SNR_MAX_DB / 10)
    return -(10 * torch.log10((signal + EPS) / (noise + cap + EPS))).mean()


def held_out_sdri(
    model: StreamingResUNet, vector: np.ndarray, mix: np.ndarray, tgt: np.ndarray
) -> float:
    """Mean SDRi (dB) of `vector` on fixed mixtures [N, T] (float32 passes)."""
    with torch.no_grad():
        emb = torch.from_numpy(np.asarray(vector, np.float32))[None].expand(len(mix), -1)
        est = model(torch.from_numpy(mix), emb).numpy()  # [N, T]
    return float(np.mean(sdri(est, tgt, mix)))


def _train_step(
    model: StreamingResUNet,
    vector: torch.Tensor,
    e0: torch.Tensor,
    optimiser: torch.optim.Optimizer,
    batch: tuple[np.ndarray, np.ndarray],
    settings: LearnSettings,
) -> float:
    """One Adam step on `vector` [D]; returns the batch's training SNR (dB)."""
    mix, tgt = (torch.from_numpy(a) for a in batch)  # [B, n] each
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=settings.bf16):
        est = model(mix, vector[None].expand(len(mix), -1))  # [B, n]
    neg_snr = _neg_snr(est.float(), tgt)
    loss = neg_snr + settings.reg * (vector - e0).pow(2).sum()
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    return -float(neg_snr.detach())


def learn(
    model: StreamingResUNet,
    examples: list[Example],
    interferers: Interferers,
    start: np.ndarray,
    settings: LearnSettings,
    progress: Callable[[int, float, float], None] | None = None,
) -> LearnResult:
    """Fit a conditioning vector to `examples`; returns the best one on the held-out part.

    Args:
        model: the frozen model (`model_for_bundle`).
        examples: the sound's examples at the model rate (`load_examples`); split here.
        interferers: what to mix them with.
        start: float32 [D], the starting vector (also the regulariser's centre).
        settings: the knobs.
        progress: called after each step with (step, training SNR dB, best held-out SDRi dB).

    Returns:
        The best vector seen (the start included), its held-out SDRi and the start's.
        Ctrl-C stops the fit and returns the best so far (`interrupted`).
    """
    began = time.perf_counter()
    rate = model.config.sample_rate
    train, held = split_examples(examples, rate)
    rng = np.random.default_rng(settings.seed)
    train_crops = _Crops(train, rate)
    val_rng = np.random.default_rng(settings.seed + 1)  # the same held-out set every check
    val_n = int(settings.val_segment_s * rate)
    val = mixtures(
        _Crops(held, rate), interferers, val_rng, settings.val_items, val_n, settings.snr_db
    )
    e0 = torch.from_numpy(np.asarray(start, np.float32).copy())  # [D]
    vector = e0.clone().requires_grad_(True)  # [D], the only trained tensor
    optimiser = torch.optim.Adam([vector], lr=settings.lr)
    start_score = held_out_sdri(model, start, *val)
    best, best_score = np.asarray(start, np.float32).copy(), start_score
    history = [(0, start_score)]
    n = int(settings.segment_s * rate)
    step, interrupted = 0, False
    try:
        for step in range(1, settings.steps + 1):
            batch = mixtures(train_crops, interferers, rng, settings.batch, n, settings.snr_db)
            snr = _train_step(model, vector, e0, optimiser, batch, settings)
            if step % settings.val_every == 0 or step == settings.steps:
                candidate = vector.detach().numpy().copy()
                score = held_out_sdri(model, candidate, *val)  # NaN never beats the best
                history.append((step, score))
                if score > best_score:
                    best, best_score = candidate, score
            if progress is not None:
                progress(step, snr, best_score)
    except KeyboardInterrupt:
        interrupted = True
    return LearnResult(
        vector=best.astype(np.float32),
        sdri_db=best_score,
        start_sdri_db=start_score,
        steps=step,
        seconds=time.perf_counter() - began,
        interrupted=interrupted,
        history=history,
    )


def settings_dict(settings: LearnSettings) -> dict[str, Any]:
    """The settings as JSON-ready values (stored with the query)."""
    d = asdict(settings)
    d["snr_db"] = list(settings.snr_db)
    return d
