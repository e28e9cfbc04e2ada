"""`livesep gui` as a user runs it: in a subprocess, offscreen and under Xvfb (xcb)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.gui_checks import image_gray

# Runs the `livesep` command in this interpreter, then reports whether torch got imported.
RUN_CLI = (
    "import sys; from livesep.cli import main; rc = main(sys.argv[1:]); "
    "print('TORCH_LOADED', 'torch' in sys.modules); sys.exit(rc)"
)
IMPORT_GUI = (
    "import sys, livesep.gui.app, livesep.gui.cli, livesep.gui.main_window, "
    "livesep.gui.viewmodel, livesep.realtime; "
    "print('TORCH_LOADED', 'torch' in sys.modules)"
)
TIMEOUT_S = 120


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


def _screenshot_run(tmp_path, bundle, noise_file, env) -> tuple[subprocess.CompletedProcess, Path]:
    shot = tmp_path / "gui.png"
    args = [
        "gui",
        "--bundle",
        str(bundle.path),
        "--input-file",
        str(noise_file),
        "--query",
        "dog barking",
        "--settings",
        str(tmp_path / "s.ini"),
        "--screenshot",
        str(shot),
        "--quit-after",
        "1.5",
    ]
    proc = subprocess.run(
        [sys.executable, "-c", RUN_CLI, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    return proc, shot


def _check_screenshot(proc: subprocess.CompletedProcess, shot: Path) -> None:
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "TORCH_LOADED False" in proc.stdout  # the whole GUI + engine path is torch-free
    gray = image_gray(shot)
    assert gray.shape[0] > 300 and gray.shape[1] > 500
    assert gray.std() > 20  # a rendered window, not a blank image
    assert len(set(gray.ravel()[::97].tolist())) > 16  # many grey levels (plots, text)


def test_importing_the_gui_does_not_import_torch():
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_GUI],
        env=_env(QT_QPA_PLATFORM="offscreen"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "TORCH_LOADED False" in proc.stdout


def test_screenshot_option_offscreen(tmp_path, bundle, noise_file):
    proc, shot = _screenshot_run(tmp_path, bundle, noise_file, _env(QT_QPA_PLATFORM="offscreen"))
    _check_screenshot(proc, shot)
    saved = (tmp_path / "s.ini").read_text()
    assert "query=dog barking" in saved  # closing through --quit-after saved the settings


def test_screenshot_needs_quit_after(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", RUN_CLI, "gui", "--screenshot", str(tmp_path / "x.png")],
        env=_env(QT_QPA_PLATFORM="offscreen"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert proc.returncode == 1 and "--quit-after" in proc.stderr
    assert not (tmp_path / "x.png").exists()


def _free_display() -> int:
    for n in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb not installed")
def test_screenshot_under_xvfb_with_the_xcb_platform(tmp_path, bundle, noise_file):
    display = _free_display()
    xvfb = subprocess.Popen(
        ["Xvfb", f":{display}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10.0
        while not Path(f"/tmp/.X11-unix/X{display}").exists():
            assert xvfb.poll() is None and time.monotonic() < deadline, "Xvfb did not start"
            time.sleep(0.05)
        env = _env(QT_QPA_PLATFORM="xcb", DISPLAY=f":{display}")
        proc, shot = _screenshot_run(tmp_path, bundle, noise_file, env)
    finally:
        xvfb.terminate()
        xvfb.wait(10)
    _check_screenshot(proc, shot)
