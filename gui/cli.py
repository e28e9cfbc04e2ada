"""`livesep gui`: the desktop application."""

from __future__ import annotations

import argparse

from livesep.commands.bundle import add_expect_digest
from livesep.errors import LivesepError

HELP = "desktop application: pick devices and a bundle, type a query, hear it separated"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", help="model bundle directory (else the last one used)")
    parser.add_argument("--input", dest="input_device", help="input device (index or name)")
    parser.add_argument("--output", dest="output_device", help="output device (index or name)")
    parser.add_argument("--query", help="text query to start with")
    parser.add_argument(
        "--input-file", help="play this file through the engine instead of an input device"
    )
    parser.add_argument(
        "--settings",
        help="settings ini file (else ~/.config/livesep/livesep-gui.ini); read as plain text, "
        "never unpickled",
    )
    parser.add_argument(
        "--screenshot", help="save a PNG of the window, then exit (needs --quit-after)"
    )
    parser.add_argument("--quit-after", type=float, help="exit after this many seconds")
    parser.add_argument(
        "--no-expert",
        action="store_true",
        help="never send speech queries to the speech expert (DeepFilterNet3, the 'speech' "
        "extra); LIVESEP_NO_EXPERT=1 does the same",
    )
    add_expect_digest(parser)


def run(args: argparse.Namespace) -> int:
    if args.screenshot and args.quit_after is None:
        raise LivesepError("--screenshot needs --quit-after SECONDS (when to take it)")
    if args.quit_after is not None and args.quit_after < 0:
        raise LivesepError(f"--quit-after must be >= 0, got {args.quit_after}")
    from livesep.commands.separate import expert_wanted
    from livesep.gui.app import LaunchOptions, run_app  # Qt loads only when the GUI runs

    return run_app(
        LaunchOptions(
            bundle=args.bundle,
            input_device=args.input_device,
            output_device=args.output_device,
            query=args.query,
            input_file=args.input_file,
            settings=args.settings,
            expect_digest=args.expect_digest,
            screenshot=args.screenshot,
            quit_after=args.quit_after,
            expert=expert_wanted(args.no_expert),
        )
    )
