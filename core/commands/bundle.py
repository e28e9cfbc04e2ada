"""`livesep bundle info|verify PATH`: show or check a model bundle."""

from __future__ import annotations

import argparse

from livesep.bundle import describe, load_bundle

HELP = "inspect (info) or fully check (verify) a model bundle directory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=["info", "verify"],
        help="info: print the manifest readably (checksums verified); verify: also check "
        "every ONNX graph's inputs/outputs against the manifest",
    )
    parser.add_argument("path", help="bundle directory (or its manifest.json)")


def run(args: argparse.Namespace) -> int:
    bundle = load_bundle(args.path, check_graphs=args.action == "verify")
    if args.action == "info":
        print(describe(bundle))
    else:
        graphs = ", ".join(bundle.graphs)
        print(f"{bundle.path}: OK ({len(bundle.files)} files verified; graphs {graphs} match)")
    return 0
