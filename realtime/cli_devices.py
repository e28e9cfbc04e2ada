"""`livesep devices`: list the audio devices PortAudio sees."""

from __future__ import annotations

import argparse

HELP = "list audio devices"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    from livesep.realtime.stream import describe_devices

    print(describe_devices())
    return 0
