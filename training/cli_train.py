"""`livesep train`: train a separator from a YAML config with `key=value` overrides.

One process: `livesep train --config configs/tiny.yaml out_dir=runs/tiny`.
Several (GPUs or CPU gloo): `torchrun --nproc-per-node N -m livesep.training --config FILE`;
multi-node through torchrun's rendezvous (see `livesep.training.distributed`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from livesep import signals
from livesep.errors import LivesepError

HELP = "train a separator (one CPU/GPU, or many through torchrun)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="YAML training config (configs/*.yaml)")
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="config overrides with dotted keys, e.g. optim.lr=3e-4 steps=2000",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue exactly from OUT_DIR/last.pt"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh in an OUT_DIR that holds a run, deleting its checkpoints and log "
        "(without --resume or --overwrite such a folder is refused)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    from livesep.training.config import load_config
    from livesep.training.train import train

    cfg = load_config(args.config, list(args.overrides))
    train(cfg, resume=args.resume, progress=not args.no_progress, overwrite=args.overwrite)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m livesep.training` (and so of torchrun)."""
    parser = argparse.ArgumentParser(prog="livesep.training", description=HELP)
    add_arguments(parser)
    args = parser.parse_args(argv)
    previous = signals.install()  # SIGTERM/SIGHUP unwind: a checkpoint's temp file goes
    try:
        return run(args)
    except LivesepError as exc:
        print(f"livesep train: error: {exc}", file=sys.stderr)
        return 1
    except signals.Terminated as exc:
        print(f"livesep train: {exc}", file=sys.stderr)
        return 128 + exc.signum
    finally:
        signals.restore(previous)
