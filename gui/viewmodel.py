"""The view model between the window and the realtime engine.

`EngineController` owns the bundle, the engine and (in file-driven mode) the file feeder.
The window calls its methods and listens to its signals; it never touches the engine.
While a stream runs, one QTimer (POLL_HZ) pulls `engine.stats()` and the new samples of
the monitor taps and emits them: the audio path does no work for the GUI, and every slot
only copies numbers into widgets.

Controls are remembered here and re-sent to every new engine, so a restarted stream
(new devices, a vanished device, a new bundle) comes back with the user's settings.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from livesep.bundle import Bundle, load_bundle
from livesep.errors import LivesepError
from livesep.gui.devices import DeviceInfo
from livesep.gui.filefeed import FileFeeder, read_audio_file
from livesep.gui.meters import level_dbfs
from livesep.realtime.controls import parse_command

POLL_HZ = 30.0  # GUI pulls from the engine this many times per second
STALL_SECONDS = 2.0  # a running stream that delivers no audio this long is declared lost
STATS_EVERY = 6  # polls per stats() read: numbers at 5 Hz are readable and cost less
MONITOR_TRIES = 3  # reads of the monitor taps per poll while the audio thread races them
MAX_CHANNELS = 2  # device streams open at most stereo (downmixed to one model row)


@dataclass
class Levels:
    """Meter readings of the audio since the last poll, in dBFS."""

    input_peak: float
    input_rms: float
    output_peak: float
    output_rms: float


def default_engine_factory(bundle: Bundle, **kwargs: Any) -> Any:
    """`livesep.realtime.Engine(bundle, **kwargs)`, imported on first use."""
    from livesep.realtime import Engine

    return Engine(bundle, **kwargs)


def stream_rate(input_device: DeviceInfo | None, output_device: DeviceInfo | None) -> int | None:
    """Sample rate (Hz) for a duplex stream: the output's default, else the input's, else None.

    PortAudio does not resample, so both sides run at one rate; the engine resamples
    between that rate and the model's.
    """
    for dev in (output_device, input_device):
        if dev is not None:
            return int(dev.default_samplerate)
    return None


def stream_channels(input_device: DeviceInfo | None, output_device: DeviceInfo | None) -> int:
    """Channels to open: stereo when both sides have it (MAX_CHANNELS), else mono."""
    n = MAX_CHANNELS
    for dev, count in (
        (input_device, lambda d: d.max_input_channels),
        (output_device, lambda d: d.max_output_channels),
    ):
        if dev is not None:
            n = min(n, count(dev))
    return max(1, n) if input_device or output_device else 1


class EngineController(QObject):
    """Starts/stops the engine, forwards controls, polls stats and monitor taps."""

    running_changed = pyqtSignal(bool)
    bundle_changed = pyqtSignal(object)  # Bundle or None
    stats_updated = pyqtSignal(object)  # the engine's EngineStats snapshot
    audio_updated = pyqtSignal(object, object)  # new input, output samples: float32 [n] each
    levels_updated = pyqtSignal(object)  # Levels
    error = pyqtSignal(str)  # something failed; the app keeps running
    query_warning = pyqtSignal(str)  # what the model does not know of the query ("" = none)
    controls_changed = pyqtSignal()  # a ":command" typed in the query box changed a control
    message = pyqtSignal(str)  # status-bar information

    def __init__(
        self,
        engine_factory: Callable[..., Any] = default_engine_factory,
        poll_hz: float = POLL_HZ,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine_factory = engine_factory
        self.bundle: Bundle | None = None
        self.engine: Any = None
        self.feeder: FileFeeder | None = None
        self.sample_rate = 0  # Hz of the running stream's monitor taps
        self.query = "speech"
        self.mode = "extract"
        self.wet = 1.0
        self.gain_db = 0.0
        self.bypass = False
        self.snap = True
        self.expert = True  # the user's switch: speech queries to the speech expert
        self.expert_allowed = True  # False: engines are made without it (`--no-expert`)
        self.last_error: str | None = None
        self.last_stats: Any = None
        self.polls = 0
        self.expect_digest: str | None = None  # every bundle loaded must have this digest
        self._monitor_pos = 0
        self._last_audio_time = 0.0
        self._engine_error: str | None = None
        self._warning = ""
        self.timer = QTimer(self)
        self.timer.setInterval(int(round(1000.0 / poll_hz)))
        self.timer.timeout.connect(self.poll)

    # -- bundle ---------------------------------------------------------------------------

    def load_bundle(self, path: str | Path) -> bool:
        """Load and validate the bundle at `path`; on failure keep the current one.

        A running stream is stopped (its engine belongs to the old bundle).
        """
        try:
            bundle = load_bundle(path, expect_digest=self.expect_digest)
        except LivesepError as exc:
            self._fail(f"bundle not loaded: {exc}")
            return False
        self.stop()
        self.bundle = bundle
        self.bundle_changed.emit(bundle)
        self.message.emit(f"bundle {bundle.name} loaded from {bundle.path}")
        return True

    # -- stream ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.engine is not None

    def start(
        self,
        input_device: DeviceInfo | None = None,
        output_device: DeviceInfo | None = None,
        input_file: str = "",
    ) -> bool:
        """(Re)start the stream on devices, or on `input_file` (file-driven) when given."""
        self.stop()
        if self.bundle is None:
            self._fail("no model bundle loaded: open one first")
            return False
        try:
            if input_file:
                self._start_file(input_file)
            else:
                self._start_devices(input_device, output_device)
        # The GUI boundary: PortAudio, ONNX Runtime and file errors all become a message
        # and the app stays up, ready for another try.
        except Exception as exc:
            self._close_engine()
            self._fail(f"stream not started: {exc}")
            return False
        self._monitor_pos = int(self.engine.monitor_position)
        self._last_audio_time = time.monotonic()
        self._engine_error = None
        self.timer.start()
        self.running_changed.emit(True)
        return True

    def _make_engine(self, rate: int | None, channels: int) -> Any:
        engine = self.engine_factory(
            self.bundle,
            device_rate=rate,
            channels=channels,
            channel_mode="downmix",
            expert=self.expert_allowed,
        )
        self.engine = engine
        self.sample_rate = int(rate or engine.stats().device_rate)
        self._send_controls()
        return engine

    def _start_file(self, path: str) -> None:
        audio, rate = read_audio_file(path)
        engine = self._make_engine(rate, 1)
        self.feeder = FileFeeder(engine, audio, rate)
        self.feeder.start()
        self.message.emit(f"playing {Path(path).name} (file-driven, {rate} Hz, looping)")

    def _start_devices(self, input_device: DeviceInfo | None, output_device: DeviceInfo | None):
        rate = stream_rate(input_device, output_device)
        engine = self._make_engine(rate, stream_channels(input_device, output_device))
        engine.start(
            input_device=None if input_device is None else input_device.index,
            output_device=None if output_device is None else output_device.index,
        )
        names = [d.name if d else "default" for d in (input_device, output_device)]
        self.message.emit(f"running: {names[0]} -> {names[1]} at {self.sample_rate} Hz")

    def stop(self) -> None:
        """Stop and close the stream (no-op when stopped)."""
        if self.engine is None:
            return
        self.timer.stop()
        self._close_engine()
        self.running_changed.emit(False)

    def _close_engine(self) -> None:
        if self.feeder is not None:
            self.feeder.stop()
            self.feeder = None
        if self.engine is not None:
            engine, self.engine = self.engine, None
            try:
                engine.stop()
                engine.close()
            except Exception as exc:  # closing a stream whose device vanished may fail too
                self.message.emit(f"stream closed with an error: {exc}")

    # -- controls -------------------------------------------------------------------------

    def set_query(self, text: str) -> bool:
        """One line from the query box, in `livesep live`'s grammar (`parse_command`): a
        query ("voice, not wind"; the engine reads it off this thread and cross-fades to
        it) or a control (":mix 0.5", ":mode remove", ":snap off", ":stats")."""
        try:
            command = parse_command(text)
        except LivesepError as exc:
            self._fail(str(exc))
            return False
        if command is None:
            self._fail("empty query: describe the sound to separate")
            return False
        if command.name == "query":
            self.query = command.value
            return self._send("set_query", self.query)
        if command.name == "stats":
            stats = self.last_stats
            self.message.emit(str(stats.to_dict()) if stats is not None else "no stream running")
            return True
        setters: dict[str, Callable[[Any], bool]] = {
            "mode": self.set_mode,
            "mix": self.set_mix,
            "gain": self.set_gain_db,
            "bypass": self.set_bypass,
            "snap": self.set_snap,
            "expert": self.set_expert,
        }
        done = setters[command.name](command.value)
        self.controls_changed.emit()
        return done

    def set_mode(self, mode: str) -> bool:
        self.mode = mode
        return self._send("set_mode", mode)

    def set_mix(self, wet: float) -> bool:
        self.wet = float(wet)
        return self._send("set_mix", self.wet)

    def set_gain_db(self, db: float) -> bool:
        self.gain_db = float(db)
        return self._send("set_gain_db", self.gain_db)

    def set_bypass(self, on: bool) -> bool:
        self.bypass = bool(on)
        return self._send("set_bypass", self.bypass)

    def set_snap(self, on: bool) -> bool:
        self.snap = bool(on)
        return self._send("set_snap", self.snap)

    def set_expert(self, on: bool) -> bool:
        """The speech expert on or off (the running engine re-routes its query)."""
        self.expert = bool(on)
        if self.engine is None or self.engine.expert_path is None:
            return True  # remembered for the next engine (or nothing to switch)
        return self._send("set_expert", self.expert)

    def expert_status(self) -> tuple[bool, str]:
        """(whether the speech expert can run here, what to tell the user when not)."""
        from livesep import expert

        if not self.expert_allowed:
            return False, "speech expert off (--no-expert)"
        if not expert.available():
            return False, expert.EXTRA_HINT
        return True, ""

    def _send(self, method: str, value: Any) -> bool:
        """Post one control message to the running engine (remembered either way)."""
        if self.engine is None:
            return True
        try:
            getattr(self.engine, method)(value)
        except LivesepError as exc:
            self._fail(f"{method}({value!r}) refused: {exc}")
            return False
        return True

    def _send_controls(self) -> None:
        for method, value in (
            ("set_mode", self.mode),
            ("set_mix", self.wet),
            ("set_gain_db", self.gain_db),
            ("set_bypass", self.bypass),
            ("set_snap", self.snap),
        ):
            self._send(method, value)
        if self.engine.expert_path is not None:
            self._send("set_expert", self.expert)  # re-reads the query: before set_query
        self._send("set_query", self.query)

    # -- polling --------------------------------------------------------------------------

    def poll(self) -> None:
        """One GUI tick: pull stats and new monitor audio, detect a lost stream."""
        engine = self.engine
        if engine is None:
            return
        self.polls += 1
        if self.polls % STATS_EVERY == 1 or STATS_EVERY == 1:
            self._pull_stats(engine)
        self._pull_monitor(engine)
        lost = self._lost_reason(engine)
        if lost:
            self.stop()
            self._fail(f"{lost}; press Start to restart the stream")

    def _pull_stats(self, engine: Any) -> None:
        stats = engine.stats()
        self.last_stats = stats
        self.stats_updated.emit(stats)
        warning = getattr(stats, "query_warning", None) or ""
        if warning != self._warning:
            self._warning = warning
            self.query_warning.emit(warning)
        if stats.error and stats.error != self._engine_error:
            self._engine_error = stats.error  # e.g. a query that could not be encoded
            self._fail(f"engine: {stats.error}")

    def _pull_monitor(self, engine: Any) -> None:
        # monitor(n) returns the newest n samples; if the audio thread writes a period
        # between reading the position and the copy, the block would overlap the previous
        # one (a false click in the spectrogram). Re-read until the position held still.
        for _ in range(MONITOR_TRIES):
            pos = int(engine.monitor_position)
            new = min(pos - self._monitor_pos, int(engine.monitor_capacity))
            if new <= 0:
                return
            inp, out = engine.monitor(new)  # float32 [new] each
            if int(engine.monitor_position) == pos:
                break
        self._monitor_pos = pos
        self._last_audio_time = time.monotonic()
        self.audio_updated.emit(inp, out)
        self.levels_updated.emit(Levels(*level_dbfs(inp), *level_dbfs(out)))

    def _lost_reason(self, engine: Any) -> str | None:
        if self.feeder is not None:
            return self.feeder.error if not self.feeder.running else None
        if not engine.running:
            return "audio stream stopped (device vanished?)"
        if time.monotonic() - self._last_audio_time > STALL_SECONDS:
            return f"no audio for {STALL_SECONDS:.0f} s (device vanished or stalled)"
        return None

    def _fail(self, text: str) -> None:
        self.last_error = text
        self.error.emit(text)

    def shutdown(self) -> None:
        """Stop everything; called when the window closes."""
        self.stop()
