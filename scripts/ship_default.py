"""Evaluate a training run and ship it as the default bundle (models/default).

    python scripts/ship_default.py --run runs/default --corpus corpus \
        --bench bench/val16k --out models/default --report docs/default_model

1. Scores the run's `last.pt` (torch, whole clip: identical to the streaming graph, which
   `livesep export` verifies to 1e-4) on the bench built from the corpus's held-out
   packages and zero-shot classes: SDR, SDRi, SI-SDR per class, the wrong-query control and
   the ideal-ratio-mask oracle; writes report.json / report.md / PNGs to --report.
   Queries are snapped onto the training captions as the bundle's hosts do
   (`livesep.query.snap`, temperature SNAP_TEMPERATURE).
2. Exports the bundle with the preset queries' embeddings cached, the training captions'
   embeddings as its query bank, the provenance (corpus
   packages, training config, steps, wall time, machine) and the figures in its manifest.
3. Keeps what a later session needs to continue: the model weights (weights_only) under
   models/checkpoints/default.pt. No optimizer state goes into git (it tripled each
   re-ship's weight); a later phase starts from these weights with a fresh optimizer
   (`init_from=models/checkpoints/default.pt optim.schedule_start=STEP`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch

from livesep.export.bundle_export import caption_bank, export_bundle
from livesep.model import load_checkpoint, save_checkpoint
from livesep.query import snap
from livesep.training import evaluate as ev

PRESETS = [
    "a man speaking",
    "a woman speaking",
    "speech",
    "drums",
    "piano",
    "violin",
    "acoustic guitar",
    "birdsong",
    "rain",
    "wind",
    "footsteps",
    "fire crackling",
]


SNAP_TEMPERATURE = 0.05  # cosine units; benchmarks/RESULTS.md "Query snapping"
# Cosine to the nearest training caption below which hosts warn "does not know" (measured
# for the step-37000 bundle, benchmarks/RESULTS.md "Queries that mean what they say");
# re-measure a new bundle with `benchmarks/familiarity_bench.py --bundle models/default`
# and pass --familiarity-threshold (a new corpus moves the captions, so the distribution).
FAMILIARITY_THRESHOLD = 0.6


def class_means(report: dict[str, Any], classes: list[str], key: str) -> float:
    values = [report["classes"][c][key] for c in classes if key in report["classes"].get(c, {})]
    return float(np.mean(values)) if values else float("nan")


def summarise(report: dict[str, Any], corpus: Path) -> dict[str, Any]:
    roles = json.loads((corpus / "classes.json").read_text())
    scored = list(report["classes"])
    seen = [c for c in scored if roles.get(c, {}).get("role") != "zeroshot"]
    zero = [c for c in scored if roles.get(c, {}).get("role") == "zeroshot"]
    out: dict[str, Any] = {"bench": report["bench"], "items": report["overall"]["items"]}
    for name, group in (("seen", seen), ("zeroshot", zero)):
        out[name] = {
            key: round(class_means(report, group, key), 2)
            for key in ("sdri", "si_sdri", "sdr", "si_sdr", "wrong_sdri", "oracle_sdri")
        }
        out[name]["classes"] = len(group)
        out[name]["query_sensitivity"] = round(out[name]["sdri"] - out[name]["wrong_sdri"], 2)
    out["per_class_sdri"] = {c: round(report["classes"][c]["sdri"], 2) for c in scored}
    return out


def cpu_description() -> str:
    """CPU model and the vector extensions that decide CPU training and inference speed."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    isa = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    return f"{model} ({', '.join(isa) or 'no AVX2'})"


def this_phase(
    run: Path, extra: dict[str, Any], first_step: int, build: dict[str, Any]
) -> dict[str, Any]:
    """The training run in `run` as one phase: steps, wall time, machine, config, corpus."""
    start = (run / "config.yaml").stat().st_mtime  # written when the run (re)started
    end = (run / "last.pt").stat().st_mtime
    return {
        "steps": [first_step, int(extra.get("step", 0))],
        "wall_time_h": round((end - start) / 3600, 2),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, {cpu_description()}, "
        f"torch {torch.__version__}, no GPU",
        "train_config": extra.get("train_config"),
        "corpus": {"clips": build.get("clips"), "hours": _hours(build)},
    }


