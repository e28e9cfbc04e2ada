"""SIGTERM and SIGHUP as an exception, so an interrupted run cleans up like Ctrl-C does.

`Terminated` derives from BaseException (as KeyboardInterrupt does), so `except Exception`
blocks let it pass and every `with` block unwinds: `livesep.atomic.atomic_path` deletes its
temporary file and any existing output stays as it was. SIGKILL cannot be caught; the next
run's first write into the folder removes what it left (`livesep.atomic.clean_stale_temps`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

HANDLED = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(BaseException):
    """The process received SIGTERM or SIGHUP."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"terminated by {signal.Signals(signum).name}")
        self.signum = signum


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


def install(handler: Callable[[int, FrameType | None], Any] = _raise) -> dict[int, Any]:
    """Route SIGTERM and SIGHUP to `handler` (default: raise `Terminated`).

    Only the main thread may set handlers; elsewhere this does nothing.

    Returns:
        The previous handlers, for `restore`.
    """
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: signal.signal(signum, handler) for signum in HANDLED}


def restore(previous: dict[int, Any]) -> None:
    """Put back the handlers `install` replaced."""
    for signum, handler in previous.items():
        signal.signal(signum, handler)
