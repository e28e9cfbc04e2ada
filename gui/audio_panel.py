"""Device pickers, optional input file, start/stop and bypass."""

from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from livesep.gui.devices import DeviceInfo, inputs, outputs

DEFAULT_LABEL = "System default"
AUDIO_FILTER = "Audio files (*.wav *.flac *.ogg *.mp3);;All files (*)"


class AudioPanel(QWidget):
    """Emits start/stop/bypass requests; `selected_*` say what is picked."""

    start_requested = pyqtSignal()
    stop_requested = pyqtSignal()
    bypass_toggled = pyqtSignal(bool)
    refresh_requested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.devices: list[DeviceInfo] = []
        self.input_combo = QComboBox()
        self.output_combo = QComboBox()
        for combo in (self.input_combo, self.output_combo):
            combo.setMinimumContentsLength(18)
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
        self.refresh_button = QPushButton("Rescan")
        self.refresh_button.setToolTip("list audio devices again (only while stopped)")
        self.refresh_button.clicked.connect(self.refresh_requested)
        self.file_edit = QLineEdit()
        self.file_edit.setPlaceholderText("optional: play a file instead of the input device")
        self.file_edit.textChanged.connect(self.file_edit.setToolTip)  # the whole path
        self.file_button = QPushButton("…")
        self.file_button.clicked.connect(self._browse_file)
        self.start_button = QPushButton("Start")
        self.start_button.setCheckable(True)
        self.start_button.clicked.connect(self._start_clicked)
        self.bypass_box = QCheckBox("Bypass")
        self.bypass_box.setToolTip("pass the input through, delayed by the same latency")
        self.bypass_box.toggled.connect(self.bypass_toggled)
        self._layout()

    def _layout(self) -> None:
        grid = QGridLayout(self)
        grid.addWidget(QLabel("Input:"), 0, 0)
        grid.addWidget(self.input_combo, 0, 1, 1, 2)
        grid.addWidget(QLabel("Output:"), 1, 0)
        grid.addWidget(self.output_combo, 1, 1, 1, 2)
        grid.addWidget(QLabel("File:"), 2, 0)
        grid.addWidget(self.file_edit, 2, 1)
        grid.addWidget(self.file_button, 2, 2)
        row = QHBoxLayout()
        row.addWidget(self.start_button)
        row.addWidget(self.bypass_box)
        row.addStretch(1)
        row.addWidget(self.refresh_button)
        grid.addLayout(row, 3, 0, 1, 3)
        grid.setColumnStretch(1, 1)

    def set_devices(self, devices: list[DeviceInfo], input_key: str = "", output_key: str = ""):
        """Fill the pickers; keep the devices whose keys are given selected if present."""
        self.devices = devices
        for combo, devs, key in (
            (self.input_combo, inputs(devices), input_key),
            (self.output_combo, outputs(devices), output_key),
        ):
            combo.clear()
            combo.addItem(DEFAULT_LABEL, "")
            for dev in devs:
                combo.addItem(dev.label, dev.key)
            combo.setCurrentIndex(max(0, combo.findData(key)))

    def _selected(self, combo: QComboBox) -> DeviceInfo | None:
        key = combo.currentData()
        return next((d for d in self.devices if d.key == key), None) if key else None

    def selected_input(self) -> DeviceInfo | None:
        return self._selected(self.input_combo)

    def selected_output(self) -> DeviceInfo | None:
        return self._selected(self.output_combo)

    def input_file(self) -> str:
        return self.file_edit.text().strip()

    def set_running(self, running: bool) -> None:
        """Reflect the stream state (without emitting start/stop)."""
        self.start_button.setChecked(running)
        self.start_button.setText("Stop" if running else "Start")
        for widget in (self.input_combo, self.output_combo, self.file_edit, self.file_button):
            widget.setEnabled(not running)
        self.refresh_button.setEnabled(not running)

    def _start_clicked(self, checked: bool) -> None:
        # The button shows the requested state only once the controller confirms it.
        self.start_button.setChecked(not checked)
        (self.start_requested if checked else self.stop_requested).emit()

    def _browse_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Play a file", "", AUDIO_FILTER)
        if path:
            self.file_edit.setText(path)
