"""Keep and remove in one query, on the shipped model: does the sign come out right?

Mixture: the demo's speech and drums stems (examples/stems, our own renders) plus a third
sound, a violin melody rendered through FluidR3_GM with fluidsynth (as the demo's drums;
needs the tools `examples/make_example.py` unpacks, cached in ~/.cache/livesep), all
mono at 16 kHz, each at its own peak 0.3. The drums play the noise to remove. Each query's
output is scored (SDR, dB) against speech + violin (what removing the drums should leave),
against the speech alone, and against the drums (what the wrong sign would give).

With `--corpus`, the same questions on many mixtures of real speech, a real noise and a
third sound (`--items`, held-out clips of the corpus: speech from the recorded "male
speech" / "female speech" clips, the noise from a recorded non-vocal class, the third
sound from another class), and every way of combining the batched rows' estimates side by
side, paired on the same mixtures (`VARIANTS`): "speech, not NOISE" against the speech
(and the plain "speech" query), "remove NOISE" against speech + the third sound; with the
speech expert (DeepFilterNet3) as the kept speech estimate too, when it is installed.

    .venv/bin/python benchmarks/compound_queries.py [--bundle models/default]
    .venv/bin/python benchmarks/compound_queries.py --corpus /work/corpus_v2 [--items 32]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

ROOT = Path(__file__).resolve().parent.parent
RATE = 16000  # Hz
QUERIES = [
    "drums",
    "remove the drums",
    "everything but the drums",
    "no drums",
    "a man speaking",
    "a man speaking, not the drums",
    "a man speaking and a violin, not the drums",
]


def _stem(name: str, n: int | None = None) -> np.ndarray:
    audio, rate = sf.read(ROOT / "examples" / "stems" / name, dtype="float32", always_2d=True)
    x = soxr.resample(audio.mean(axis=1), rate, RATE).astype(np.float32)
    return x if n is None else np.pad(x, (0, max(0, n - x.size)))[:n]


def _violin(n: int) -> np.ndarray:
    from livesep.training.debs import PackageStore
    from livesep.training.renderers import builtin_tune, render_midi, write_midi

    store = PackageStore(Path.home() / ".cache" / "livesep")
    synth, env, _ = store.tool("fluidsynth", "fluidsynth")
    sf2 = store.unpack("fluid-soundfont-gm").root / "usr/share/sounds/sf2/FluidR3_GM.sf2"
    with tempfile.TemporaryDirectory() as tmp:
        midi, wav = Path(tmp, "v.mid"), Path(tmp, "v.wav")
        write_midi(midi, builtin_tune(np.random.default_rng(3), False, 24.0), 40, 120.0, 90)
        render_midi(synth, env, sf2, midi, wav, RATE)
        audio, _ = sf.read(wav, dtype="float32", always_2d=True)
    x = audio.mean(axis=1)
    return np.pad(x, (0, max(0, n - x.size)))[:n].astype(np.float32)


def _peak(x: np.ndarray, level: float = 0.3) -> np.ndarray:
    return (x * level / (np.abs(x).max() + 1e-9)).astype(np.float32)


# ---------------------------------------------------------------------------------------
# Combining the rows: kept estimate K, removed estimate R, mixture X (all [T], aligned)

N_FFT, HOP = 512, 128  # samples at 16 kHz: the spectral variants' analysis (offline, here)
EPS = 1e-8


def _spec(x: np.ndarray) -> np.ndarray:
    from scipy.signal import stft

    return stft(x, nperseg=N_FFT, noverlap=N_FFT - HOP)[2]  # [F, frames] complex


def _wave(z: np.ndarray, n: int) -> np.ndarray:
    from scipy.signal import istft

    y = istft(z, nperseg=N_FFT, noverlap=N_FFT - HOP)[1]
    return np.pad(y, (0, max(0, n - y.size)))[:n].astype(np.float32)


def keep_variants(k: np.ndarray, r: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    """Ways to answer "K, not R" from the rows' estimates."""
    n = x.size
    sk, sr, sx = _spec(k), _spec(r), _spec(x)
    alpha = np.clip(np.real(sk * np.conj(sr)) / (np.abs(sr) ** 2 + EPS), 0.0, 1.0)  # [F, t]
    return {
        "K - R (sum; shipped before)": k - r,
        "K alone": k,
        "K - 0.5 R": k - 0.5 * r,
        "K - 0.25 R": k - 0.25 * r,
        "K - proj_K(R) per bin": _wave(sk - alpha * sr, n),
        "K * (1 - |R|/|X|) mask": _wave(sk * np.clip(1 - np.abs(sr) / (np.abs(sx) + EPS), 0, 1), n),
        "K * |K|^2/(|K|^2+|R|^2)": _wave(
            sk * np.abs(sk) ** 2 / (np.abs(sk) ** 2 + np.abs(sr) ** 2 + EPS), n
        ),
    }


