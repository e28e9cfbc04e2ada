"""The `livesep` command.

Each subcommand lives in its own module exposing `HELP: str`, `add_arguments(parser)` and
`run(args) -> int`. Core's own commands are listed in `CORE_COMMANDS`; the wings register
theirs under the `livesep.commands` entry-point group (see pyproject.toml). Only the module
of the command being run is imported, so `livesep separate` loads neither Qt nor the
training code.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import re
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from livesep import __version__, signals
from livesep.errors import LivesepError
from livesep.terminal import printable

_NAMES_DEFAULT = re.compile(r"\(default[: ]")  # "(default: X)", "(default X)"


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default where it says something: not for None, False or [],
    and not where the help text already says "(default ...)"."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if _NAMES_DEFAULT.search(text) or action.default in (None, False, [], argparse.SUPPRESS):
            return text
        return super()._get_help_string(action) or text


ENTRY_POINT_GROUP = "livesep.commands"

CORE_COMMANDS = {
    "separate": "livesep.commands.separate",
    "bundle": "livesep.commands.bundle",
}

# One line per command of the design, shown by `livesep --help` even before a wing that
# provides it is installed or built.
PLANNED = {
    "separate": "separate files by text query (offline, any length)",
    "bundle": "inspect and verify model bundles",
    "train": "train a separator (one CPU/GPU, or many through torchrun)",
    "learn": "teach the model a sound from examples (query by example: -q @NAME)",
    "evaluate": "SDR / SDRi / SI-SDR of a model on a benchmark set",
    "data": "build the training corpus from installed packages",
    "export": "export a checkpoint to an ONNX step graph + bundle",
    "live": "separate a live audio input by description",
    "devices": "list audio devices",
    "gui": "desktop application",
}


def _exists(module_path: str) -> bool:
    """Whether a command's module is installed, without importing its package.

    `find_spec("livesep.gui.cli")` would run `livesep/gui/__init__.py` (Qt); look for the
    module file in the parent package's search path instead.
    """
    name = module_path.split(":")[0]
    parent, _, leaf = name.rpartition(".")
    try:
        if not parent:
            return importlib.util.find_spec(name) is not None
        spec = importlib.util.find_spec(parent)
    except ImportError:
        return False
    if spec is None or spec.submodule_search_locations is None:
        return False
    return any(
        (Path(loc) / f"{leaf}.py").exists() or (Path(loc) / leaf / "__init__.py").exists()
        for loc in spec.submodule_search_locations
    )


def available_commands() -> dict[str, str]:
    """Command name -> module path of the commands whose module is installed.

    Core commands first, then entry points (which may name a wing not built yet).
    """
    commands = dict(CORE_COMMANDS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        commands.setdefault(ep.name, ep.value)
    return {name: path for name, path in commands.items() if _exists(path)}


def _overview(commands: dict[str, str]) -> str:
    lines = ["commands:"]
    names = list(PLANNED) + sorted(set(commands) - set(PLANNED))
    for name in names:
        help_text = PLANNED.get(name, "(third-party command)")
        state = "" if name in commands else "  [not built yet]"
        lines.append(f"  {name:<10} {help_text}{state}")
    lines.append("")
    lines.append("Run `livesep COMMAND --help` for a command's options.")
    return "\n".join(lines)


def get_parser(commands: dict[str, str] | None = None) -> argparse.ArgumentParser:
    """Top-level parser: a command name and its own arguments."""
    commands = available_commands() if commands is None else commands
    parser = argparse.ArgumentParser(
        prog="livesep",
        description="Separate anything you describe, live.",
        epilog=_overview(commands),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"livesep {__version__}")
    parser.add_argument("command", nargs="?", help="one of the commands below")
    parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def _load(module_path: str) -> ModuleType:
    return importlib.import_module(module_path.split(":")[0])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `livesep` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = available_commands()
    parser = get_parser(commands)
    top = parser.parse_args(argv)
    if top.command is None:
        parser.print_help()
        return 0
    if top.command not in commands:
        if top.command in PLANNED:
            print(
                f"livesep: `{top.command}` is planned but not built yet in this version.",
                file=sys.stderr,
            )
        else:
            parser.print_usage(sys.stderr)
            print(f"livesep: error: unknown command {top.command!r}", file=sys.stderr)
        return 2
    module = _load(commands[top.command])
    sub = argparse.ArgumentParser(
        prog=f"livesep {top.command}",
        description=module.HELP,
        formatter_class=HelpFormatter,
    )
    module.add_arguments(sub)
    args = sub.parse_args(top.args)
    previous = signals.install()  # SIGTERM/SIGHUP unwind like Ctrl-C: temp files go
    try:
        return int(module.run(args) or 0)
    except LivesepError as exc:
        print(f"livesep {top.command}: error: {printable(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"livesep {top.command}: interrupted", file=sys.stderr)
        return 130
    except signals.Terminated as exc:
        print(f"livesep {top.command}: {exc}", file=sys.stderr)
        return 128 + exc.signum
    except BrokenPipeError:
        # The reader went away (`livesep bundle info X | head`): not an error of ours.
        # Point stdout at /dev/null so the interpreter's final flush does not complain.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        signals.restore(previous)


if __name__ == "__main__":
    sys.exit(main())
