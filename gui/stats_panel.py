"""The numbers a user needs to trust the stream: latency, load, dropouts, provider."""

from __future__ import annotations

from typing import Any

from PyQt6.QtWidgets import QGridLayout, QLabel, QWidget

COLUMN_ROWS = 3  # rows per column of the panel (two columns)

# Row title -> tooltip; the order is the panel's.
ROWS = {
    "Latency": "end-to-end = algorithmic (model) + buffering (engine) + device (PortAudio)",
    "Load": "processing time per hop / hop duration (real-time factor), median and p99",
    "Dropouts": "PortAudio under/overflows (input, output) and fallback frames sent late",
    "Late hops": "hops the worker finished after their deadline; resyncs = input dropped",
    "Provider": "ONNX Runtime execution provider running the model",
    "Stream": "device and model sample rates, period, hops processed",
}


def format_stats(stats: Any) -> dict[str, str]:
    """Row title -> text for an EngineStats snapshot (None: a dash in every row)."""
    if stats is None:
        return {title: "—" for title in ROWS}
    s = stats
    dropouts = s.input_underflows + s.input_overflows + s.output_underflows + s.output_overflows
    return {
        "Latency": f"{s.latency_ms:.1f} ms  ({_path(s)} {s.algorithmic_ms:.1f} + resample "
        f"{s.resample_ms:.1f} + buffer {s.buffering_ms:.1f} + device {s.device_latency_ms:.1f})",
        "Load": f"{100 * s.rtf_median:.0f} % median, {100 * s.rtf_p99:.0f} % p99",
        "Dropouts": f"{dropouts}  (in {s.input_underflows}/{s.input_overflows}, out "
        f"{s.output_underflows}/{s.output_overflows}, fallback {s.fallback_frames} frames)",
        "Late hops": f"{s.late_hops}  (resyncs {s.resyncs})",
        "Provider": str(s.provider),
        "Stream": f"{s.device_rate} Hz device, {s.model_rate} Hz model, period "
        f"{s.period_frames}, {s.hops} hops",
    }


def _path(s: Any) -> str:
    """What plays: "model", or "expert" (the speech expert)."""
    return str(getattr(s, "path", "model"))


class StatsPanel(QWidget):
    """A form of labels refreshed from each stats snapshot."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        self.values: dict[str, QLabel] = {}
        for i, (title, tip) in enumerate(ROWS.items()):
            label = QLabel("—")
            label.setToolTip(tip)
            label.setObjectName(f"stats_{title.lower().replace(' ', '_')}")
            self.values[title] = label
            row, col = i % COLUMN_ROWS, 2 * (i // COLUMN_ROWS)
            grid.addWidget(QLabel(f"<b>{title}</b>"), row, col)
            grid.addWidget(label, row, col + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)

    def show_stats(self, stats: Any) -> None:
        for title, text in format_stats(stats).items():
            if self.values[title].text() != text:  # repaint only what changed
                self.values[title].setText(text)

    def text(self) -> dict[str, str]:
        return {title: label.text() for title, label in self.values.items()}
