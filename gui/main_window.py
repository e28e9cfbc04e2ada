"""The main window: assembles the panels and wires them to the EngineController.

Layout: bundle row on top; on the left the audio and query controls; on the right the
input and output spectrograms with their level meters; docks for the stats and the
bundle manifest (their arrangement persists through QMainWindow.saveState).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from PyQt6.QtCore import QByteArray, Qt
from PyQt6.QtGui import QCloseEvent
from PyQt6.QtWidgets import (
    QDockWidget,
    QGridLayout,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)

from livesep.errors import LivesepError
from livesep.gui.audio_panel import AudioPanel
from livesep.gui.bundle_panel import BundlePanel, ManifestView
from livesep.gui.devices import DeviceInfo, list_devices
from livesep.gui.meters import FLOOR_DB, LevelMeter
from livesep.gui.query_panel import QueryPanel
from livesep.gui.settings import GuiState, SettingsFile, restore_state, save_state
from livesep.gui.spectrogram import ScrollingSpectrogram
from livesep.gui.stats_panel import StatsPanel
from livesep.gui.viewmodel import EngineController, Levels

TITLE = "livesep — separate anything you describe, live"
DOCK_HEIGHT = 110  # initial height of the stats / manifest docks (pixels)
STATUS_MS = 8000  # how long a status-bar message stays (ms)


LEFT_MIN_W = 420  # px: the query box and the file path show ~45 characters


class MainWindow(QMainWindow):
    """The livesep desktop window over one EngineController."""

    def __init__(
        self,
        controller: EngineController,
        settings: SettingsFile,
        device_lister: Callable[..., list[DeviceInfo]] = list_devices,
    ) -> None:
        super().__init__()
        self.controller = controller
        self.settings = settings
        self.device_lister = device_lister
        self.setWindowTitle(TITLE)
        self.setObjectName("livesep_main_window")
        self._build()
        self._connect()
        self.error_box = QMessageBox(QMessageBox.Icon.Warning, "livesep", "", parent=self)
        self.error_box.setWindowModality(Qt.WindowModality.NonModal)
        self.restore()

    # -- building ------------------------------------------------------------------------

    def _build(self) -> None:
        self.bundle_panel = BundlePanel()
        self.audio_panel = AudioPanel()
        self.query_panel = QueryPanel()
        self.input_spec = ScrollingSpectrogram("Input")
        self.output_spec = ScrollingSpectrogram("Output")
        self.input_meter = LevelMeter("Input")
        self.output_meter = LevelMeter("Output")
        left = QVBoxLayout()
        left.addWidget(_group("Audio", self.audio_panel))
        left.addWidget(_group("Query", self.query_panel))
        left.addStretch(1)
        right = QGridLayout()
        for row, (spec, meter, name) in enumerate(
            (
                (self.input_spec, self.input_meter, "in"),
                (self.output_spec, self.output_meter, "out"),
            )
        ):
            right.addWidget(spec, row, 0)
            right.addWidget(meter, row, 1)
            right.addWidget(QLabel(f"{name}\ndBFS"), row, 2)
        grid = QGridLayout()
        grid.addWidget(self.bundle_panel, 0, 0, 1, 2)
        left_box = QWidget()
        left_box.setLayout(left)
        left_box.setMinimumWidth(LEFT_MIN_W)  # whole queries and file paths stay readable
        grid.addWidget(left_box, 1, 0)
        grid.addLayout(right, 1, 1)
        grid.setColumnStretch(1, 1)
        central = QWidget()
        central.setLayout(grid)
        self.setCentralWidget(central)
        self.status = QStatusBar()
        self.setStatusBar(self.status)
        self.stats_panel = StatsPanel()
        self.manifest_view = ManifestView()
        self.stats_dock = self._dock("Stats", self.stats_panel)
        self.manifest_dock = self._dock("Bundle manifest", self.manifest_view)
        self.tabifyDockWidget(self.stats_dock, self.manifest_dock)
        self.stats_dock.raise_()
        self.resizeDocks([self.stats_dock], [DOCK_HEIGHT], Qt.Orientation.Vertical)
        self.resize(1200, 760)

    def _dock(self, title: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")  # saveState needs names
        dock.setWidget(widget)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        return dock

    def _connect(self) -> None:
        c = self.controller
        self.bundle_panel.open_requested.connect(c.load_bundle)
        self.audio_panel.start_requested.connect(self.start_stream)
        self.audio_panel.stop_requested.connect(c.stop)
        self.audio_panel.bypass_toggled.connect(c.set_bypass)
        self.audio_panel.refresh_requested.connect(self.refresh_devices)
        self.query_panel.query_submitted.connect(self._submit_query)
        self.query_panel.mode_changed.connect(c.set_mode)
        self.query_panel.wet_changed.connect(c.set_mix)
        self.query_panel.gain_changed.connect(c.set_gain_db)
        self.query_panel.expert_toggled.connect(c.set_expert)
        c.bundle_changed.connect(self.bundle_panel.show_bundle)
        c.bundle_changed.connect(self.manifest_view.show_bundle)
        c.bundle_changed.connect(
            lambda b: self.query_panel.learned_picker.set_bundle_digest(b.digest if b else None)
        )
        c.running_changed.connect(self._running_changed)
        c.stats_updated.connect(self.stats_panel.show_stats)
        c.stats_updated.connect(self.query_panel.show_path)
        c.audio_updated.connect(self._show_audio)
        c.levels_updated.connect(self._show_levels)
        c.error.connect(self.show_error)
        c.query_warning.connect(self.query_panel.show_warning)
        c.controls_changed.connect(self._show_controls)
        c.message.connect(lambda text: self.status.showMessage(text, STATUS_MS))

    # -- slots ------------------------------------------------------------------------------

    def start_stream(self) -> bool:
        """Start with the picked devices (or the file, when one is given)."""
        return self.controller.start(
            self.audio_panel.selected_input(),
            self.audio_panel.selected_output(),
            self.audio_panel.input_file(),
        )

    def refresh_devices(self) -> None:
        if self.controller.running:
            return  # re-scanning PortAudio would close the running stream
        inp, out = self.audio_panel.selected_input(), self.audio_panel.selected_output()
        devices = self.device_lister(refresh=True)
        self.audio_panel.set_devices(devices, inp.key if inp else "", out.key if out else "")
        self.status.showMessage(f"{len(devices)} audio device(s) found", STATUS_MS)

    def _submit_query(self, text: str) -> None:
        if self.controller.set_query(text) and not text.lstrip().startswith(":"):
            self.status.showMessage(f"query: {self.controller.query!r}", STATUS_MS)

    def _show_controls(self) -> None:
        """Show controls a ":command" in the query box changed (without re-sending them)."""
        c = self.controller
        self.query_panel.show_controls(c.mode, c.wet, c.gain_db)
        box = self.audio_panel.bypass_box
        box.blockSignals(True)
        box.setChecked(c.bypass)
        box.blockSignals(False)

    def _running_changed(self, running: bool) -> None:
        self.audio_panel.set_running(running)
        if running:
            for spec in (self.input_spec, self.output_spec):
                spec.set_sample_rate(self.controller.sample_rate)
        else:
            self._show_levels(Levels(FLOOR_DB, FLOOR_DB, FLOOR_DB, FLOOR_DB))
            self.stats_panel.show_stats(None)
            self.query_panel.show_path(None)

    def _show_audio(self, inp: object, out: object) -> None:
        self.input_spec.push(inp)  # type: ignore[arg-type]
        self.output_spec.push(out)  # type: ignore[arg-type]

    def _show_levels(self, levels: Levels) -> None:
        self.input_meter.set_levels(levels.input_peak, levels.input_rms)
        self.output_meter.set_levels(levels.output_peak, levels.output_rms)

    def show_error(self, text: str) -> None:
        """Status bar + a non-blocking dialog; the app keeps running."""
        self.status.showMessage(text, STATUS_MS)
        self.error_box.setText(text)
        self.error_box.open()

    # -- persistence ------------------------------------------------------------------------

    def current_state(self) -> GuiState:
        c = self.controller
        return GuiState(
            bundle=str(c.bundle.path) if c.bundle else self.bundle_panel.path(),
            input_device=self.audio_panel.input_combo.currentData() or "",
            output_device=self.audio_panel.output_combo.currentData() or "",
            input_file=self.audio_panel.input_file(),
            query=self.query_panel.query_text() or c.query,
            history=list(self.query_panel.history.items),
            presets=list(self.query_panel.presets.items),
            mode=self.query_panel.mode(),
            wet=self.query_panel.wet(),
            gain_db=self.query_panel.gain_db(),
            bypass=self.audio_panel.bypass_box.isChecked(),
            expert=self.query_panel.expert_box.isChecked(),
        )

    def save(self) -> None:
        self.settings.set_value("window/geometry", bytes(self.saveGeometry().data()))
        self.settings.set_value("window/state", bytes(self.saveState().data()))
        try:
            save_state(self.settings, self.current_state())  # writes the file
        except LivesepError as exc:  # e.g. a full disk: the window still closes
            print(f"livesep gui: settings not saved: {exc}", file=sys.stderr)

    def restore(self) -> None:
        """Apply the saved state to the widgets and the controller (no stream is started)."""
        s = restore_state(self.settings)
        self.apply_state(s)
        for key, method in (
            ("window/geometry", self.restoreGeometry),
            ("window/state", self.restoreState),
        ):
            blob = self.settings.blob(key)
            if blob is not None:
                method(QByteArray(blob))

    def apply_state(self, s: GuiState) -> None:
        self.audio_panel.set_devices(self.device_lister(), s.input_device, s.output_device)
        self.audio_panel.file_edit.setText(s.input_file)
        self.audio_panel.bypass_box.setChecked(s.bypass)
        self.query_panel.set_values(s.query, s.history, s.presets, s.mode, s.wet, s.gain_db)
        c = self.controller
        c.query, c.mode, c.wet, c.gain_db, c.bypass = s.query, s.mode, s.wet, s.gain_db, s.bypass
        c.expert = s.expert
        available, note = c.expert_status()
        self.query_panel.show_expert(s.expert, available, note)
        if s.bundle:
            self.bundle_panel.path_edit.setText(s.bundle)
            c.load_bundle(s.bundle)

    def closeEvent(self, event: QCloseEvent | None) -> None:  # noqa: N802 (Qt override)
        self.save()
        self.controller.shutdown()
        super().closeEvent(event)


def _group(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addWidget(widget)
    return box
