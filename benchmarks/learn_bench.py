"""Query by example (`livesep learn`) against the best text query, on sounds the model
never trained on, and on one voice against another.

    python benchmarks/learn_bench.py sounds --corpus /work/corpus_v2 --out /tmp/lb_sounds.json
    python benchmarks/learn_bench.py voices --corpus /work/corpus_v2 --out /tmp/lb_voices.json
    python benchmarks/learn_bench.py hop --out /tmp/lb_hop.json

sounds: per class, a query learned from <= 30 s of some recordings of the class (whole
  files), tested on the class's *other* recordings, each mixed at 0 dB with a real
  recording of another class (corpus v2 val clips); against every text caption of the
  class as the hosts read it (snapped) and the best of them per class (chosen on the test
  itself: generous to text). Classes: corpus v2's zero-shot classes with enough audio
  (banjo, tabla, goat; duck and frog hold 2-3 s in all) and GM instruments not in corpus
  v2 rendered by fluidsynth from FluidR3_GM (learned from some melodies, tested on others).
  Each class is learned with each interferer source in `--interferers`.
sounds: a voice learned from 30 s of one speaker (corpus v2 speech, speakers = a package
  and a sex), tested on that speaker's other utterances mixed at 0 dB with another speaker
  of the other sex and of the same sex; against "speech" and the sex's text query.
hop: per-hop cost of the step graph conditioned by a text query vs a learned vector,
  interleaved (ONNX Runtime, one thread).

Separation here runs the torch model rebuilt from the bundle (checked against its ONNX
graphs to 1e-4 by `model_for_bundle`), whole clip, one thread.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from livesep.bundle import default_bundle_path, load_bundle
from livesep.query import QueryReader
from livesep.training import learn as lr
from livesep.training.manifest import audio_path, read_manifest

RATE = 16000  # Hz, the default model's
LEARN_S = 30.0  # seconds of examples at most
TEST_ITEMS = 12  # mixtures per class
TEST_S = 3.0  # seconds per test mixture
# GM programs (0-based) of instruments corpus v2 does not have, with text queries.
RENDERED = {
    "bagpipe": (109, ["bagpipes", "a bagpipe playing", "the sound of bagpipes"]),
    "sitar": (104, ["a sitar", "a sitar playing", "sitar music"]),
    "steel drums": (114, ["steel drums", "a steel drum playing", "steelpan music"]),
    "harmonica": (22, ["a harmonica", "a harmonica playing", "harmonica music"]),
}
# Real single-speaker packages of corpus v2 (espeak-ng and flite are synthetic voices);
# klettres/ktuberling hold several real speakers per sex (used only when no single one is left).
ONE_SPEAKER = {
    "asterisk-core-sounds-en-wav",
    "asterisk-core-sounds-es-wav",
    "asterisk-core-sounds-fr-wav",
    "asterisk-core-sounds-it-wav",
    "asterisk-core-sounds-ru-wav",
    "asterisk-prompt-es-co",
    "asterisk-prompt-fr-armelle",
}
SEVERAL_SPEAKERS = {"klettres-data", "ktuberling-data"}
FLUID = Path("/root/.cache/livesep/pkg/fluid-soundfont-gm/usr/share/sounds/sf2/FluidR3_GM.sf2")


def _unit_rms(x: np.ndarray) -> np.ndarray:
    return (x / (np.sqrt(np.mean(x**2)) + 1e-8)).astype(np.float32)


def _crop(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    if len(x) < n:
        x = np.tile(x, n // len(x) + 1)
    start = int(rng.integers(0, len(x) - n + 1))
    return x[start : start + n]


def test_mixtures(
    targets: list[np.ndarray], others: list[np.ndarray], seed: int, snr_db: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """[TEST_ITEMS, T] mixtures of target crops with other-class crops at `snr_db`."""
    rng = np.random.default_rng(seed)
    n = int(TEST_S * RATE)
    mix, tgt = np.zeros((TEST_ITEMS, n), np.float32), np.zeros((TEST_ITEMS, n), np.float32)
    for i in range(TEST_ITEMS):
        s = _unit_rms(_crop(targets[i % len(targets)], n, rng)) * 0.05
        o = _unit_rms(_crop(others[int(rng.integers(len(others)))], n, rng)) * 0.05
        tgt[i], mix[i] = s, s + o * 10 ** (-snr_db / 20)
    return mix, tgt


def score(model, vector: np.ndarray, mix: np.ndarray, tgt: np.ndarray) -> float:
    return lr.held_out_sdri(model, vector, mix, tgt)


def fit(model, bundle, files: list[Path], recordings: list[lr.Example], seed: int) -> dict:
    examples = lr.load_examples(files, RATE, "example", lr.MIN_ACTIVE_S)
    examples = lr.cap_total(examples, RATE, LEARN_S)
    start, _ = lr.start_vector(bundle)
    settings = lr.LearnSettings(seed=seed)
    result = lr.learn(model, examples, lr.Interferers(recordings, RATE), start, settings)
    return {
        "vector": result.vector,
        "seconds": result.seconds,
        "held_out_sdri": result.sdri_db,
        "learn_s": sum(len(e.audio) for e in examples) / RATE,
    }


def _load(paths: list[Path]) -> list[np.ndarray]:
    return [e.audio for e in lr.load_examples(paths, RATE)]


def corpus_records(corpus: Path) -> tuple[Path, list[dict]]:
    manifest = corpus / "manifest.jsonl"
    return manifest, read_manifest(manifest)


def other_class_clips(manifest: Path, records: list[dict], exclude: set[str], seed: int) -> list:
    """Real interferers for the test: 2 val clips of every other class."""
    rng = np.random.default_rng(seed)
    by: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        if r["split"] == "val" and r["class"] not in exclude:
            by[r["class"]].append(r)
    paths = []
    for cls in sorted(by):
        for i in rng.permutation(len(by[cls]))[:2]:
            paths.append(audio_path(manifest, by[cls][i]))
    return _load(paths)


def render_class(program: int, tunes: range, folder: Path) -> list[Path]:
    """One file per tune seed: a builtin melody on `program`, rendered at RATE."""
    from livesep.training.debs import PackageStore
    from livesep.training.renderers import builtin_tune, render_midi, write_midi

    argv, env, _ = PackageStore(Path("/root/.cache/livesep")).tool("fluidsynth", "fluidsynth")
    out = []
    for seed in tunes:
        midi, wav = folder / f"p{program}_{seed}.mid", folder / f"p{program}_{seed}.wav"
        notes = builtin_tune(np.random.default_rng(seed), polyphonic=False, beats=10.0)
        write_midi(midi, notes, program, bpm=120.0, velocity=100)
        render_midi(argv, env, FLUID, midi, wav, RATE)
        out.append(wav)
    return out


def text_scores(model, reader: QueryReader, captions: list[str], mix, tgt) -> dict[str, float]:
    return {c: score(model, reader.read(c).sounds[0].embedding, mix, tgt) for c in captions}


def run_sounds(args: argparse.Namespace) -> dict:
    bundle = load_bundle(default_bundle_path())
    model = lr.model_for_bundle(bundle)
    reader = QueryReader(bundle)
    manifest, records = corpus_records(args.corpus)
    classes = json.loads((args.corpus / "classes.json").read_text())
    start, _ = lr.start_vector(bundle)
    out: dict = {"load_before": os.getloadavg(), "classes": {}}
    tmp = Path(tempfile.mkdtemp(prefix="learn_bench_"))
    cases: dict[str, tuple[list[Path], list[Path], list[str]]] = {}
    for cls in args.classes:
        if cls in RENDERED:
            program, captions = RENDERED[cls]
            learn = render_class(program, range(0, 6), tmp)  # 6 melodies x ~5 s
            test = render_class(program, range(100, 106), tmp)  # 6 other melodies
            cases[cls] = (learn, test, captions)
            continue
        clips = [r for r in records if r["class"] == cls]
        by_file: dict[str, list[dict]] = defaultdict(list)
        for r in clips:
            by_file[r["source"]["path"]].append(r)
        files = sorted(by_file)
        order = np.random.default_rng(0).permutation(len(files))
        test_files = {files[i] for i in order[: max(1, len(files) // 2)]}
        learn = [audio_path(manifest, r) for f in files if f not in test_files for r in by_file[f]]
        test = [audio_path(manifest, r) for f in sorted(test_files) for r in by_file[f]]
        info = classes[cls]
        captions = list(dict.fromkeys(info["val_captions"] + info["train_captions"]))[:12]
        cases[cls] = (learn, test, captions)
    others_all = other_class_clips(manifest, records, set(), 1)
    for cls, (learn, test, captions) in cases.items():
        others = other_class_clips(manifest, records, {cls}, 1) if cls in classes else others_all
        mix, tgt = test_mixtures(_load(test), others, seed=7)
        texts = text_scores(model, reader, captions, mix, tgt)
        best = max(texts, key=lambda c: texts[c])
        row = {
            "learn_files": len(learn),
            "test_files": len(test),
            "text": texts,
            "best_text": best,
            "best_text_sdri": texts[best],
            "start_sdri": score(model, start, mix, tgt),
            "learned": {},
        }
        for source in args.interferers:
            recordings = []
            if source in ("corpus", "both"):
                recordings = lr.corpus_interferers(args.corpus, RATE, exclude=[cls])
            share = 0.3 if source == "both" else 0.0  # synthetic noises among the interferers
            interferers = lr.Interferers(recordings, RATE, synthetic=share)
            if source == "synthetic":
                interferers = lr.Interferers([], RATE)
            examples = lr.cap_total(lr.load_examples(learn, RATE, "example", 1.0), RATE, LEARN_S)
            settings = lr.LearnSettings(seed=0, steps=args.steps, lr=args.lr, reg=args.reg)
            began = time.perf_counter()
            first, label = start, "mean"
            if args.init == "search":
                first, label = lr.search_start(model, bundle, examples, interferers)
            searched = time.perf_counter() - began
            result = lr.learn(model, examples, interferers, first, settings)
            row["learned"][source] = {
                "init": label,
                "search_s": searched,
                "init_test_sdri": score(model, first, mix, tgt),
                "test_sdri": score(model, result.vector, mix, tgt),
                "held_out_sdri": result.sdri_db,
                "seconds": result.seconds,
                "learn_s": sum(len(e.audio) for e in examples) / RATE,
            }
            print(cls, source, json.dumps(row["learned"][source]), file=sys.stderr)
        print(cls, "best text", best, round(texts[best], 2), file=sys.stderr)
        out["classes"][cls] = row
    out["load_after"] = os.getloadavg()
    return out


def speakers(records: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """(package, class) -> clips: one real speaker per key in corpus v2's speech classes."""
    by: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in records:
        if r["class"] in ("female speech", "male speech"):
            by[(r["source"]["package"], r["class"])].append(r)
    return by


