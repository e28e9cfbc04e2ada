"""Query box with history, a picker of learned queries (`livesep learn`: @NAME), editable
presets, extract/remove, dry/wet and output gain."""

from __future__ import annotations

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from livesep.errors import LivesepError
from livesep.gui.presets import Presets, QueryHistory
from livesep.gui.settings import MAX_GAIN_DB, MIN_GAIN_DB, MODES
from livesep.learned import QueryStore

LEARNED_PROMPT = "learned…"  # the picker's first row: no query picked


class LearnedPicker(QComboBox):
    """The learned queries of the user's store (`livesep.learned`), read again each time
    the list opens, so a query learned or forgotten meanwhile shows at once. Once a bundle
    is set (`set_bundle_digest`), only the queries fitted for it are listed (another
    bundle's would be refused)."""

    picked = pyqtSignal(str)  # "@NAME"

    def __init__(self, store: QueryStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store if store is not None else QueryStore()
        self.bundle_digest: str | None = None  # list only queries fitted for this bundle
        self.setToolTip(
            "queries taught from examples with `livesep learn NAME FILE ...`; picking one "
            "puts @NAME in the query box (combine it: '@NAME, not music', 'remove @NAME')"
        )
        self.activated.connect(self._activated)
        self.refresh()

    def refresh(self) -> None:
        self.blockSignals(True)
        self.clear()
        self.addItem(LEARNED_PROMPT)
        for name in self._names():
            self.addItem("@" + name)
        self.setCurrentIndex(0)
        self.blockSignals(False)

    def set_bundle_digest(self, digest: str | None) -> None:
        """List only the queries fitted for the bundle of this digest (None: all)."""
        self.bundle_digest = digest or None
        self.refresh()

    def _names(self) -> list[str]:
        """Stored names that fit the bundle (a query that cannot be read is left out)."""
        try:
            names = self.store.names()
        except (OSError, LivesepError):
            return []
        if self.bundle_digest is None:
            return names
        fitting = []
        for name in names:
            try:
                if self.store.load(name).bundle_digest == self.bundle_digest:
                    fitting.append(name)
            except (OSError, LivesepError):
                continue
        return fitting

    def showPopup(self) -> None:  # noqa: N802 (Qt override)
        self.refresh()
        super().showPopup()

    def _activated(self, index: int) -> None:
        if index > 0:
            self.picked.emit(self.itemText(index))
        self.setCurrentIndex(0)


class QueryPanel(QWidget):
    """Emits what the user asks for; holds no engine state."""

    query_submitted = pyqtSignal(str)
    mode_changed = pyqtSignal(str)
    wet_changed = pyqtSignal(float)  # 0..1
    gain_changed = pyqtSignal(float)  # dB
    expert_toggled = pyqtSignal(bool)  # speech queries to the speech expert

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = QueryHistory()
        self.presets = Presets()
        self._pending_submit: str | None = None
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_query_row())
        self.warning_label = QLabel("")  # what the model does not know of the query
        self.warning_label.setWordWrap(True)
        self.warning_label.setTextFormat(Qt.TextFormat.PlainText)  # a query is never markup
        self.warning_label.setStyleSheet("color: #b35900;")
        self.warning_label.setVisible(False)
        layout.addWidget(self.warning_label)
        layout.addWidget(QLabel("Presets (double-click to use, F2 to edit):"))
        layout.addWidget(self._build_presets())
        layout.addLayout(self._build_preset_buttons())
        layout.addLayout(self._build_mode_row())
        layout.addLayout(self._build_path_row())
        layout.addLayout(self._build_sliders())

    # -- building ------------------------------------------------------------------------

    def _build_query_row(self) -> QHBoxLayout:
        self.query_box = QComboBox()
        self.query_box.setEditable(True)
        self.query_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)  # history is ours
        self.query_box.setToolTip(
            "describe the sound ('voice, not wind', 'everything but the dog'); Enter "
            "switches the query live; ':mix 0.5', ':mode remove', ':snap off' set controls"
        )
        self.query_edit = QLineEdit()
        self.query_edit.setPlaceholderText("e.g. dog barking")
        self.query_edit.textChanged.connect(self.query_edit.setToolTip)  # the whole query
        self.query_box.setMinimumContentsLength(32)
        self.query_box.setLineEdit(self.query_edit)
        self.query_edit.returnPressed.connect(self.submit)
        self.query_box.activated.connect(lambda _i: self.submit())
        self.apply_button = QPushButton("Apply")
        self.apply_button.clicked.connect(self.submit)
        self.learned_picker = LearnedPicker()
        self.learned_picker.picked.connect(self.use_learned)
        row = QHBoxLayout()
        row.addWidget(QLabel("Query:"))
        row.addWidget(self.query_box, 1)
        row.addWidget(self.learned_picker)
        row.addWidget(self.apply_button)
        return row

    def _build_presets(self) -> QListWidget:
        self.preset_list = QListWidget()
        self.preset_list.setMaximumHeight(130)
        self.preset_list.setEditTriggers(QListWidget.EditTrigger.EditKeyPressed)
        self.preset_list.itemActivated.connect(self._use_preset)
        self.preset_list.itemChanged.connect(self._preset_edited)
        return self.preset_list

    def _build_preset_buttons(self) -> QHBoxLayout:
        self.add_preset_button = QPushButton("Add current")
        self.add_preset_button.clicked.connect(self.add_current_preset)
        self.remove_preset_button = QPushButton("Remove")
        self.remove_preset_button.clicked.connect(self.remove_selected_preset)
        row = QHBoxLayout()
        row.addWidget(self.add_preset_button)
        row.addWidget(self.remove_preset_button)
        row.addStretch(1)
        return row

    def _build_mode_row(self) -> QHBoxLayout:
        self.extract_button = QRadioButton("Extract")
        self.extract_button.setToolTip("keep only the described sound")
        self.remove_button = QRadioButton("Remove")
        self.remove_button.setToolTip("keep everything except the described sound")
        self.extract_button.setChecked(True)
        self.mode_group = QButtonGroup(self)
        for i, button in enumerate((self.extract_button, self.remove_button)):
            self.mode_group.addButton(button, i)
        self.mode_group.idClicked.connect(lambda i: self.mode_changed.emit(MODES[i]))
        row = QHBoxLayout()
        row.addWidget(QLabel("Mode:"))
        row.addWidget(self.extract_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        return row

    def _build_path_row(self) -> QHBoxLayout:
        self.expert_box = QCheckBox("Speech expert")
        self.expert_box.setChecked(True)
        self.expert_box.setToolTip(
            "send speech queries ('voice', 'remove the speech') to DeepFilterNet3, a "
            "dedicated speech enhancer (30 ms latency); off: the model plays every query"
        )
        self.expert_box.toggled.connect(self.expert_toggled)
        self.path_label = QLabel("Path: —")  # which path plays the query
        self.path_label.setObjectName("path_label")
        self.path_label.setTextFormat(Qt.TextFormat.PlainText)
        row = QHBoxLayout()
        row.addWidget(self.expert_box)
        row.addWidget(self.path_label, 1)
        return row

    def show_path(self, stats: object) -> None:
        """Show the path that plays (model / speech expert) and, when the expert cannot
        run, why (a stats snapshot; None: no stream)."""
        text, tip = path_text(stats)
        if self.path_label.text() != text:
            self.path_label.setText(text)
            self.path_label.setToolTip(tip)

    def show_expert(self, on: bool, available: bool, note: str) -> None:
        """Check the expert box without emitting; disabled (with `note`) when missing."""
        self.expert_box.blockSignals(True)
        self.expert_box.setChecked(on)
        self.expert_box.blockSignals(False)
        self.expert_box.setEnabled(available)
        if not available:
            self.expert_box.setToolTip(note)

    def _build_sliders(self) -> QGridLayout:
        self.wet_slider = QSlider(Qt.Orientation.Horizontal)
        self.wet_slider.setRange(0, 100)  # percent processed
        self.wet_slider.setValue(100)
        self.wet_label = QLabel("100 %")
        self.wet_slider.valueChanged.connect(self._wet_moved)
        self.gain_slider = QSlider(Qt.Orientation.Horizontal)
        self.gain_slider.setRange(int(MIN_GAIN_DB), int(MAX_GAIN_DB))  # whole dB
        self.gain_slider.setValue(0)
        self.gain_label = QLabel("+0 dB")
        self.gain_slider.valueChanged.connect(self._gain_moved)
        grid = QGridLayout()
        grid.addWidget(QLabel("Dry/wet:"), 0, 0)
        grid.addWidget(self.wet_slider, 0, 1)
        grid.addWidget(self.wet_label, 0, 2)
        grid.addWidget(QLabel("Output gain:"), 1, 0)
        grid.addWidget(self.gain_slider, 1, 1)
        grid.addWidget(self.gain_label, 1, 2)
        return grid

    # -- state in and out ------------------------------------------------------------------

    def set_values(
        self,
        query: str,
        history: list[str],
        presets: list[str],
        mode: str,
        wet: float,
        gain_db: float,
    ) -> None:
        """Show saved values without emitting any signal."""
        self.history = QueryHistory(history)
        self.presets = Presets(presets)
        self._refresh_history()
        self._refresh_presets()
        self.query_box.setEditText(query)
        for widget in (self.mode_group, self.wet_slider, self.gain_slider):
            widget.blockSignals(True)
        (self.extract_button, self.remove_button)[MODES.index(mode)].setChecked(True)
        self.wet_slider.setValue(int(round(100 * wet)))
        self.gain_slider.setValue(int(round(gain_db)))
        for widget in (self.mode_group, self.wet_slider, self.gain_slider):
            widget.blockSignals(False)
        self.wet_label.setText(f"{self.wet_slider.value()} %")
        self.gain_label.setText(f"{self.gain_slider.value():+d} dB")

    def query_text(self) -> str:
        return self.query_box.currentText().strip()

    def mode(self) -> str:
        return MODES[max(0, self.mode_group.checkedId())]

    def show_mode(self, mode: str) -> None:
        """Check the mode's button without emitting `mode_changed` (the engine has it)."""
        (self.extract_button, self.remove_button)[MODES.index(mode)].setChecked(True)

    def show_controls(self, mode: str, wet: float, gain_db: float) -> None:
        """Show mode, dry/wet and gain without emitting signals (a typed ':command')."""
        for widget in (self.mode_group, self.wet_slider, self.gain_slider):
            widget.blockSignals(True)
        (self.extract_button, self.remove_button)[MODES.index(mode)].setChecked(True)
        self.wet_slider.setValue(int(round(100 * wet)))
        self.gain_slider.setValue(int(round(gain_db)))
        for widget in (self.mode_group, self.wet_slider, self.gain_slider):
            widget.blockSignals(False)
        self.wet_label.setText(f"{self.wet_slider.value()} %")
        self.gain_label.setText(f"{self.gain_slider.value():+d} dB")

    def show_warning(self, text: str) -> None:
        """Show (or, with "", hide) what the model does not know of the current query."""
        self.warning_label.setText(text)
        self.warning_label.setVisible(bool(text))

    def wet(self) -> float:
        return self.wet_slider.value() / 100.0

    def gain_db(self) -> float:
        return float(self.gain_slider.value())

    # -- slots ------------------------------------------------------------------------------

    def submit(self) -> None:
        """Send the query box's text and remember it in the history."""
        text = self.query_text()
        # Enter on a text that is in the history makes QComboBox emit `activated` as well
        # as `returnPressed`: merge repeats within one event into one submission.
        if self._pending_submit == text:
            return
        self._pending_submit = text
        QTimer.singleShot(0, self._clear_pending)
        if text:
            self.history.add(text)
            self._refresh_history()
            self.query_box.setEditText(text)
        self.query_submitted.emit(text)

    def use_learned(self, reference: str) -> None:
        """Put a learned query ("@NAME") in the query box and submit it."""
        self.query_box.setEditText(reference)
        self.submit()

    def _clear_pending(self) -> None:
        self._pending_submit = None

    def _use_preset(self, item: QListWidgetItem) -> None:
        self.query_box.setEditText(item.text())
        self.submit()

    def add_current_preset(self) -> None:
        if self.presets.add(self.query_text()):
            self._refresh_presets()

    def remove_selected_preset(self) -> None:
        item = self.preset_list.currentItem()
        if item is not None and self.presets.remove(item.text()):
            self._refresh_presets()

    def _preset_edited(self, item: QListWidgetItem) -> None:
        items = (self.preset_list.item(i) for i in range(self.preset_list.count()))
        texts = [it.text() for it in items if it is not None]
        self.presets = Presets(texts)
        if len(self.presets.items) != len(texts):  # an edit emptied or duplicated a preset
            self._refresh_presets()

    def _wet_moved(self, value: int) -> None:
        self.wet_label.setText(f"{value} %")
        self.wet_changed.emit(value / 100.0)

    def _gain_moved(self, value: int) -> None:
        self.gain_label.setText(f"{value:+d} dB")
        self.gain_changed.emit(float(value))

    def _refresh_history(self) -> None:
        text = self.query_box.currentText()
        self.query_box.blockSignals(True)
        self.query_box.clear()
        self.query_box.addItems(self.history.items)
        self.query_box.setEditText(text)
        self.query_box.blockSignals(False)

    def _refresh_presets(self) -> None:
        self.preset_list.blockSignals(True)
        self.preset_list.clear()
        for text in self.presets.items:
            item = QListWidgetItem(text)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.preset_list.addItem(item)
        self.preset_list.blockSignals(False)


def path_text(stats: object) -> tuple[str, str]:
    """(label, tooltip) for the path a stats snapshot reports."""
    if stats is None:
        return "Path: —", ""
    path = getattr(stats, "path", "model")
    if path == "expert":
        return f"Path: speech expert ({getattr(stats, 'expert', None) or 'on'})", ""
    note = getattr(stats, "expert_note", None) or ""
    if note and note != "speech expert off":
        return "Path: model (speech expert not installed)", note
    return "Path: model", note
