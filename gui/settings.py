"""What the GUI remembers between runs, and its QSettings round trip.

`GuiState` is a plain dataclass (the user's choices); `save_state`/`restore_state` map it
onto QSettings keys. Window geometry and dock layout go through QMainWindow's own
saveGeometry/saveState blobs (see main_window.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

from PyQt6.QtCore import QSettings

from livesep.gui.presets import DEFAULT_PRESETS

ORGANIZATION = "livesep"
APPLICATION = "livesep-gui"
MIN_GAIN_DB = -24.0  # output gain slider range (dB)
MAX_GAIN_DB = 12.0
MODES = ("extract", "remove")


@dataclass
class GuiState:
    """The user's choices; every field has a safe default."""

    bundle: str = ""  # bundle directory
    input_device: str = ""  # DeviceInfo.key, "" = system default
    output_device: str = ""
    input_file: str = ""  # file-driven mode when set
    query: str = "speech"
    history: list[str] = field(default_factory=list)
    presets: list[str] = field(default_factory=lambda: list(DEFAULT_PRESETS))
    mode: str = "extract"
    wet: float = 1.0  # 0 = dry only, 1 = processed only
    gain_db: float = 0.0
    bypass: bool = False

    def clamped(self) -> GuiState:
        """A copy with out-of-range values (e.g. from a hand-edited ini) made valid."""
        d = GuiState(**{f.name: getattr(self, f.name) for f in fields(self)})
        d.mode = d.mode if d.mode in MODES else "extract"
        d.wet = min(max(d.wet, 0.0), 1.0)
        d.gain_db = min(max(d.gain_db, MIN_GAIN_DB), MAX_GAIN_DB)
        return d


def open_settings(path: str | None = None) -> QSettings:
    """QSettings at the ini file `path`, or the platform's per-user store when None."""
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)


def _read(settings: QSettings, key: str, default: Any) -> Any:
    """settings.value coerced to the default's type; the default when missing or garbled."""
    raw = settings.value(key)
    if raw is None:
        return default
    try:
        if isinstance(default, bool):  # ini files store booleans as "true"/"false"
            return raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1", "yes")
        if isinstance(default, list):  # stored as JSON: QSettings garbles empty lists
            items = json.loads(str(raw))
            return [str(v) for v in items] if isinstance(items, list) else default
        return type(default)(raw)
    except (TypeError, ValueError):  # json.JSONDecodeError is a ValueError
        return default


def restore_state(settings: QSettings) -> GuiState:
    """The GuiState saved in `settings` (defaults for anything missing)."""
    defaults = GuiState()
    values = {
        f.name: _read(settings, f"state/{f.name}", getattr(defaults, f.name))
        for f in fields(GuiState)
    }
    return GuiState(**values).clamped()


def save_state(settings: QSettings, state: GuiState) -> None:
    """Write every GuiState field under "state/" and flush to disk."""
    for f in fields(GuiState):
        value = getattr(state, f.name)
        settings.setValue(
            f"state/{f.name}", json.dumps(value) if isinstance(value, list) else value
        )
    settings.sync()
