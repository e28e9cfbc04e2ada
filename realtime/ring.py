"""Lock-free single-producer / single-consumer ring buffers of float32 frames.

Positions are absolute sample counters (Python ints, never wrapped): the writer alone
advances `write_pos`, the reader alone advances `read_pos`. In CPython an attribute store
is atomic, and each side publishes its counter only after it has copied the samples, so
the other side never sees a half-written block. Neither side ever waits.

`TimedRing` extends this to a timeline: the reader consumes exactly one sample per device
sample whether or not the writer kept up (missing samples are reported, not waited for),
and a late writer drops what the reader has already passed. Positions therefore stay tied
to device time and latency cannot creep.
"""

from __future__ import annotations

import numpy as np


class Ring:
    """SPSC ring buffer of `capacity` frames x `channels` float32.

    Args:
        capacity: frames the buffer holds.
        channels: samples per frame.
    """

    def __init__(self, capacity: int, channels: int = 1) -> None:
        self.capacity = int(capacity)
        self.channels = int(channels)
        self.buffer = np.zeros((self.capacity, self.channels), dtype=np.float32)  # [C, ch]
        self.write_pos = 0  # owned by the writer
        self.read_pos = 0  # owned by the reader

    def available(self) -> int:
        """Frames written and not yet read (negative when the reader ran ahead)."""
        return self.write_pos - self.read_pos

    def space(self) -> int:
        """Frames the writer may write without overwriting unread ones."""
        return self.capacity - max(self.write_pos - self.read_pos, 0)

    def _copy_in(self, pos: int, data: np.ndarray) -> None:
        n = data.shape[0]
        start = pos % self.capacity
        first = min(n, self.capacity - start)
        self.buffer[start : start + first] = data[:first]
        if first < n:
            self.buffer[: n - first] = data[first:]

    def _copy_out(self, pos: int, out: np.ndarray) -> None:
        n = out.shape[0]
        start = pos % self.capacity
        first = min(n, self.capacity - start)
        out[:first] = self.buffer[start : start + first]
        if first < n:
            out[first:] = self.buffer[: n - first]

    def write(self, data: np.ndarray) -> bool:
        """Append `data[n, channels]`; returns False (and writes nothing) when it does not fit."""
        n = data.shape[0]
        if n > self.space():
            return False
        self._copy_in(self.write_pos, data)
        self.write_pos += n  # publish after the copy
        return True

    def read(self, out: np.ndarray) -> bool:
        """Fill `out[n, channels]` with the oldest frames; False (nothing read) when too few."""
        n = out.shape[0]
        if self.available() < n:
            return False
        self._copy_out(self.read_pos, out)
        self.read_pos += n
        return True

    def skip(self, n: int) -> None:
        """Reader side: drop `n` frames (they need not have been written yet)."""
        self.read_pos += n

    def peek_latest(self, out: np.ndarray) -> None:
        """Copy the newest `len(out)` written frames into `out` (a reader that never consumes).

        Used for monitor taps: the writer overwrites freely, the result may contain one
        block of newer audio if a write races with the copy.
        """
        n = out.shape[0]
        if n > self.capacity:
            raise ValueError(f"peek of {n} frames from a ring of {self.capacity}")
        self._copy_out(self.write_pos - n, out)

    def force_write(self, data: np.ndarray) -> None:
        """Append `data` regardless of the reader (monitor taps: nobody consumes)."""
        n = data.shape[0]
        if n > self.capacity:
            data = data[n - self.capacity :]
            self.write_pos += n - self.capacity
            n = self.capacity
        self._copy_in(self.write_pos, data)
        self.write_pos += n


class TimedRing(Ring):
    """A ring whose reader advances with device time and whose writer drops late frames.

    The writer writes frame `p` meant to be read at position `p`; the reader reads one
    period per callback and fills what is missing with a caller-supplied fallback.
    """

    def write_timed(self, data: np.ndarray) -> int:
        """Write `data` at `write_pos`, dropping frames the reader already passed.

        Returns:
            The number of frames dropped because they were late (0 when on time).
        """
        n = data.shape[0]
        late = min(max(self.read_pos - self.write_pos, 0), n)
        if late:
            data = data[late:]
        if data.shape[0] > self.space():
            raise OverflowError("timed ring overflow: writer ahead of the reader by a ring")
        self._copy_in(self.write_pos + late, data)
        self.write_pos += n
        return late

    def read_timed(self, out: np.ndarray) -> int:
        """Read one period into `out`; returns how many leading frames are valid.

        Frames [valid:] were not written in time and are left untouched for the caller to
        fill. The read position always advances by `len(out)`.
        """
        n = out.shape[0]
        valid = min(max(self.write_pos - self.read_pos, 0), n)
        if valid:
            self._copy_out(self.read_pos, out[:valid])
        self.read_pos += n
        return valid

    def fill_timed(self, n: int, value: float = 0.0) -> int:
        """Write `n` frames of `value` at `write_pos` (a gap), dropping the late ones.

        Returns:
            The number of frames dropped because they were late.
        """
        late = min(max(self.read_pos - self.write_pos, 0), n)
        pos = self.write_pos + late
        left = n - late
        if left > self.space():
            raise OverflowError("timed ring overflow: gap longer than the ring")
        while left:
            start = pos % self.capacity
            step = min(left, self.capacity - start)
            self.buffer[start : start + step] = value
            pos += step
            left -= step
        self.write_pos += n
        return late
