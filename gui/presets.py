"""Query presets and history: plain lists with the rules the query box follows (no Qt)."""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT_PRESETS = (
    "speech",
    "keyboard typing",
    "dog barking",
    "music",
    "acoustic guitar",
    "siren",
    "applause",
    "wind noise",
)
HISTORY_SIZE = 20  # queries remembered, most recent first


def _clean(texts: Iterable[str]) -> list[str]:
    """Stripped, non-empty, first occurrence kept, order kept."""
    out: list[str] = []
    for text in texts:
        text = str(text).strip()
        if text and text not in out:
            out.append(text)
    return out


class QueryHistory:
    """Most-recent-first list of queries that were applied, without duplicates."""

    def __init__(self, items: Iterable[str] = (), size: int = HISTORY_SIZE) -> None:
        self.size = size
        self.items = _clean(items)[:size]

    def add(self, text: str) -> None:
        """Move `text` (stripped) to the front; blank text is ignored."""
        text = text.strip()
        if not text:
            return
        self.items = [text] + [t for t in self.items if t != text]
        del self.items[self.size :]


class Presets:
    """The user's editable preset queries (DEFAULT_PRESETS until edited)."""

    def __init__(self, items: Iterable[str] | None = None) -> None:
        self.items = _clean(DEFAULT_PRESETS if items is None else items)

    def add(self, text: str) -> bool:
        """Append `text`; False when it is blank or already a preset."""
        text = text.strip()
        if not text or text in self.items:
            return False
        self.items.append(text)
        return True

    def remove(self, text: str) -> bool:
        """Remove `text`; False when it is not a preset."""
        if text not in self.items:
            return False
        self.items.remove(text)
        return True

    def reset(self) -> None:
        self.items = list(DEFAULT_PRESETS)
