"""The top-level `livesep` command: listing, dispatch, errors."""

from __future__ import annotations

import argparse
import subprocess
import sys
import types

import pytest

from livesep import cli
from livesep.errors import AudioError


def test_help_lists_every_planned_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    for name in cli.PLANNED:
        assert f"  {name} " in out


def test_option_help_shows_only_defaults_that_say_something() -> None:
    parser = argparse.ArgumentParser(formatter_class=cli.HelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="threads")
    parser.add_argument("--out", help="folder")
    parser.add_argument("--quiet", action="store_true", help="no bar")
    parser.add_argument("--bundle", default="b/", help="bundle (default: the bundled one)")
    parser.add_argument("--set", default="default", help="a set (default, ci)")
    text = " ".join(parser.format_help().split())
    assert "threads (default: 1)" in text
    assert "folder --quiet" in text and "no bar" in text  # no "(default: None/False)"
    assert "bundle (default: the bundled one)" in text and "(default: b/)" not in text
    assert "a set (default, ci) (default: default)" in text  # the word alone is no default


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_planned_but_missing_command_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "available_commands", lambda: {})
    assert cli.main(["train"]) == 2
    assert "planned but not built yet" in capsys.readouterr().err
    assert "[not built yet]" in cli.get_parser({}).epilog


def _fake_command(exc: BaseException | None) -> types.ModuleType:
    module = types.ModuleType("fake")
    module.HELP = "fake command"  # type: ignore[attr-defined]

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--x", type=int, default=1)

    def run(args: argparse.Namespace) -> int:
        if exc is not None:
            raise exc
        return args.x

    module.add_arguments = add_arguments  # type: ignore[attr-defined]
    module.run = run  # type: ignore[attr-defined]
    return module


@pytest.mark.parametrize(
    ("exc", "status", "message"),
    [
        (None, 7, ""),
        (AudioError("song.wav: not an audio file"), 1, "livesep fake: error: song.wav: not"),
        (KeyboardInterrupt(), 130, "interrupted"),
    ],
)
def test_dispatch_and_error_mapping(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    exc: BaseException | None,
    status: int,
    message: str,
) -> None:
    monkeypatch.setattr(cli, "available_commands", lambda: {"fake": "fake.module"})
    monkeypatch.setattr(cli, "_load", lambda path: _fake_command(exc))
    assert cli.main(["fake", "--x", "7"]) == status
    assert message in capsys.readouterr().err


def test_separate_does_not_load_wings() -> None:
    """`livesep separate --help` must import neither Qt, torch-heavy training nor realtime."""
    code = (
        "import sys\n"
        "from livesep import cli\n"
        "try:\n"
        "    cli.main(['separate', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "bad = [m for m in sys.modules if m.startswith(('PyQt6', 'livesep.training',"
        " 'livesep.gui', 'livesep.realtime'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
