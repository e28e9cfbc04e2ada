"""A headless PipeWire (its own D-Bus session bus, pipewire, wireplumber) for tests.

Everything runs under a temporary XDG_RUNTIME_DIR; `env` is the environment a client
process needs to reach it. Every process is stopped by its PID.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from livesep.realtime.jack import stop_process

TOOLS = ("dbus-daemon", "pipewire", "wireplumber", "pw-cli", "pw-record")
START_TIMEOUT_S = 10.0


def available() -> bool:
    return all(shutil.which(tool) for tool in TOOLS)


class PipeWireServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="livesep-pw-"))
        self.env = dict(
            os.environ,
            XDG_RUNTIME_DIR=str(self.dir),
            XDG_STATE_HOME=str(self.dir / "state"),
            XDG_CONFIG_HOME=str(self.dir / "config"),
            DBUS_SESSION_BUS_ADDRESS=f"unix:path={self.dir / 'bus'}",
        )
        self.env.pop("PIPEWIRE_REMOTE", None)
        self.procs: list[subprocess.Popen[bytes]] = []

    def _spawn(self, *cmd: str) -> None:
        log = open(self.dir / f"{cmd[0]}.log", "wb")
        self.procs.append(subprocess.Popen(cmd, env=self.env, stdout=log, stderr=log))

    def _wait(self, ready, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready():
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                logs = {
                    p.name: p.read_text(errors="replace")[-300:] for p in self.dir.glob("*.log")
                }
                self.stop()
                raise RuntimeError(f"{what} did not start: {logs}")
            time.sleep(0.1)

    def run(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=10)

    def start(self) -> PipeWireServer:
        bus = self.env["DBUS_SESSION_BUS_ADDRESS"]
        self._spawn("dbus-daemon", "--session", f"--address={bus}", "--nofork", "--nopidfile")
        self._wait(lambda: (self.dir / "bus").exists(), "dbus-daemon")
        self._spawn("pipewire")
        self._wait(lambda: (self.dir / "pipewire-0").exists(), "pipewire")
        self._spawn("wireplumber")
        self._wait(lambda: "WirePlumber" in self.run("pw-dump").stdout, "wireplumber")
        return self

    def stop(self) -> None:
        for proc in reversed(self.procs):
            stop_process(proc)
        self.procs = []
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PipeWireServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