def run_voices(args: argparse.Namespace) -> dict:
    bundle = load_bundle(default_bundle_path())
    model = lr.model_for_bundle(bundle)
    reader = QueryReader(bundle)
    manifest, records = corpus_records(args.corpus)
    spk = speakers(records)
    sizes = {k: sum(r["duration_s"] for r in v) for k, v in spk.items()}
    print({f"{k[0]}/{k[1]}": round(v) for k, v in sorted(sizes.items())}, file=sys.stderr)
    out: dict = {"load_before": os.getloadavg(), "voices": {}}
    for target in args.speakers:
        pkg, cls = target.split("/")
        clips = sorted(spk[(pkg, cls)], key=lambda r: r["path"])
        order = np.random.default_rng(0).permutation(len(clips))
        test = [clips[i] for i in order[: len(clips) // 2]]
        learn = [clips[i] for i in order[len(clips) // 2 :]]
        learn_paths, total = [], 0.0
        for r in learn:  # 30 s of this speaker
            if total >= LEARN_S:
                break
            learn_paths.append(audio_path(manifest, r))
            total += r["duration_s"]
        test_audio = _load([audio_path(manifest, r) for r in test[:TEST_ITEMS]])
        other_sex = "male speech" if cls == "female speech" else "female speech"
        rows = {}
        for label, want in (("other sex", other_sex), ("same sex", cls)):
            cands = [k for k in spk if k[1] == want and k[0] != pkg and k[0] in ONE_SPEAKER]
            cands = cands or [k for k in spk if k[1] == want and k[0] in SEVERAL_SPEAKERS]
            other = max(cands, key=lambda k: sizes[k])
            other_audio = _load([audio_path(manifest, r) for r in spk[other][:24]])
            mix, tgt = test_mixtures(test_audio, other_audio, seed=11)
            rows[label] = {"interferer": f"{other[0]}/{other[1]}", "mix": mix, "tgt": tgt}
        start, _ = lr.start_vector(bundle)
        row: dict = {"learn_s": min(total, LEARN_S), "learn_files": len(learn_paths), "cases": {}}
        texts = ["speech", "a woman speaking" if cls == "female speech" else "a man speaking"]
        for source in args.interferers:
            recordings = []
            if source == "corpus":  # other speakers and other sounds, never the target
                others = [
                    audio_path(manifest, r)
                    for k, v in spk.items()
                    if k != (pkg, cls)
                    for r in v[:3]
                ]
                recordings = lr.load_examples(others, RATE)
                recordings += lr.corpus_interferers(
                    args.corpus, RATE, exclude=["female speech", "male speech"]
                )
            examples = lr.cap_total(
                lr.load_examples(learn_paths, RATE, "example", 1.0), RATE, LEARN_S
            )
            interferers = lr.Interferers(recordings, RATE, synthetic=0.0 if recordings else 1.0)
            settings = lr.LearnSettings(seed=0, steps=args.steps, lr=args.lr, reg=args.reg)
            first = start
            if args.init == "search":
                first, row[f"init_{source}"] = lr.search_start(model, bundle, examples, interferers)
            result = lr.learn(model, examples, interferers, first, settings)
            for label, case in rows.items():
                c = row["cases"].setdefault(label, {"interferer": case["interferer"]})
                c[f"learned_{source}"] = score(model, result.vector, case["mix"], case["tgt"])
                c[f"seconds_{source}"] = result.seconds
                for t in texts:
                    vector = reader.read(t).sounds[0].embedding
                    c[t] = score(model, vector, case["mix"], case["tgt"])
            print(target, source, json.dumps(row["cases"]), file=sys.stderr)
        out["voices"][target] = row
    out["load_after"] = os.getloadavg()
    return out


def run_hop(args: argparse.Namespace) -> dict:
    from livesep.runner import StepRunner

    bundle = load_bundle(default_bundle_path())
    text = QueryReader(bundle).read("drums").sounds[0].embedding
    learned = (np.random.default_rng(0).standard_normal(bundle.encoder_dim) * 0.05).astype(
        np.float32
    )
    runners = {}
    for name, vec in (("text", text), ("learned", learned)):
        runners[name] = StepRunner(bundle, providers=["cpu"], threads=1)
        runners[name].set_embedding(vec)
    hop = np.random.default_rng(1).standard_normal((1, bundle.hop)).astype(np.float32) * 0.1
    times: dict[str, list[float]] = {"text": [], "learned": []}
    for _ in range(args.hops):  # interleaved: both see the same load
        for name, runner in runners.items():
            t = time.perf_counter()
            runner.process(hop)
            times[name].append(time.perf_counter() - t)
    return {
        name: {
            "median_ms": 1e3 * float(np.median(v)),
            "p99_ms": 1e3 * float(np.percentile(v, 99)),
        }
        for name, v in times.items()
    } | {"hops": args.hops, "load": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["sounds", "voices", "hop"])
    parser.add_argument("--corpus", type=Path, default=Path("/work/corpus_v2"))
    parser.add_argument("--classes", nargs="+", default=["banjo", "tabla", "goat", *RENDERED])
    parser.add_argument(
        "--speakers",
        nargs="+",
        default=[
            "asterisk-core-sounds-en-wav/female speech",
            "asterisk-core-sounds-it-wav/male speech",
        ],
    )
    parser.add_argument(
        "--interferers", nargs="+", default=["synthetic", "corpus"], help="synthetic|corpus|both"
    )
    parser.add_argument("--hops", type=int, default=3000)
    parser.add_argument("--steps", type=int, default=120, help="learn steps")
    parser.add_argument("--lr", type=float, default=0.03, help="learn: Adam learning rate")
    parser.add_argument("--reg", type=float, default=1e-3, help="learn: pull towards the start")
    parser.add_argument("--init", choices=["mean", "search"], default="search")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    result = {"sounds": run_sounds, "voices": run_voices, "hop": run_hop}[args.what](args)
    text = json.dumps(result, indent=1, default=float)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
