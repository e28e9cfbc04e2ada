"""Build and run the GUI application (the `livesep gui` command calls `run_app`)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication

from livesep import signals
from livesep.atomic import atomic_path
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
    expect_digest: str | None = None  # every bundle loaded must have this digest
    screenshot: str | None = None
    quit_after: float | None = None  # seconds
    expert: bool = True  # False: no speech expert at all (`--no-expert`)

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
    controller = controller or EngineController()
    controller.expect_digest = opts.expect_digest
    controller.expert_allowed = opts.expert
    settings = open_settings(opts.settings)
    window = MainWindow(controller, settings)
    state = window.current_state()
    if opts.bundle:
        state.bundle = opts.bundle
    if not state.bundle:  # first run: the bundle the CLI uses (models/default)
        state.bundle = _default_bundle()
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
    if settings.refused:  # never decoded: Qt's @Variant(...) would have run pickled code
        window.show_error(
            f"{settings.path}: ignored {len(settings.refused)} entries holding serialized "
            f"objects or Qt types ({', '.join(settings.refused[:3])}); they will not be kept"
        )
    elif missing:  # starting on other devices than the ones asked for would surprise
        window.show_error(f"audio device {missing[0]!r} not found; pick one and press Start")
    elif opts.autostart:
        window.start_stream()
    return window


def _default_bundle() -> str:
    """`livesep.bundle.default_bundle_path()`, or "" when there is none."""
    from livesep.bundle import default_bundle_path

    try:
        return str(default_bundle_path())
    except LivesepError:
        return ""


def save_screenshot(window: MainWindow, path: str | Path) -> None:
    """Render the window to a PNG at `path`.

    Raises:
        LivesepError: the image could not be written.
    """
    with atomic_path(path, suffix=".png") as tmp:
        if not window.grab().save(str(tmp), "PNG"):
            raise LivesepError(f"{path}: could not write the screenshot")


def run_app(opts: LaunchOptions) -> int:
    """Show the window and run the event loop; returns the exit status."""
    app = application()
    window = build_window(opts)
    window.show()
    # SIGTERM/SIGHUP close the window as the user would (settings saved); an exception
    # raised inside Qt's event loop would abort the process instead.
    signals.install(lambda signum, frame: QTimer.singleShot(0, window.close))
    wake = QTimer()  # Python handles signals only when it runs: let it, every 200 ms
    wake.timeout.connect(lambda: None)
    wake.start(200)
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
