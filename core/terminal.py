"""Text that came from a user or a file, made safe to print on a terminal.

A query, a file name or a line from the control port may hold escape sequences (clear the
screen, retitle the window, hide text) or other control characters. `printable` removes
the sequences, shows other control characters as `\\xNN`, and can cap the length, so what
livesep echoes is always what it looks like.
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte ESC sequences, and the
# 8-bit C1 forms of CSI / OSC.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|\x9d[^\x07\x9c]*[\x07\x9c]?"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str, limit: int | None = None) -> str:
    """`text` without terminal escape sequences, control characters shown as `\\xNN`.

    Args:
        text: any string.
        limit: keep at most this many characters (an ellipsis marks the cut).
    """
    clean = _ESCAPES.sub("", str(text))
    clean = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", clean)
    if limit is not None and len(clean) > limit:
        clean = clean[: max(limit - 1, 0)] + "…"
    return clean
