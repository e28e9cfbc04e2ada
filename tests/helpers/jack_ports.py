"""JACK test helpers: the ports a newly started stream opened, unlinked from the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def open_ports(server: Any, start: Callable[[], Any]) -> tuple[str, str]:
    """Run `start()` (which opens and starts a stream on `server`, a
    `livesep.realtime.jack.JackServer`) and return its new (input, output) JACK ports,
    disconnected from everything JACK linked them to."""
    before = set(server.ports())
    start()
    new = sorted(set(server.ports()) - before)
    ins = [p for p in new if ":in_" in p]
    outs = [p for p in new if ":out_" in p]
    for port in ins:
        for other in server.connections(port):
            server.disconnect(other, port)
    for port in outs:
        for other in server.connections(port):
            server.disconnect(port, other)
    return ins[0], outs[0]
