"""The live path under hostile input: bad samples, loud output, and the control port."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pytest
from helpers.hostile import RATE, one_line_errors

from livesep.cli import main
from livesep.errors import LivesepError
from livesep.realtime import Engine, control_server
from livesep.realtime.control_server import MAX_CONNECTIONS, MAX_LINE, LineReader, TokenBucket
from livesep.realtime.guard import INPUT_LIMIT, InputGuard, OutputLimiter


def _engine(bundle, query="speech") -> Engine:
    engine = Engine(bundle, query=query, worker="callback")
    engine.process(np.zeros((RATE // 10, 1), np.float32))  # first callback plans latency
    return engine


def test_non_finite_and_huge_input_is_cleaned_and_counted(bundle):
    engine = _engine(bundle)
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal((RATE, 1))).astype(np.float32)
    x[1000, 0], x[2000, 0], x[3000, 0], x[4000, 0] = np.nan, np.inf, -np.inf, 1e30
    with engine:
        y = engine.process(x)
        stats = engine.stats()
    assert np.all(np.isfinite(y)) and np.abs(y).max() <= 1.0
    assert stats.input_nonfinite == 3 and stats.input_clipped == 1
    # only the bad samples changed: the rest comes out as it went in (gain 1, delayed)
    lat = engine.latency_frames
    clean = x.copy()
    clean[[1000, 2000, 3000], 0] = 0.0
    clean[4000, 0] = 0.0  # clipped to +4, then limited: compare away from it
    keep = np.ones(RATE - lat, bool)
    keep[4000 - 300 : 4000 + 2700] = False  # the +4 sample's limiter block and its release
    np.testing.assert_allclose(y[lat:, 0][keep], clean[: RATE - lat, 0][keep], atol=1e-6)


def test_output_never_exceeds_full_scale(bundle):
    engine = _engine(bundle)
    t = np.arange(RATE) / RATE
    loud = (3.0 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[:, None]  # +9.5 dBFS
    with engine:
        y = engine.process(loud)
        stats = engine.stats()
    assert np.abs(y).max() <= 1.0 and stats.limited_frames > RATE // 2


def test_guards_in_isolation():
    guard = InputGuard()
    block = np.ones((8, 2), np.float32)
    assert guard.clean(block) is block  # the common case: no copy
    block[3, 1] = np.nan
    block[5, 0] = 100.0
    out = guard.clean(block)
    assert np.isnan(block[3, 1])  # the caller's buffer is not changed
    assert out[3, 1] == 0.0 and out[5, 0] == INPUT_LIMIT
    assert (guard.nonfinite, guard.clipped) == (1, 1)
    limiter = OutputLimiter(RATE)
    y = np.full((256, 1), 2.0, np.float32)
    limiter.process(y)
    assert np.abs(y).max() <= 1.0 and limiter.gain == pytest.approx(0.5)
    quiet = np.full((RATE, 1), 0.1, np.float32)
    limiter.process(quiet)  # releases back to unity within RELEASE_S
    assert limiter.gain == 1.0 and quiet[-1, 0] == pytest.approx(0.1)


# -- the control port --------------------------------------------------------------------


def test_line_reader_memory_stays_bounded_on_a_64_mb_line():
    reader = LineReader(MAX_LINE)
    chunk = b"x" * 65536
    for _ in range(1024):  # 64 MiB without a newline
        assert reader.feed(chunk) == []
        assert len(reader._buf) <= MAX_LINE
    assert reader.feed(b"tail\n:mix 0.5\n") == [None, b":mix 0.5"]


def test_token_bucket():
    now = [0.0]
    bucket = TokenBucket(rate=10.0, burst=5, clock=lambda: now[0])
    assert [bucket.take() for _ in range(7)] == [True] * 5 + [False] * 2
    now[0] += 0.25  # 2.5 tokens
    assert [bucket.take() for _ in range(3)] == [True, True, False]


class _Recorder:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> str:
        self.lines.append(line)
        return f"query: {line.strip()}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


def _read_lines(sock: socket.socket, n: int) -> list[str]:
    data = b""
    while data.count(b"\n") < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode().splitlines()


@pytest.fixture
def server():
    handle = _Recorder()
    srv = control_server.serve(_free_port(), handle)
    srv.recorder = handle  # type: ignore[attr-defined]
    yield srv
    srv.stop()


def test_long_lines_are_refused_and_escapes_never_echoed(server):
    port = server.server_address[1]
    with _connect(port) as sock:
        sock.sendall(b"y" * (10 * MAX_LINE) + b"\n")
        sock.sendall(b"\x1b]0;owned\x07dog\x1b[2J\n")
        sock.sendall(b"z" * (MAX_LINE - 10) + b"\n")
        replies = _read_lines(sock, 3)
    assert replies[0] == f"error: line longer than {MAX_LINE} bytes, ignored"
    assert "\x1b" not in replies[1] and "\x07" not in replies[1] and "dog" in replies[1]
    assert len(replies[2]) <= control_server.MAX_REPLY and replies[2].endswith("…")
    assert len(server.recorder.lines) == 2  # the long line never reached the grammar


def test_connections_are_capped_and_slots_come_back(server):
    port = server.server_address[1]
    held = [_connect(port) for _ in range(MAX_CONNECTIONS)]
    for sock in held:  # each one served (so counted) before the next test
        sock.sendall(b"speech\n")
        assert _read_lines(sock, 1) == ["query: speech"]
    with _connect(port) as extra:
        assert _read_lines(extra, 1) == [f"error: too many connections (at most {MAX_CONNECTIONS})"]
        assert extra.recv(10) == b""  # closed
    assert threading.active_count() < 40  # no thread per refused connection
    held.pop().close()
    deadline = time.monotonic() + 30
    while server.active >= MAX_CONNECTIONS and time.monotonic() < deadline:
        time.sleep(0.01)  # waiting for the server to see the close, not timing it
    with _connect(port) as again:
        again.sendall(b"speech\n")
        assert _read_lines(again, 1) == ["query: speech"]
    for sock in held:
        sock.close()


def test_commands_are_rate_limited(server):
    port = server.server_address[1]
    with _connect(port) as sock:
        sock.sendall(b"speech\n" * 300)
        replies = _read_lines(sock, 300)
    dropped = [r for r in replies if r.startswith("error: more than")]
    assert len(replies) == 300 and len(dropped) >= 300 - control_server.BURST - 100
    assert len(server.recorder.lines) == 300 - len(dropped)


def test_a_port_in_use_is_a_one_line_error(bundle, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(LivesepError, match="already in use"):
            control_server.serve(port, _Recorder())
        argv = ["live", "--query", "speech", "--bundle", str(bundle.path), "--device-rate",
                "16000", "--control-port", str(port)]  # fmt: skip
        assert main(argv) == 1
    err = capsys.readouterr().err
    one_line_errors(err)
    assert f"control port 127.0.0.1:{port} is already in use" in err


def test_the_port_speaks_the_one_control_grammar(bundle):
    """`livesep live`'s port: the transport's limits around `controls.parse_command`
    (an unknown `:command` or a bare command word is an error, never a query), and the
    query's reply and its 'does not know' warning reach the client without escapes."""
    from helpers.hostile import ESCAPE_QUERY

    from livesep.realtime.cli_live import serve_controls

    engine = _engine(bundle)
    server = serve_controls(engine, _free_port())
    try:
        with _connect(server.server_address[1]) as sock:
            for line in (":volume 3", "mix 0.5", ":mix 0.5", ESCAPE_QUERY, ""):
                sock.sendall(line.encode() + b"\n")
            replies = _read_lines(sock, 5)
        engine.process(np.zeros((RATE // 10, 1), np.float32))  # the worker applies controls
        stats = engine.stats()
    finally:
        server.stop()
        engine.close()
    unknown, bare, mix, query, blank = replies
    assert unknown.startswith("error: unknown command :volume")
    assert bare.startswith("error: did you mean :mix 0.5?")
    assert mix == "mix: 0.5" and blank == ""
    assert query.startswith("query: ") and "owned" in query and "dog" in query
    assert "warning: the model does not know" in query  # joined with " | "
    assert not any(c in query for c in "\x1b\x07\x9b")
    assert stats.query == ESCAPE_QUERY.strip() and stats.wet == 0.5  # as typed, applied
