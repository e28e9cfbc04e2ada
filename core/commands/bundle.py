"""`livesep bundle info|verify PATH [--expect SHA256]`: show or check a model bundle."""

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
    add_expect_digest(parser, "--expect")


def add_expect_digest(parser: argparse.ArgumentParser, flag: str = "--expect-digest") -> None:
    """The option that pins a bundle: its whole digest must equal the given sha256."""
    parser.add_argument(
        flag,
        dest="expect_digest",
        metavar="SHA256",
        help="fail unless the bundle's digest (sha256 over its manifest and every file, "
        "shown by `livesep bundle info`) is this. The hashes inside a bundle catch "
        "corruption, not tampering: pin a bundle you got from elsewhere with its digest",
    )


def run(args: argparse.Namespace) -> int:
    bundle = load_bundle(
        args.path, check_graphs=args.action == "verify", expect_digest=args.expect_digest
    )
    if args.action == "info":
        print(describe(bundle))
    else:
        graphs = ", ".join(bundle.graphs)
        pinned = " (digest as expected)" if args.expect_digest else ""
        print(
            f"{bundle.path}: OK ({len(bundle.files)} files verified; graphs {graphs} match); "
            f"digest {bundle.digest}{pinned}"
        )
    return 0