def _hours(build: dict[str, Any]) -> float | None:
    seconds = build.get("seconds")
    return round(float(seconds) / 3600, 2) if seconds is not None else None


def earlier_phases(previous: dict[str, Any] | None, step: int) -> list[dict[str, Any]]:
    """Phases of the bundle being replaced that this run continued (resumed) from."""
    if not previous or int(previous.get("steps", 0)) >= step:
        return []
    if "phases" in previous:
        return list(previous["phases"])
    return [
        {
            "steps": [0, int(previous["steps"])],
            "wall_time_h": previous.get("wall_time_h"),
            "machine": previous.get("machine"),
            "train_config": previous.get("train_config"),
        }
    ]


def provenance(
    run: Path, corpus: Path, extra: dict[str, Any], previous: dict[str, Any] | None
) -> dict[str, Any]:
    """Where the bundle comes from: corpus, every training phase, totals."""
    build = json.loads((corpus / "build.json").read_text())
    step = int(extra.get("step", 0))
    if previous and int(previous.get("steps", 0)) == step and previous.get("phases"):
        phases = list(previous["phases"])  # the same state shipped again: the same chain
    else:
        phases = earlier_phases(previous, step)
        first = phases[-1]["steps"][1] if phases else 0
        phases.append(this_phase(run, extra, first, build))
    return {
        "trained_by": "livesep train --config configs/default.yaml (--resume or init_from "
        "for later phases); docs/default_model/TRAINING.md",
        "train_config": extra.get("train_config"),
        "steps": step,
        "wall_time_h": round(sum(p["wall_time_h"] or 0.0 for p in phases), 2),
        "machine": phases[-1]["machine"],
        "phases": phases,
        "corpus": {
            "builder": "livesep data build --out corpus --sources default "
            "--max-per-class 400 --seed 0",
            "packages": build.get("packages", build.get("sources")),
            "clips": build.get("clips"),
            "hours": _hours(build),
        },
    }


def previous_provenance(bundle_dir: Path) -> dict[str, Any] | None:
    manifest = bundle_dir / "manifest.json"
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text()).get("provenance")


def keep_checkpoints(run: Path, dest: Path, step: int) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    model, extra = load_checkpoint(run / "last.pt")
    save_checkpoint(dest / "default.pt", model, step=step, train_config=extra["train_config"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, default=Path("runs/default"))
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--bench", type=Path, default=Path("bench/val16k"))
    parser.add_argument("--out", type=Path, default=Path("models/default"))
    parser.add_argument("--report", type=Path, default=Path("docs/default_model"))
    parser.add_argument("--checkpoints", type=Path, default=Path("models/checkpoints"))
    parser.add_argument(
        "--familiarity-threshold", type=float, default=FAMILIARITY_THRESHOLD, metavar="COS"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)

    model, extra = load_checkpoint(args.run / "last.pt")
    # As `livesep export --snap-captions`: the vectors the run trained on, from its cache.
    bank = caption_bank(args.corpus / "manifest.jsonl", trained=args.run / "embeddings.npz")
    vectors = np.stack(list(bank.values()))  # [N, D]
    separate, rate = ev.checkpoint_separator(
        args.run / "last.pt", condition=lambda e: snap(e, vectors, SNAP_TEMPERATURE)
    )
    report = ev.evaluate(separate, ev.read_bench(args.bench), rate)
    ev.write_report(
        report,
        args.report,
        title=f"default model, step {extra['step']}, queries snapped "
        f"(temperature {SNAP_TEMPERATURE})",
    )
    figures = summarise(report, args.corpus)
    print(json.dumps({k: v for k, v in figures.items() if k != "per_class_sdri"}, indent=1))

    export_bundle(
        model,
        args.out,
        encoder="minilm",
        name="default",
        queries=PRESETS,
        provenance=provenance(args.run, args.corpus, extra, previous_provenance(args.out)),
        metrics=figures,
        query_bank=bank,
        snap_temperature=SNAP_TEMPERATURE,
        familiarity_threshold=args.familiarity_threshold,
        overwrite=True,
    )
    keep_checkpoints(args.run, args.checkpoints, int(extra["step"]))
    print(f"shipped {args.out}; report in {args.report}; checkpoints in {args.checkpoints}")


if __name__ == "__main__":
    main()