def remove_variants(r: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    """Ways to answer "remove R" (nothing kept) from the mixture and R's estimate."""
    n = x.size
    sr, sx = _spec(r), _spec(x)
    return {
        "X - R (sum; shipped)": x - r,
        "X - 0.5 R": x - 0.5 * r,
        "X * (1 - |R|/|X|) mask": _wave(sx * np.clip(1 - np.abs(sr) / (np.abs(sx) + EPS), 0, 1), n),
    }


def _corpus_mixtures(corpus: Path, items: int, seed: int) -> list[dict]:
    """Real speech + a real noise (0 or 5 dB SNR) + a third sound (5 dB below the speech)."""
    import json

    speech: list[dict] = []
    noise: dict[str, list[dict]] = {}
    third: dict[str, list[dict]] = {}
    vocal = ("singing", "scream", "laughter", "cough", "sneeze", "crowd", "beatbox")
    for line in (corpus / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        cls, package = row["class"], row["source"]["package"]
        if row["split"] != "val" or cls in vocal:
            continue
        if cls in ("male speech", "female speech"):
            if package not in ("flite", "espeak-ng"):  # recorded voices only
                speech.append(row)
        elif "soundfont" in package:
            third.setdefault(cls, []).append(row)
        else:
            noise.setdefault(cls, []).append(row)
    rng = np.random.default_rng(seed)
    n = round(4.0 * RATE)
    out = []

    def clip(row: dict) -> np.ndarray:
        audio, rate = sf.read(str(corpus / row["path"]), dtype="float32", always_2d=True)
        x = soxr.resample(audio.mean(axis=1), rate, RATE).astype(np.float32)
        if x.size >= n:
            start = int(rng.integers(0, x.size - n + 1))
            return x[start : start + n]
        return np.tile(x, -(-n // x.size))[:n]

    def scaled(ref: np.ndarray, x: np.ndarray, db: float) -> np.ndarray:
        gain = np.sqrt(np.sum(ref**2) / (np.sum(x**2) + 1e-12) / 10 ** (db / 10))
        return (x * gain).astype(np.float32)

    noise_classes, third_classes = sorted(noise), sorted(third)
    for i in range(items):
        s = clip(speech[rng.integers(len(speech))])
        z_cls = noise_classes[rng.integers(len(noise_classes))]
        t_cls = third_classes[rng.integers(len(third_classes))]
        z = scaled(s, clip(noise[z_cls][rng.integers(len(noise[z_cls]))]), (0.0, 5.0)[i % 2])
        t = scaled(s, clip(third[t_cls][rng.integers(len(third[t_cls]))]), 5.0)
        peak = max(float(np.abs(s + z + t).max()), 1e-9)
        g = min(1.0, 0.9 / peak)
        out.append(dict(speech=s * g, noise=z * g, third=t * g, noise_cls=z_cls, third_cls=t_cls))
    return out


def _paired(rows: dict[str, list[float]], base: str) -> None:
    ref = np.array(rows[base])
    for name, values in rows.items():
        v = np.array(values)
        d = v - ref
        se = d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else 0.0
        print(f"  {name:<34} {v.mean():7.2f}   {d.mean():+6.2f} +- {se:4.2f}", flush=True)


def corpus_bench(args: argparse.Namespace) -> int:
    from livesep import expert
    from livesep.metrics import sdr
    from livesep.separate import Separator

    mixtures = _corpus_mixtures(args.corpus, args.items, args.seed)
    sep = Separator(args.bundle)
    use_expert = expert.available() and not args.no_expert
    routed = Separator(args.bundle, expert=True) if use_expert else None
    print(
        f"bundle {sep.description}; {len(mixtures)} mixtures of 4 s at {RATE} Hz: "
        f"speech + noise (0/5 dB SNR) + third sound (-5 dB); expert {use_expert}"
    )
    keep: dict[str, list[float]] = {}  # SDR vs speech
    keep_noise: dict[str, list[float]] = {}  # SDR vs noise (never the noise)
    remove: dict[str, list[float]] = {}  # SDR vs speech + third
    for m in mixtures:
        x = m["speech"] + m["noise"] + m["third"]
        noise_q = m["noise_cls"]
        request = sep.read(f"speech, not {noise_q}")
        assert [(s.text, s.keep) for s in request.sounds] == [("speech", True), (noise_q, False)]
        compound = f"speech, not {noise_q}"
        k, r, r_only, shipped = sep.separate_array(
            x, RATE, ["speech", noise_q, f"remove {noise_q}", compound]
        )
        rows = {"plain 'speech' (model)": k, "'speech, not NOISE' as shipped": shipped}
        rows |= keep_variants(k, r, x)
        if routed is not None:
            d = expert.enhance(x, RATE)
            rows["plain 'speech' (expert)"] = d
            (rows["[expert] 'speech, not NOISE' shipped"],) = routed.separate_array(
                x, RATE, [compound]
            )
            rows |= {f"[expert] {name}": y for name, y in keep_variants(d, r, x).items()}
        for name, y in rows.items():
            keep.setdefault(name, []).append(float(sdr(y, m["speech"])))
            keep_noise.setdefault(name, []).append(float(sdr(y, m["noise"])))
        rest = m["speech"] + m["third"]
        rem = {"(the mixture)": x, "'remove NOISE' as shipped": r_only} | remove_variants(r, x)
        for name, y in rem.items():
            remove.setdefault(name, []).append(float(sdr(y, rest)))
    print('\n"speech, not NOISE": SDR vs the speech (dB), paired against the plain model query')
    print(f"  {'variant':<34} {'mean':>7}   {'paired':>14}")
    _paired(keep, "plain 'speech' (model)")
    print("\n  the same outputs: SDR vs the noise (dB; the lower, the less noise)")
    _paired(keep_noise, "plain 'speech' (model)")
    print('\n"remove NOISE" / "everything but NOISE": SDR vs speech + third (dB)')
    _paired(remove, "(the mixture)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--corpus", type=Path, help="corpus with held-out (val) clips")
    parser.add_argument("--items", type=int, default=32, help="mixtures (with --corpus)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-expert", action="store_true", help="skip the speech expert rows")
    args = parser.parse_args(argv)
    if args.corpus is not None:
        return corpus_bench(args)

    from livesep.metrics import sdr
    from livesep.separate import Separator

    speech = _peak(_stem("speech.wav"))
    n = speech.size
    drums, violin = _peak(_stem("drums.wav", n)), _peak(_violin(n))
    mixture = speech + drums + violin  # [T]
    rest = speech + violin
    sep = Separator(args.bundle)
    print(f"bundle {sep.description}; {n / RATE:.1f} s at {RATE} Hz: speech + drums + violin")
    print(f"{'query':<44} {'reads as':<34} vs speech+violin  vs speech  vs drums  (dB SDR)")
    print(
        f"{'(the mixture itself)':<44} {'':<34} {float(sdr(mixture, rest)):8.2f}  "
        f"{float(sdr(mixture, speech)):8.2f}  {float(sdr(mixture, drums)):8.2f}"
    )
    outputs = sep.separate_array(mixture, RATE, QUERIES)
    for query, y in zip(QUERIES, outputs, strict=True):
        request = sep.read(query)
        print(
            f"{query!r:<44} {request.describe()[:34]:<34} {float(sdr(y, rest)):8.2f}  "
            f"{float(sdr(y, speech)):8.2f}  {float(sdr(y, drums)):8.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
