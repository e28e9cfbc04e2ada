"""Start and stop a JACK server with the dummy backend (tests and benchmarks).

The server gets its own name and `JACK_DEFAULT_SERVER` points PortAudio and the jack_*
tools at it, so it never meets another JACK server on the machine. It is stopped by its
PID.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from livesep.errors import AudioError


def stop_process(
    proc: subprocess.Popen[bytes] | subprocess.Popen[str], timeout: float = 5.0
) -> None:
    """Stop a server we started, by its PID: SIGTERM, then SIGKILL after `timeout` s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


START_TIMEOUT_S = 10.0


def available() -> bool:
    """True when jackd and the jack_* tools are installed."""
    return all(shutil.which(tool) for tool in ("jackd", "jack_lsp", "jack_connect"))


class JackServer:
    """`jackd -n NAME -d dummy -r RATE -p PERIOD`, as a context manager.

    Args:
        rate: sample rate in Hz.
        period: frames per period.
        name: server name (default: unique per process).
    """

    def __init__(self, rate: int = 48000, period: int = 256, name: str | None = None) -> None:
        self.rate = rate
        self.period = period
        self.name = name or f"livesep{os.getpid()}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = Path(tempfile.gettempdir()) / f"{self.name}.jackd.log"
        self._old_env: str | None = None

    def start(self) -> JackServer:
        if not available():
            raise AudioError("jackd not installed (apt-get install jackd2)")
        cmd = [
            "jackd",
            "-n",
            self.name,
            "-d",
            "dummy",
            "-r",
            str(self.rate),
            "-p",
            str(self.period),
        ]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        self._old_env = os.environ.get("JACK_DEFAULT_SERVER")
        os.environ["JACK_DEFAULT_SERVER"] = self.name
        deadline = time.monotonic() + START_TIMEOUT_S
        while "system:playback_1" not in self.ports():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                text = self.log.read_text(errors="replace")[-500:]
                self.stop()
                raise AudioError(f"jackd did not start: {text}")
            time.sleep(0.1)
        from livesep.realtime.stream import refresh

        refresh()  # PortAudio lists JACK's devices only if the server ran at init
        return self

    def stop(self) -> None:
        """Stop the server (by its PID) and restore the environment.

        PortAudio is shut down first (its JACK host API asserts when the server vanishes
        under it) and re-initialised afterwards.
        """
        from livesep.realtime.stream import sounddevice

        proc, self.proc = self.proc, None
        sd = sounddevice()
        sd._terminate()
        if proc is not None:
            stop_process(proc)
        if self._old_env is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = self._old_env
        sd._initialize()

    def __enter__(self) -> JackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _tool(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, JACK_DEFAULT_SERVER=self.name)
        return subprocess.run(args, capture_output=True, text=True, env=env, timeout=10)

    def ports(self) -> list[str]:
        """Port names on the server (empty while it is not up)."""
        result = self._tool("jack_lsp")
        return result.stdout.split() if result.returncode == 0 else []

    def connect(self, source: str, dest: str) -> None:
        result = self._tool("jack_connect", source, dest)
        if result.returncode != 0:
            raise AudioError(f"jack_connect {source} {dest}: {result.stderr.strip()}")

    def disconnect(self, source: str, dest: str) -> None:
        self._tool("jack_disconnect", source, dest)

    def connections(self, port: str) -> list[str]:
        """Ports connected to `port`."""
        result = self._tool("jack_lsp", "-c", port)
        lines = result.stdout.splitlines()
        return [line.strip() for line in lines[1:] if line.startswith((" ", "\t"))]
