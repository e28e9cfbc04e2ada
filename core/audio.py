"""Audio I/O: validated reading (whole or in blocks), atomic writing, resampling, channels.

Arrays are float32 [C, T] (channels first) everywhere in livesep; soundfile's [T, C] is
converted at this boundary. Every problem with a file is an `AudioError` naming the file
and the cause: missing, not audio, empty, NaN/Inf samples, a sample rate outside 8-768 kHz,
more than 64 channels, an output that exists (without overwrite) or that is the input.

Writes go through `livesep.atomic` (a temporary file in the output's folder, renamed over
the target only when complete), so a failed or interrupted run never leaves a half-written
file, and a full disk is a one-line `AudioError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType

import numpy as np
import soundfile as sf
import soxr

from livesep.atomic import AtomicFile, check_target, os_error_message
from livesep.errors import AudioError

MIN_SAMPLE_RATE = 8000  # Hz; below this speech and most sounds are unusable
MAX_SAMPLE_RATE = 768000  # Hz; the highest rate audio interfaces offer (a header claiming
# more is garbage, and resampling it would ask for absurd buffers)
MAX_CHANNELS = 64  # channels per file; more is a corrupt header, not a recording
READ_BLOCK = 65536  # frames per block when streaming a file (~1.5 s at 44.1 kHz)
RESAMPLE_QUALITY = "HQ"  # soxr "high quality": 20-bit precision, linear phase
# Output sample format per container: float WAV keeps separated signals that exceed full
# scale (remove mode, loud estimates) without clipping; FLAC has no float, 24-bit is exact
# enough for any 16-bit source.
_SUBTYPES = {"WAV": "FLOAT", "WAVEX": "FLOAT", "AIFF": "FLOAT", "FLAC": "PCM_24"}
_FORMATS = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG", "oga": "OGG", "mp3": "MP3", "aif": "AIFF"}


# ---------------------------------------------------------------------------------------
# Validation


def check_rate(sample_rate: int, where: str) -> None:
    """Raise AudioError unless MIN_SAMPLE_RATE <= `sample_rate` <= MAX_SAMPLE_RATE."""
    if sample_rate < MIN_SAMPLE_RATE:
        raise AudioError(
            f"{where}: sample rate {sample_rate} Hz is below the {MIN_SAMPLE_RATE} Hz minimum"
        )
    if sample_rate > MAX_SAMPLE_RATE:
        raise AudioError(
            f"{where}: sample rate {sample_rate} Hz is above the {MAX_SAMPLE_RATE} Hz maximum"
        )


def check_channels(channels: int, where: str) -> None:
    """Raise AudioError unless 1 <= `channels` <= MAX_CHANNELS."""
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioError(f"{where}: {channels} channels (livesep reads 1 to {MAX_CHANNELS})")


def check_finite(block: np.ndarray, where: str) -> None:
    """Raise AudioError if `block` holds a NaN or an infinity."""
    if not np.all(np.isfinite(block)):
        raise AudioError(f"{where}: contains NaN or Inf samples")


def as_channels_first(audio: np.ndarray, sample_rate: int, where: str = "array") -> np.ndarray:
    """Validate an in-memory signal and return it as float32 [C, T].

    Args:
        audio: [T] (mono) or [C, T].
        sample_rate: Hz.
        where: name used in error messages.
    """
    x = np.asarray(audio)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.number):
        raise AudioError(f"{where}: audio must be a [T] or [C, T] numeric array, got {x.shape}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise AudioError(f"{where}: empty audio (shape {x.shape})")
    check_rate(sample_rate, where)
    check_channels(x.shape[0], where)
    x = x.astype(np.float32, copy=False)
    check_finite(x, where)
    return x


# ---------------------------------------------------------------------------------------
# Reading


class AudioReader:
    """A validated audio file read in blocks of float32 [C, n].

    The header is checked on open (exists, readable, non-empty, rate); each block is
    checked for NaN/Inf as it is read, so a file of any length is read at constant memory.
    Every reader of audio files (offline separation, `livesep live --input-file`, the GUI's
    file mode, evaluation) goes through it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise AudioError(f"{self.path}: file not found")
        if not self.path.is_file():
            raise AudioError(f"{self.path}: not a file")
        try:
            self._file = sf.SoundFile(str(self.path))
        except (sf.LibsndfileError, RuntimeError, TypeError, ValueError, OSError) as exc:
            raise AudioError(f"{self.path}: not a readable audio file ({_reason(exc)})") from None
        self.sample_rate = int(self._file.samplerate)
        self.channels = int(self._file.channels)
        self.frames = int(self._file.frames)  # may be inexact for compressed formats
        self.format = str(self._file.format)
        try:
            if self.frames <= 0:
                raise AudioError(f"{self.path}: empty audio (0 samples)")
            check_rate(self.sample_rate, str(self.path))
            check_channels(self.channels, str(self.path))
        except AudioError:
            self._file.close()
            raise

    def blocks(self, size: int = READ_BLOCK) -> Iterator[np.ndarray]:
        """Yield float32 [C, n] blocks (n <= size) from the start of the file."""
        self._file.seek(0)
        n_read = 0
        try:
            for block in self._file.blocks(blocksize=size, dtype="float32", always_2d=True):
                check_finite(block, str(self.path))
                n_read += block.shape[0]
                yield np.ascontiguousarray(block.T)  # [C, n]
        except (sf.LibsndfileError, RuntimeError, ValueError, OSError, MemoryError) as exc:
            raise AudioError(f"{self.path}: read error ({_reason(exc)})") from None
        if n_read == 0:
            raise AudioError(f"{self.path}: empty audio (0 samples decoded)")

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def read_audio(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Read a whole file (WAV, FLAC, OGG, MP3, ...), validated.

    Returns:
        (audio float32 [C, T], sample rate in Hz).
    """
    with AudioReader(path) as reader:
        audio = np.concatenate(list(reader.blocks()), axis=1)  # [C, T]
        return audio, reader.sample_rate


# ---------------------------------------------------------------------------------------
# Writing


def output_format(path: Path) -> tuple[str, str]:
    """(soundfile format, subtype) for an output file from its extension."""
    fmt = _FORMATS.get(path.suffix.lower().lstrip("."))
    if fmt is None:
        known = ", ".join(f".{ext}" for ext in _FORMATS)
        raise AudioError(f"{path}: unsupported output extension (use one of {known})")
    return fmt, _SUBTYPES.get(fmt, sf.default_subtype(fmt))


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when two paths name one file (also through links); False if either is missing."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def check_output(
    path: str | os.PathLike[str],
    overwrite: bool = False,
    protect: Sequence[str | os.PathLike[str]] = (),
) -> Path:
    """Validate an output path before any work: extension, name length, input clash,
    existing file (`livesep.atomic.check_target`).

    Args:
        path: the output file.
        overwrite: allow replacing an existing file (never one in `protect`).
        protect: input files that must never be overwritten.
    """
    out = Path(path)
    output_format(out)
    return check_target(out, overwrite, protect, AudioError)


class AtomicWriter:
    """Write an audio file in blocks to a temp file; `commit()` renames it into place.

    Use as a context manager: leaving the block without `commit()` (an exception, an early
    return) deletes the temp file and leaves any existing output untouched. The temp file
    comes from `livesep.atomic.AtomicFile`; a failed write (disk full, file size limit) is
    a one-line AudioError and deletes it.

    Args:
        path: output file; the format follows its extension.
        sample_rate: Hz.
        channels: C.
        overwrite / protect: see `check_output`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        sample_rate: int,
        channels: int,
        overwrite: bool = False,
        protect: Sequence[str | os.PathLike[str]] = (),
    ) -> None:
        self.path = check_output(path, overwrite, protect)
        fmt, subtype = output_format(self.path)
        self._atomic = AtomicFile(self.path, overwrite, protect, error=AudioError)
        self.tmp = self._atomic.tmp
        try:
            self._file = sf.SoundFile(
                str(self.tmp),
                "w",
                samplerate=sample_rate,
                channels=channels,
                format=fmt,
                subtype=subtype,
            )
        except (sf.LibsndfileError, RuntimeError, ValueError, OSError) as exc:
            self._atomic.abort()
            raise AudioError(f"{self.path}: cannot write ({_reason(exc)})") from None
        self.frames = 0

    def write(self, block: np.ndarray) -> None:
        """Append float32 [C, n]."""
        if block.shape[-1]:
            try:
                self._file.write(np.ascontiguousarray(block.T))  # [n, C]
            # soundfile asserts the frame count after a short write (EFBIG, ENOSPC)
            except (sf.LibsndfileError, RuntimeError, OSError, AssertionError) as exc:
                raise self._write_error(exc) from None
            self.frames += block.shape[-1]

    def _write_error(self, exc: Exception) -> AudioError:
        """The one-line error for a failed write; the temp file is deleted."""
        try:
            self._file.close()
        except (sf.LibsndfileError, RuntimeError, OSError):
            pass
        self._atomic.abort()
        if isinstance(exc, OSError):
            return AudioError(os_error_message(self.path, exc))
        reason = _reason(exc) if str(exc) else "short write: disk full or file size limit"
        return AudioError(f"{self.path}: cannot write ({reason})")

    def close_temp(self) -> None:
        """Finish the temp file (header, flush) without renaming it."""
        if not self._file.closed:
            try:
                self._file.close()
            except (sf.LibsndfileError, RuntimeError, OSError) as exc:
                raise self._write_error(exc) from None

    def commit(self) -> Path:
        """Close the temp file and rename it over the output."""
        self.close_temp()
        return self._atomic.commit()

    def abort(self) -> None:
        """Discard the temp file."""
        try:
            self._file.close()
        except (sf.LibsndfileError, RuntimeError, OSError):
            pass
        self._atomic.abort()

    def __enter__(self) -> AtomicWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.tmp.exists():  # not committed
            self.abort()


