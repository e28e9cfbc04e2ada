"""Speech expert (DeepFilterNet3) and the text-queried model, side by side.

    .venv/bin/python benchmarks/speech_expert.py --corpus /work/corpus_v2 [--items 40]

Mixtures of real speech and real noise from a corpus's held-out (`val`) clips: speech from
the "male speech" / "female speech" classes (recorded voices only: the synthetic `flite`
and `espeak-ng` renders are left out), noise from the non-vocal classes (recorded only:
soundfont renders are left out), 4 s, half at 0 dB and half at 5 dB SNR, fixed seed. Scored
at the corpus's rate (SDRi / SI-SDRi, dB, mean +- standard error over items):

- speech in noise, target = the speech: the model asked "speech" and asked its class
  ("a man speaking" / "a woman speaking"), DFN3 alone, livesep routed ("speech" with
  the expert on: must equal DFN3 alone), and the combination (DFN3, then the model asked
  the class on DFN3's output);
- the same mixtures, target = the noise: the model asked "remove the speech", and livesep
  routed (mixture minus DFN3, latency-aligned);
- male vs female (0 dB, with and without noise at 5 dB below the two voices), target =
  one voice asked by its class: the model alone, DFN3 alone (keeps both voices), and DFN3
  then the model.

Then one 10 ms hop's cost of each on one thread (CPU time per hop / 10 ms = real-time
factor): the expert at 48 kHz (`SpeechExpert.process`) and the bundle's step graph.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from livesep.expert import SpeechExpert, enhance, info
from livesep.metrics import sdri, si_sdri
from livesep.separate import Separator

SPEECH = ("male speech", "female speech")
QUERY = {"male speech": "a man speaking", "female speech": "a woman speaking"}
SYNTHETIC = ("flite", "espeak-ng")  # rendered voices, not recordings
VOCAL = ("singing", "scream", "laughter", "cough", "sneeze", "crowd", "beatbox")
SEGMENT_S = 4.0  # seconds per mixture
SNRS_DB = (0.0, 5.0)
PEAK = 0.9  # mixtures are scaled down to this peak when louder


def load(corpus: Path, row: dict, rate: int) -> np.ndarray:
    audio, sr = sf.read(str(corpus / row["path"]), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    return np.asarray(mono if sr == rate else soxr.resample(mono, sr, rate), np.float32)


def fit(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """A random n-sample crop of x, or x looped to n samples when shorter."""
    if x.size >= n:
        start = int(rng.integers(0, x.size - n + 1))
        return x[start : start + n].copy()
    return np.tile(x, -(-n // x.size))[:n].copy()


def energy(x: np.ndarray) -> float:
    return float(np.sum(x.astype(np.float64) ** 2)) + 1e-12


def at_snr(signal: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """`noise` scaled so that signal energy / noise energy = snr_db."""
    return (noise * np.sqrt(energy(signal) / energy(noise) / 10 ** (snr_db / 10))).astype(
        np.float32
    )


def pools(corpus: Path) -> tuple[dict[str, list[dict]], list[dict]]:
    speech: dict[str, list[dict]] = {c: [] for c in SPEECH}
    noise = []
    for line in (corpus / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        package = row["source"]["package"]
        if row["split"] != "val":
            continue
        if row["class"] in SPEECH and package not in SYNTHETIC:
            speech[row["class"]].append(row)
        elif row["class"] not in SPEECH + VOCAL and "soundfont" not in package:
            noise.append(row)
    return speech, noise


def build(corpus: Path, items: int, rate: int, seed: int) -> dict[str, list[dict]]:
    """The three sets of mixtures, each item: mixture, target, query, class."""
    rng = np.random.default_rng(seed)
    speech, noise = pools(corpus)
    n = round(SEGMENT_S * rate)
    sets: dict[str, list[dict]] = {"noisy": [], "mf": [], "mf+noise": []}
    for i in range(items):
        cls = SPEECH[i % 2]
        s = fit(load(corpus, speech[cls][rng.integers(len(speech[cls]))], rate), n, rng)
        z_row = noise[rng.integers(len(noise))]
        z = at_snr(s, fit(load(corpus, z_row, rate), n, rng), SNRS_DB[(i // 2) % 2])
        scale = min(1.0, PEAK / max(float(np.abs(s + z).max()), 1e-9))
        sets["noisy"].append(
            dict(
                mix=(s + z) * scale,
                speech=s * scale,
                noise=z * scale,
                cls=cls,
                noise_cls=z_row["class"],
                snr=SNRS_DB[(i // 2) % 2],
            )
        )
    for i in range(items // 2):
        m = fit(
            load(corpus, speech["male speech"][rng.integers(len(speech["male speech"]))], rate),
            n,
            rng,
        )
        f = fit(
            load(corpus, speech["female speech"][rng.integers(len(speech["female speech"]))], rate),
            n,
            rng,
        )
        f = at_snr(m, f, 0.0)
        cls = SPEECH[i % 2]
        target = m if cls == "male speech" else f
        z = at_snr(m + f, fit(load(corpus, noise[rng.integers(len(noise))], rate), n, rng), 5.0)
        for name, mix in (("mf", m + f), ("mf+noise", m + f + z)):
            scale = min(1.0, PEAK / max(float(np.abs(mix).max()), 1e-9))
            sets[name].append(dict(mix=mix * scale, target=target * scale, cls=cls))
    return sets


def score(rows: list[tuple[float, float]]) -> str:
    if not rows:
        return "(no mixtures)"
    a = np.array(rows)  # [N, 2]
    se = a.std(axis=0, ddof=1) / np.sqrt(len(a)) if len(a) > 1 else np.zeros(2)
    mean = a.mean(axis=0)
    return f"SDRi {mean[0]:6.2f} +- {se[0]:.2f}   SI-SDRi {mean[1]:6.2f} +- {se[1]:.2f}"


def both(est: np.ndarray, ref: np.ndarray, mix: np.ndarray) -> tuple[float, float]:
    return float(sdri(est, ref, mix)), float(si_sdri(est, ref, mix))


def run_quality(model: Separator, routed: Separator, sets: dict, rate: int) -> None:
    def ask(sep: Separator, mix: np.ndarray, query: str) -> np.ndarray:
        return sep.separate_array(mix, rate, query)[0]

    noisy = sets["noisy"]
    systems: dict[str, Callable[[dict], tuple[float, float]]] = {
        'model "speech"': lambda it: both(ask(model, it["mix"], "speech"), it["speech"], it["mix"]),
        "model, class query": lambda it: both(
            ask(model, it["mix"], QUERY[it["cls"]]), it["speech"], it["mix"]
        ),
        "DFN3 alone": lambda it: both(enhance(it["mix"], rate), it["speech"], it["mix"]),
        'livesep "speech" (routed)': lambda it: both(
            ask(routed, it["mix"], "speech"), it["speech"], it["mix"]
        ),
        "DFN3 then model, class query": lambda it: both(
            ask(model, enhance(it["mix"], rate), QUERY[it["cls"]]), it["speech"], it["mix"]
        ),
        'remove: model "remove the speech"': lambda it: both(
            ask(model, it["mix"], "remove the speech"), it["noise"], it["mix"]
        ),
        "remove: mixture - DFN3": lambda it: both(
            it["mix"] - enhance(it["mix"], rate), it["noise"], it["mix"]
        ),
        'remove: livesep "remove the speech" (routed)': lambda it: both(
            ask(routed, it["mix"], "remove the speech"), it["noise"], it["mix"]
        ),
    }
    print(f"\nspeech in noise: {len(noisy)} mixtures, SNR {SNRS_DB} dB, {rate} Hz")
    results: dict[str, list[tuple[float, float]]] = {}
    for name, fn in systems.items():
        rows = results[name] = [fn(it) for it in noisy]
        print(f"  {name:46s} {score(rows)}")
        for snr in SNRS_DB:
            sub = [r for r, it in zip(rows, noisy, strict=True) if it["snr"] == snr]
            print(f"  {'':4s}at {snr:.0f} dB {'':34s} {score(sub)}")
    paired(results, "DFN3 alone", 'model "speech"')
    paired(results, 'livesep "speech" (routed)', "DFN3 alone")
    paired(results, "remove: mixture - DFN3", 'remove: model "remove the speech"')
    for key in ("mf", "mf+noise"):
        items = sets[key]
        print(
            f"\n{key}: {len(items)} mixtures (male + female at 0 dB"
            f"{', noise 5 dB below' if key == 'mf+noise' else ''}), target asked by class"
        )
        pairs = {
            "model, class query": lambda it: ask(model, it["mix"], QUERY[it["cls"]]),
            "DFN3 alone (both voices)": lambda it: enhance(it["mix"], rate),
            "DFN3 then model, class query": lambda it: ask(
                model, enhance(it["mix"], rate), QUERY[it["cls"]]
            ),
        }
        results = {}
        for name, est in pairs.items():
            rows = results[name] = [both(est(it), it["target"], it["mix"]) for it in items]
            print(f"  {name:46s} {score(rows)}")
        paired(results, "DFN3 then model, class query", "model, class query")


def paired(results: dict[str, list[tuple[float, float]]], a: str, b: str) -> None:
    """Print the paired difference a - b over the same mixtures."""
    diff = [(x[0] - y[0], x[1] - y[1]) for x, y in zip(results[a], results[b], strict=True)]
    print(f"  paired: {a} - {b}: {score(diff)}")


def per_hop(step: Callable[[np.ndarray], object], x: np.ndarray, hop: int) -> tuple[float, float]:
    """(CPU ms, wall ms) per call of `step` over consecutive hops of x [..., T]."""
    hops = x.shape[-1] // hop
    wall, cpu = time.perf_counter(), time.thread_time()
    for i in range(hops):
        step(x[..., i * hop : (i + 1) * hop])
    return 1e3 * (time.thread_time() - cpu) / hops, 1e3 * (time.perf_counter() - wall) / hops


def run_cost(model: Separator, seconds: float = 10.0) -> None:
    """CPU time of one 10 ms hop on one thread, over `seconds` of noise."""
    from livesep.runner import StepRunner

    rng = np.random.default_rng(0)
    expert = SpeechExpert()
    out = np.zeros(expert.hop, np.float32)
    x = (0.05 * rng.standard_normal(round(seconds * expert.info.rate))).astype(np.float32)
    costs = {
        "DFN3 expert (48 kHz)": (
            per_hop(lambda f: expert.process(f, out), x, expert.hop),
            expert.hop / expert.info.rate,
        )
    }
    assert model.bundle is not None
    runner = StepRunner(model.bundle, threads=1)
    runner.set_embedding(model.read("speech").conditions)  # [1, D]
    rate = runner.sample_rate
    y = (0.05 * rng.standard_normal((1, round(seconds * rate)))).astype(np.float32)
    costs[f"model step ({rate // 1000} kHz)"] = (
        per_hop(runner.process, y, runner.block),
        runner.block / rate,
    )
    print(f"\ncost per hop on one thread over {seconds:.0f} s of noise:")
    for name, ((cpu_ms, wall_ms), hop_s) in costs.items():
        hop_ms = 1e3 * hop_s
        print(
            f"  {name:22s} CPU {cpu_ms:.3f} ms (RTF {cpu_ms / hop_ms:.3f}), "
            f"wall {wall_ms:.3f} ms (RTF {wall_ms / hop_ms:.3f}) per {hop_ms:.0f} ms hop"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default="/work/corpus_v2", help="corpus with val clips")
    parser.add_argument("--bundle", default=None, help="model bundle (default: models/default)")
    parser.add_argument("--items", type=int, default=40, help="speech-in-noise mixtures")
    parser.add_argument("--rate", type=int, default=32000, help="scoring rate, Hz")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cost-only", action="store_true", help="only the per-hop cost")
    args = parser.parse_args()
    model = Separator(args.bundle, expert=False)
    routed = Separator(args.bundle, expert=True)
    i = info()
    print(
        f"expert: {i.name} ({i.version}), {i.rate} Hz, hop {i.hop}, latency {i.latency} "
        f"samples ({i.latency_ms:.0f} ms), {i.licence}; model: {model.description}"
    )
    if not args.cost_only:
        sets = build(Path(args.corpus), args.items, args.rate, args.seed)
        run_quality(model, routed, sets, args.rate)
    run_cost(model)


if __name__ == "__main__":
    main()
