"""Level meters: peak/RMS in dBFS from a monitor block, and a bar widget that paints them.

The widget only stores two numbers and repaints; the arithmetic happens once per GUI tick on
the block the view model pulled from the engine's monitor tap.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QRectF, QSize, Qt
from PyQt6.QtGui import QColor, QPainter, QPaintEvent
from PyQt6.QtWidgets import QSizePolicy, QWidget

FLOOR_DB = -60.0  # dBFS at the bottom of the scale (and the value of silence)
WARN_DB = -12.0  # dBFS where the bar turns amber
CLIP_DB = -1.0  # dBFS where the bar turns red
PEAK_FALL_DB = 1.0  # dB the peak-hold marker falls per update (about 30 dB/s at 30 Hz)
SCALE_DB = (0.0, -6.0, -12.0, -24.0, -48.0)  # dBFS marks labelled beside the bar
SCALE_W = 22  # px for the scale's numbers


def level_dbfs(block: np.ndarray) -> tuple[float, float]:
    """Peak and RMS of `block` in dBFS, floored at FLOOR_DB.

    Args:
        block: float samples [T] or [C, T] with full scale 1.0; empty means silence.

    Returns:
        (peak_db, rms_db).
    """
    x = np.asarray(block, dtype=np.float32).ravel()
    if x.size == 0:
        return FLOOR_DB, FLOOR_DB
    peak = float(np.max(np.abs(x)))
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return _db(peak), _db(rms)


def _db(amplitude: float) -> float:
    if amplitude <= 0.0 or not np.isfinite(amplitude):
        return FLOOR_DB
    return max(FLOOR_DB, 20.0 * float(np.log10(amplitude)))


class LevelMeter(QWidget):
    """A vertical meter: RMS bar, peak-hold line, scale from FLOOR_DB to 0 dBFS."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.peak_db = FLOOR_DB
        self.rms_db = FLOOR_DB
        self.hold_db = FLOOR_DB
        self.setMinimumWidth(SCALE_W + 14)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.setToolTip(f"{title} level: bar = RMS, line = peak hold (dBFS, floor {FLOOR_DB:g})")

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(SCALE_W + 18, 160)

    def set_levels(self, peak_db: float, rms_db: float) -> None:
        """Show new levels; the peak-hold marker falls slowly towards the new peak."""
        self.peak_db = peak_db
        self.rms_db = rms_db
        self.hold_db = max(peak_db, self.hold_db - PEAK_FALL_DB)
        self.update()

    def _y(self, db: float, height: float) -> float:
        frac = (min(max(db, FLOOR_DB), 0.0) - FLOOR_DB) / -FLOOR_DB
        return height * (1.0 - frac)

    def paintEvent(self, event: QPaintEvent | None) -> None:  # noqa: N802 (Qt override)
        h = float(self.height())
        w = float(self.width()) - SCALE_W  # the bar; the dBFS scale is on its right
        pad = 6.0  # px above and below so the 0 and -48 labels fit
        bar = h - 2 * pad
        p = QPainter(self)
        p.fillRect(QRectF(0, pad, w, bar), QColor(24, 24, 28))
        color = QColor(70, 200, 90)
        if self.peak_db >= CLIP_DB:
            color = QColor(230, 60, 50)
        elif self.peak_db >= WARN_DB:
            color = QColor(230, 180, 40)
        top = pad + self._y(self.rms_db, bar)
        p.fillRect(QRectF(2, top, w - 4, pad + bar - top), color)
        p.setPen(QColor(240, 240, 240))
        y = pad + self._y(self.hold_db, bar)
        p.drawLine(2, int(y), int(w) - 2, int(y))
        font = p.font()
        font.setPointSizeF(7.0)
        p.setFont(font)
        for mark in SCALE_DB:
            y = pad + self._y(mark, bar)
            p.setPen(QColor(120, 120, 130))
            p.drawLine(int(w) - 4, int(y), int(w), int(y))
            p.setPen(self.palette().windowText().color())
            p.drawText(
                QRectF(w + 2, y - 6, SCALE_W - 2, 12),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                f"{mark:g}",
            )
        p.end()
