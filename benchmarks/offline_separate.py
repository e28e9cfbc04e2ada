"""Offline separation: peak memory vs input length, and real-time factor.

Each measurement runs `livesep.separate.Separator.separate_file` in a fresh child process
and reports the child's peak resident memory (ru_maxrss), its RSS after loading the model
(before separating) and the wall time of the separation itself. Inputs are written block by
block (a 1-hour file never sits in memory here either).

    .venv/bin/python benchmarks/offline_separate.py                  # 1 min vs 1 h, tiny bundle
    .venv/bin/python benchmarks/offline_separate.py --minutes 1 10   # other lengths
    .venv/bin/python benchmarks/offline_separate.py --model-rtf 30   # + a default-size model

The tiny delay bundle (tests/helpers/tiny_bundle.py) costs nearly nothing per hop, so its
RTF is the pipeline's own overhead (reading, soxr both ways, batching, writing).
`--model-rtf S` also exports a randomly initialised StreamingResUNet with the default config
(the shipped model's size) and separates S seconds with it.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
BLOCK_S = 10  # seconds written per block when making an input


def make_input(path: Path, seconds: float, rate: int, channels: int) -> None:
    """Pink-ish noise + tones, PCM 16, written in blocks."""
    rng = np.random.default_rng(0)
    total = int(seconds * rate)
    with sf.SoundFile(path, "w", rate, channels, subtype="PCM_16") as f:
        for start in range(0, total, BLOCK_S * rate):
            n = min(BLOCK_S * rate, total - start)
            t = (start + np.arange(n)) / rate
            tone = 0.2 * np.sin(2 * np.pi * 440 * t)
            block = tone[:, None] + 0.05 * rng.standard_normal((n, channels))
            f.write(block.astype(np.float32))


def child(args: argparse.Namespace) -> None:
    """Runs in the child process: load, separate, print one JSON line."""
    from livesep.separate import Separator

    sep = Separator(bundle=args.bundle, threads=1)
    sep.read("speech")  # text before timing (cached in the bundle or encoded here)
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB
    start = time.perf_counter()
    sep.separate_file(args.input, "speech", args.output, overwrite=True)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB
    audio_s = sf.info(args.input).duration
    print(
        json.dumps({"peak_mib": peak, "loaded_mib": rss_loaded, "s": seconds, "audio_s": audio_s})
    )


def measure(bundle: Path, input: Path, output: Path) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", str(bundle), str(input), str(output)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def tiny_bundle(tmp: Path) -> Path:
    sys.path.insert(0, str(ROOT / "tests"))
    from helpers.tiny_bundle import make_delay_bundle

    # The default model's audio parameters: 32 kHz, hop 320, n_fft 1024, chunk of 50 hops.
    return make_delay_bundle(tmp, sample_rate=32000, hop=320, n_fft=1024, chunk_hops=50).path


def model_bundle(tmp: Path) -> Path:
    import torch

    from livesep.export.bundle_export import export_bundle
    from livesep.model.streaming import StreamingConfig, StreamingResUNet

    torch.manual_seed(0)
    model = StreamingResUNet(StreamingConfig())
    return export_bundle(model, tmp / "model", queries=["speech"], name="random-default").path


def binding_overhead(bundle: Path, calls: int = 3000) -> None:
    """Median time per step call with and without IO binding (interleaved rounds)."""
    from livesep.runner import StepRunner

    runners = {flag: StepRunner(bundle, io_binding=flag) for flag in (True, False)}
    x = np.zeros((1, runners[True].block), np.float32)
    out = np.empty_like(x)
    times: dict[bool, list[float]] = {True: [], False: []}
    for runner in runners.values():
        runner.set_embedding(runner.bundle.embeddings["speech"])
    for _ in range(calls // 100):
        for flag, runner in runners.items():
            for _ in range(100):
                start = time.perf_counter()
                runner.process(x, out=out)
                times[flag].append(time.perf_counter() - start)
    for flag in (True, False):
        label = "with IO binding" if flag else "plain session.run"
        print(f"step call, {label:<18} median {np.median(times[flag]) * 1e6:6.1f} us")


def report(name: str, r: dict[str, float]) -> None:
    rtf = r["s"] / r["audio_s"]
    print(
        f"{name:<34} audio {r['audio_s'] / 60:7.1f} min  separate {r['s']:8.1f} s  "
        f"RTF {rtf:.4f}  RSS after load {r['loaded_mib']:6.1f} MiB  peak {r['peak_mib']:6.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, metavar=("BUNDLE", "INPUT", "OUTPUT"))
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 60])
    parser.add_argument("--rate", type=int, default=44100, help="input sample rate, Hz")
    parser.add_argument("--channels", type=int, default=2)
    parser.add_argument("--model-rtf", type=float, default=0, metavar="SECONDS")
    args = parser.parse_args()
    if args.child:
        args.bundle, args.input, args.output = args.child
        child(args)
        return
    with tempfile.TemporaryDirectory(prefix="livesep-bench-") as name:
        tmp = Path(name)
        bundle = tiny_bundle(tmp)
        binding_overhead(bundle)
        print(f"input: {args.rate} Hz, {args.channels} ch, PCM_16 WAV; model rate 32000 Hz")
        results = {}
        for minutes in args.minutes:
            src = tmp / f"in_{minutes:g}min.wav"
            make_input(src, minutes * 60, args.rate, args.channels)
            results[minutes] = measure(bundle, src, tmp / "out.wav")
            report(f"tiny delay bundle, {minutes:g} min", results[minutes])
            src.unlink()
        if len(results) >= 2:
            lo, hi = results[min(results)], results[max(results)]
            print(f"peak memory {max(results):g} min / {min(results):g} min: "
                  f"{hi['peak_mib'] / lo['peak_mib']:.3f}")  # fmt: skip
        if args.model_rtf:
            mb = model_bundle(tmp)
            binding_overhead(mb, calls=500)
            src = tmp / "in_model.wav"
            make_input(src, args.model_rtf, args.rate, args.channels)
            report("random default StreamingResUNet", measure(mb, src, tmp / "out.wav"))


if __name__ == "__main__":
    main()
