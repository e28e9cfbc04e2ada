"""Model bundle picker (path + Open) with a one-line summary and the full manifest text."""

from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from livesep.bundle import Bundle, describe


def summary(bundle: Bundle | None) -> str:
    """One line: name, rate, hop, algorithmic latency, encoder."""
    if bundle is None:
        return "no bundle loaded"
    ms = 1000.0 / bundle.sample_rate  # milliseconds per sample
    return (
        f"{bundle.name}: {bundle.sample_rate / 1000:g} kHz, hop {bundle.hop * ms:.0f} ms, "
        f"latency {bundle.latency_samples * ms:.1f} ms, encoder {bundle.encoder_name}"
    )


class BundlePanel(QWidget):
    """Emits `open_requested(path)` when the user picks or types a bundle directory."""

    open_requested = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("model bundle directory")
        self.path_edit.returnPressed.connect(lambda: self.open_requested.emit(self.path()))
        self.browse_button = QPushButton("Open…")
        self.browse_button.clicked.connect(self._browse)
        self.summary_label = QLabel(summary(None))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Bundle:"))
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse_button)
        row.addWidget(self.summary_label, 1)

    def path(self) -> str:
        return self.path_edit.text().strip()

    def show_bundle(self, bundle: Bundle | None) -> None:
        if bundle is not None:
            self.path_edit.setText(str(bundle.path))
        self.summary_label.setText(summary(bundle))

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a model bundle", self.path())
        if path:
            self.path_edit.setText(path)
            self.open_requested.emit(path)


class ManifestView(QPlainTextEdit):
    """Read-only `livesep.bundle.describe` text of the loaded bundle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setFont(QFont("monospace", 9))
        self.setPlainText(summary(None))

    def show_bundle(self, bundle: Bundle | None) -> None:
        self.setPlainText(summary(None) if bundle is None else describe(bundle))
