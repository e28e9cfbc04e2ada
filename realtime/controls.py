"""Control messages for the engine and the background query encoder.

Controls cross threads through `ControlQueue`, a bounded deque (CPython's `append` and
`popleft` are atomic, so neither side takes a lock); the worker drains it between hops.
Text queries are read on `QueryEncoder`'s own thread, never on the audio path, and the
finished request is posted to the engine as an ordinary message. `parse_command` is the
one grammar of control lines (stdin and `--control-port` of `livesep live`, the GUI's
query box).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from livesep.errors import LivesepError
from livesep.query import MODES, QueryReader, Request

MAX_PENDING = 256  # controls waiting to be applied


@dataclass(frozen=True)
class Control:
    """One parameter change: `kind` in {"request", "wet", "gain_db", "bypass"}."""

    kind: str
    value: Any


class ControlQueue:
    """Bounded multi-producer / single-consumer queue that never blocks."""

    def __init__(self, maxsize: int = MAX_PENDING) -> None:
        self._items: deque[Control] = deque()
        self.maxsize = maxsize

    def put(self, item: Control) -> None:
        if len(self._items) >= self.maxsize:
            raise LivesepError(f"engine control queue full ({self.maxsize} pending)")
        self._items.append(item)

    def get(self) -> Control | None:
        try:
            return self._items.popleft()
        except IndexError:
            return None


class QueryEncoder:
    """Reads queries (`livesep.query.QueryReader`) on a background thread and hands each
    finished `Request` to `deliver`: a new text's encoding never runs on the audio path.

    Args:
        reader: the engine's query seam.
        deliver: called on the encoder thread with the finished request.
        on_error: called with a one-line message when reading fails.
    """

    def __init__(
        self,
        reader: QueryReader,
        deliver: Callable[[Request], None],
        on_error: Callable[[str], None],
    ) -> None:
        self.reader = reader
        self.deliver = deliver
        self.on_error = on_error
        self._todo: deque[Callable[[], Request]] = deque()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, read: Callable[[], Request]) -> None:
        """Run `read` soon on the encoder thread (the latest submitted one wins)."""
        self._todo.append(read)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="livesep-query", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            read = None
            while self._todo:  # only the newest request matters
                read = self._todo.popleft()
            if read is None:
                continue
            try:
                self.deliver(read())
            except LivesepError as exc:
                self.on_error(str(exc))
            except Exception as exc:  # an encoder bug must not kill the thread silently
                self.on_error(f"query: {type(exc).__name__}: {exc}")


# ---------------------------------------------------------------------------------------
# The control grammar: one line from stdin, --control-port or the GUI's query box


@dataclass(frozen=True)
class Command:
    """One parsed control line: `name` in COMMANDS, or "query" (the line is a query)."""

    name: str
    value: Any = None


ON_WORDS = ("on", "1", "true", "yes")
OFF_WORDS = ("off", "0", "false", "no")
COMMANDS = {
    "mode": "extract|remove",
    "mix": "W (wet amount, 0..1)",
    "gain": "DB (output gain)",
    "bypass": "on|off",
    "snap": "on|off (snap queries onto the training captions)",
    "expert": "on|off (speech queries to the speech expert)",
    "stats": "(print the engine's statistics)",
}
COMMAND_HELP = "commands start with ':': " + ", ".join(
    f":{name} {arg}" for name, arg in COMMANDS.items()
)


def _switch(word: str, arg: str) -> bool:
    value = arg.lower()
    if value in ON_WORDS:
        return True
    if value in OFF_WORDS:
        return False
    raise LivesepError(f":{word} takes on or off, got {arg!r}")


def _number(word: str, arg: str) -> float:
    try:
        return float(arg)
    except ValueError:
        raise LivesepError(f":{word} takes a number, got {arg!r}") from None


def _command_value(word: str, arg: str) -> Any:
    """The checked value of `:word arg`; raises `LivesepError` naming what is wrong."""
    if word == "stats":
        if arg:
            raise LivesepError(":stats takes no value")
        return None
    if not arg:
        raise LivesepError(f":{word} needs a value: :{word} {COMMANDS[word]}")
    if word == "mode":
        if arg.lower() not in MODES:
            raise LivesepError(f":mode takes extract or remove, got {arg!r}")
        return arg.lower()
    if word in ("bypass", "snap", "expert"):
        return _switch(word, arg)
    value = _number(word, arg)
    if word == "mix" and not 0.0 <= value <= 1.0:
        raise LivesepError(f":mix {arg}: the wet amount must be in [0, 1]")
    return value


def parse_command(line: str) -> Command | None:
    """Parse one control line: `:mode remove`, `:mix 0.5`, `:gain -6`, `:bypass on`,
    `:snap off`, `:stats`, or a query ("voice, not wind"); None for a blank line.

    Raises:
        LivesepError: an unknown `:command`, a bad value, or a bare command word with a
            valid value ("mix 0.5", "bypass on": a query would silently be the wrong thing).
    """
    text = line.strip()
    if not text:
        return None
    if text.startswith(":"):
        word, _, arg = text[1:].partition(" ")
        word, arg = word.lower(), arg.strip()
        if word not in COMMANDS:
            raise LivesepError(f"unknown command :{word} ({COMMAND_HELP})")
        return Command(word, _command_value(word, arg))
    word, _, arg = text.partition(" ")
    if word.lower() in COMMANDS and word.lower() != "stats":
        try:
            _command_value(word.lower(), arg.strip())
        except LivesepError:
            pass  # not a valid command either: a query such as "mix of voices"
        else:
            raise LivesepError(f"did you mean :{text}? ({COMMAND_HELP})")
    return Command("query", text)