def write_audio(
    path: str | os.PathLike[str],
    audio: np.ndarray,
    sample_rate: int,
    overwrite: bool = False,
    protect: Sequence[str | os.PathLike[str]] = (),
) -> Path:
    """Write float32 [C, T] or [T] atomically (format from the extension).

    Raises:
        AudioError: the output exists (without overwrite), is an input in `protect`, has an
            unknown extension, or cannot be written.
    """
    x = np.asarray(audio, dtype=np.float32)
    x = x[None, :] if x.ndim == 1 else x
    with AtomicWriter(path, sample_rate, x.shape[0], overwrite, protect) as writer:
        writer.write(x)
        return writer.commit()


# ---------------------------------------------------------------------------------------
# Resampling and channels


def resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample float32 [C, T] with soxr (high quality); identity when the rates match."""
    if rate_in == rate_out:
        return audio
    out = soxr.resample(audio.T, rate_in, rate_out, quality=RESAMPLE_QUALITY)  # [T', C]
    return np.ascontiguousarray(out.T, dtype=np.float32)


class StreamResampler:
    """Incremental soxr resampling of [C, n] blocks; identity when the rates match.

    Concatenating the outputs of `push` over a signal, then `flush()`, gives the same
    samples as `resample` over the whole signal.
    """

    def __init__(self, rate_in: int, rate_out: int, channels: int) -> None:
        self.identity = rate_in == rate_out
        self.channels = channels
        self._stream = (
            None
            if self.identity
            else soxr.ResampleStream(rate_in, rate_out, channels, "float32", RESAMPLE_QUALITY)
        )

    def push(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        """Resample float32 [C, n] -> [C, m]; `last` flushes the filter tail."""
        if self._stream is None:
            return block
        out = self._stream.resample_chunk(np.ascontiguousarray(block.T), last=last)  # [m, C]
        return np.ascontiguousarray(out.T)

    def flush(self) -> np.ndarray:
        """The remaining [C, m] samples at the end of the signal."""
        return self.push(np.zeros((self.channels, 0), np.float32), last=True)


def to_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """Map float32 [C, T] to `channels`: mono is copied out, many -> mono averages.

    Other conversions (e.g. 5.1 -> stereo) are ambiguous and refused.
    """
    have = audio.shape[0]
    if have == channels:
        return audio
    if have == 1:
        return np.repeat(audio, channels, axis=0)
    if channels == 1:
        return audio.mean(axis=0, keepdims=True)
    raise AudioError(f"cannot map {have} channels to {channels}")
