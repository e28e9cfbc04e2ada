"""The control port's transport: a bounded line reader over TCP on 127.0.0.1.

What a command means is not decided here: each complete line goes to a `handle(line) ->
reply` function (the command grammar). This layer only bounds what a client can make the
process do, whatever it sends:

- a line is at most `MAX_LINE` bytes; a longer one is discarded as it arrives (never
  buffered) and answered with an error;
- at most `MAX_CONNECTIONS` clients at once (one thread each); more are told so and closed;
- commands are rate-limited for all clients together (a token bucket of `RATE_PER_S`
  commands per second, bursts of `BURST`); a command over the limit is dropped and
  answered with an error;
- a client idle for `IDLE_TIMEOUT_S` is closed, so idle connections cannot hold the slots;
- replies are printable (escape sequences removed, `livesep.terminal.printable`) and at
  most `MAX_REPLY` characters: a line is never echoed back whole.
"""

from __future__ import annotations

import errno
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from typing import Any

from livesep.errors import LivesepError
from livesep.terminal import printable

HOST = "127.0.0.1"  # never another interface: the port has no authentication
MAX_LINE = 4096  # bytes per command line, newline excluded
MAX_CONNECTIONS = 8  # clients served at once
RATE_PER_S = 20.0  # commands per second, all clients together
BURST = 40  # commands accepted at once before the rate applies
IDLE_TIMEOUT_S = 120.0  # seconds a client may stay silent
MAX_REPLY = 2048  # characters per reply line
RECV_BYTES = 4096  # bytes read from the socket at a time

Handle = Callable[[str], str]


class TokenBucket:
    """`rate` tokens per second up to `burst`; `take()` is False when none is left."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate, float(burst), clock
        self.tokens = float(burst)
        self.stamp = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self.clock()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens < 1.0:
                return False
            self.tokens -= 1.0
            return True


class LineReader:
    """Split a byte stream into lines of at most `limit` bytes, at bounded memory.

    `feed(data)` returns the complete lines so far; a line longer than `limit` comes out
    as None (its bytes are dropped as they arrive, up to its newline).
    """

    def __init__(self, limit: int = MAX_LINE) -> None:
        self.limit = limit
        self._buf = bytearray()
        self._skipping = False  # inside an over-long line

    def feed(self, data: bytes) -> list[bytes | None]:
        lines: list[bytes | None] = []
        start = 0
        while True:
            end = data.find(b"\n", start)
            piece = data[start:] if end < 0 else data[start:end]
            if not self._skipping:
                if len(self._buf) + len(piece) > self.limit:
                    self._buf.clear()
                    self._skipping = True
                else:
                    self._buf += piece
            if end < 0:
                return lines
            lines.append(None if self._skipping else bytes(self._buf))
            self._buf.clear()
            self._skipping = False
            start = end + 1


def reply_text(reply: str) -> str:
    """A reply as sent: printable, one line, at most MAX_REPLY characters."""
    return printable(reply.replace("\n", " "), MAX_REPLY)


class ControlServer(socketserver.ThreadingTCPServer):
    """Serves `handle` on 127.0.0.1:`port` within the limits above (see the module doc).

    Raises:
        LivesepError: the port is in use or cannot be bound.
    """

    daemon_threads = True
    allow_reuse_address = True  # restart at once after a previous run (TIME_WAIT)

    def __init__(self, port: int, handle: Handle) -> None:
        self.handle_line = handle
        self.bucket = TokenBucket(RATE_PER_S, BURST)
        self.active = 0
        self._count_lock = threading.Lock()
        try:
            super().__init__((HOST, port), _Handler)
        except OverflowError:
            raise LivesepError(f"control port {port}: not a port number (1-65535)") from None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise LivesepError(
                    f"control port {HOST}:{port} is already in use (pick another "
                    "--control-port, or stop the program using it)"
                ) from None
            raise LivesepError(
                f"control port {HOST}:{port}: cannot listen ({exc.strerror})"
            ) from None

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._count_lock:
            full = self.active >= MAX_CONNECTIONS
            if not full:
                self.active += 1
        if full:  # answered on this thread, no new one: a flood costs no threads
            try:
                request.sendall(
                    f"error: too many connections (at most {MAX_CONNECTIONS})\n".encode()
                )
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def release(self) -> None:
        with self._count_lock:
            self.active -= 1

    def start(self) -> ControlServer:
        """Serve on a daemon thread; returns self."""
        threading.Thread(target=self.serve_forever, name="livesep-control", daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(socketserver.BaseRequestHandler):
    server: ControlServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(IDLE_TIMEOUT_S)
        reader = LineReader(MAX_LINE)
        try:
            while True:
                try:
                    data = sock.recv(RECV_BYTES)
                except (TimeoutError, OSError):
                    return
                if not data:
                    return
                for line in reader.feed(data):
                    sock.sendall((self._reply(line) + "\n").encode("utf-8"))
        except OSError:  # the client went away mid-reply
            return
        finally:
            self.server.release()

    def _reply(self, line: bytes | None) -> str:
        if line is None:
            return f"error: line longer than {MAX_LINE} bytes, ignored"
        if not self.server.bucket.take():
            return f"error: more than {RATE_PER_S:g} commands per second, command dropped"
        return reply_text(self.server.handle_line(line.decode("utf-8", "replace")))


def serve(port: int, handle: Handle) -> ControlServer:
    """Start a `ControlServer` on 127.0.0.1:`port` (daemon thread) and return it."""
    return ControlServer(port, handle).start()
