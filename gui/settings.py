"""What the GUI remembers between runs, in an ini file read without Qt.

`GuiState` is a plain dataclass (the user's choices); `save_state`/`restore_state` map it
onto keys of a `SettingsFile`. Window geometry and dock layout are QMainWindow's own
saveGeometry/saveState blobs, stored as base64 (see main_window.py).

Why not QSettings: PyQt's QSettings turns an ini value `@Variant(...)` holding a
`PyQt_PyObject` into a Python object by unpickling it, so a crafted settings file runs
code when it is read (or merged on save). `SettingsFile` is a plain INI reader
(`configparser`, no interpolation) that keeps strings as strings: it never deserialises
anything, ignores (and reports) every `@Variant(` or other `@...` entry Qt would decode,
reads at most `MAX_BYTES`, and writes through `livesep.atomic` (so the hostile entry is
gone after the next save).
"""

from __future__ import annotations

import base64
import configparser
import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from livesep.atomic import write_text
from livesep.errors import LivesepError
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
    expert: bool = True  # speech queries to the speech expert (when installed)

    def clamped(self) -> GuiState:
        """A copy with out-of-range values (e.g. from a hand-edited ini) made valid."""
        d = GuiState(**{f.name: getattr(self, f.name) for f in fields(self)})
        d.mode = d.mode if d.mode in MODES else "extract"
        d.wet = min(max(d.wet, 0.0), 1.0)
        d.gain_db = min(max(d.gain_db, MIN_GAIN_DB), MAX_GAIN_DB)
        return d


MAX_BYTES = 1 << 20  # bytes of a settings file read at most
SETTINGS_NAME = "livesep-gui.ini"  # in the per-user config folder
_B64 = "base64:"  # prefix of a stored byte blob


class SettingsFile:
    """Settings as `section/key` -> string in an ini file, read and written without Qt.

    `value(key)` returns the stored string (or None), `set_value` stores str, bool, int,
    float or bytes, `sync()` writes the file atomically. Entries Qt would deserialise
    (`@Variant(...)`, any value starting with `@`) are never decoded: they are left out
    and named in `refused`.

    Args:
        path: the ini file (need not exist).

    Raises:
        LivesepError: the file exists but is larger than MAX_BYTES, not UTF-8 or not an ini.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.values: dict[str, str] = {}
        self.refused: list[str] = []  # keys whose values were left out
        self._read()

    def _read(self) -> None:
        try:
            with open(self.path, "rb") as f:
                raw = f.read(MAX_BYTES + 1)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise LivesepError(f"{self.path}: cannot read settings ({exc.strerror})") from None
        if len(raw) > MAX_BYTES:
            raise LivesepError(f"{self.path}: settings file larger than {MAX_BYTES} bytes")
        parser = configparser.RawConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep key case
        try:
            parser.read_string(raw.decode("utf-8"))
        except (UnicodeDecodeError, configparser.Error) as exc:
            reason = type(exc).__name__
            raise LivesepError(f"{self.path}: not a settings ini file ({reason})") from None
        for section in parser.sections():
            for key, text in parser.items(section):
                name = key if section == "General" else f"{section}/{key}"
                value = _decode(text)
                if value is None:
                    self.refused.append(name)
                else:
                    self.values[name] = value

    def value(self, key: str) -> str | None:
        return self.values.get(key)

    def set_value(self, key: str, value: str | bool | int | float | bytes) -> None:
        if isinstance(value, bytes):
            self.values[key] = _B64 + base64.b64encode(value).decode("ascii")
        elif isinstance(value, bool):
            self.values[key] = "true" if value else "false"
        else:
            self.values[key] = str(value)

    def blob(self, key: str) -> bytes | None:
        """A byte blob stored by `set_value(key, bytes)`, or None."""
        text = self.values.get(key, "")
        if not text.startswith(_B64):
            return None
        try:
            return base64.b64decode(text[len(_B64) :], validate=True)
        except ValueError:
            return None

    def sync(self) -> None:
        """Write every value to the file (atomically)."""
        sections: dict[str, list[str]] = {}
        for name, value in sorted(self.values.items()):
            section, _, key = name.rpartition("/")
            sections.setdefault(section or "General", []).append(f"{key}={_encode(value)}")
        text = "".join(f"[{s}]\n" + "\n".join(lines) + "\n\n" for s, lines in sections.items())
        write_text(self.path, text)


def _encode(value: str) -> str:
    """A value as one ini line: plain when that reads back the same, else a JSON string."""
    plain = value == value.strip() and value.isprintable() and not value.startswith(('"', "@"))
    return value if plain else json.dumps(value)


def _decode(text: str) -> str | None:
    """The string an ini value stands for; None for Qt's `@...` encodings (never decoded)."""
    if text.startswith("@"):
        return None  # @Variant(...) would unpickle; @ByteArray, @Rect, ...: not ours
    if text.startswith('"'):
        try:
            value = json.loads(text)
        except ValueError:
            return text
        return value if isinstance(value, str) else text
    return text


def user_settings_path() -> Path:
    """The per-user settings file: $XDG_CONFIG_HOME (or ~/.config)/livesep/livesep-gui.ini."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / ORGANIZATION / SETTINGS_NAME


def open_settings(path: str | None = None) -> SettingsFile:
    """The settings in the ini file `path`, or the per-user file when None."""
    return SettingsFile(path if path else user_settings_path())


def _read(settings: SettingsFile, key: str, default: Any) -> Any:
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


def restore_state(settings: SettingsFile) -> GuiState:
    """The GuiState saved in `settings` (defaults for anything missing)."""
    defaults = GuiState()
    values = {
        f.name: _read(settings, f"state/{f.name}", getattr(defaults, f.name))
        for f in fields(GuiState)
    }
    return GuiState(**values).clamped()


def save_state(settings: SettingsFile, state: GuiState) -> None:
    """Write every GuiState field under "state/" and flush to disk."""
    for f in fields(GuiState):
        value = getattr(state, f.name)
        settings.set_value(
            f"state/{f.name}", json.dumps(value) if isinstance(value, list) else value
        )
    settings.sync()
