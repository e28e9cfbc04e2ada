"""Build and run the GUI application (the `livesep gui` command calls `run_app`)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication

from livesep.errors import LivesepError
from livesep.gui.devices import find_device
from livesep.gui.main_window import MainWindow
from livesep.gui.settings import APPLICATION, ORGANIZATION, open_settings
from livesep.gui.viewmodel import EngineController


@dataclass
class LaunchOptions:
    """Command-line choices; None/"" leaves the saved setting alone."""

    bundle: str | None = None
    input_device: str | None = None
    output_device: str | None = None
    query: str | None = None
    input_file: str | None = None
    settings: str | None = None  # ini file instead of the per-user store
    screenshot: str | None = None
    quit_after: float | None = None  # seconds

    @property
    def autostart(self) -> bool:
        """Start the stream at launch when a file or a device was named."""
        return bool(self.input_file or self.input_device or self.output_device)


def application() -> QApplication:
    """The process's QApplication (created once)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setOrganizationName(ORGANIZATION)
        app.setApplicationName(APPLICATION)
    assert isinstance(app, QApplication)
    return app


def build_window(opts: LaunchOptions, controller: EngineController | None = None) -> MainWindow:
    """The main window with saved settings restored, then `opts` applied over them."""
    window = MainWindow(controller or EngineController(), open_settings(opts.settings))
    state = window.current_state()
    if opts.bundle:
        state.bundle = opts.bundle
    if opts.query:
        state.query = opts.query
    if opts.input_file is not None:
        state.input_file = opts.input_file
    missing = []
    for attr in ("input_device", "output_device"):
        spec = getattr(opts, attr)
        if spec:
            dev = find_device(window.audio_panel.devices, spec)
            setattr(state, attr, dev.key if dev else "")
            if dev is None:
                missing.append(spec)
    window.apply_state(state)
    if missing:  # starting on other devices than the ones asked for would surprise
        window.show_error(f"audio device {missing[0]!r} not found; pick one and press Start")
    elif opts.autostart:
        window.start_stream()
    return window


def save_screenshot(window: MainWindow, path: str | Path) -> None:
    """Render the window to a PNG at `path`.

    Raises:
        LivesepError: the image could not be written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path), "PNG"):
        raise LivesepError(f"{path}: could not write the screenshot")


def run_app(opts: LaunchOptions) -> int:
    """Show the window and run the event loop; returns the exit status."""
    app = application()
    window = build_window(opts)
    window.show()
    failures: list[str] = []

    def finish() -> None:
        if opts.screenshot:
            try:
                save_screenshot(window, opts.screenshot)
            except LivesepError as exc:
                failures.append(str(exc))
        window.close()
        app.quit()

    if opts.quit_after is not None:
        QTimer.singleShot(int(1000 * opts.quit_after), finish)
    app.exec()
    if failures:
        raise LivesepError(failures[0])
    return 0
