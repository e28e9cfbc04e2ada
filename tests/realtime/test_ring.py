"""Ring buffers: round trips across the wrap, timed reads/writes keep device time."""

import numpy as np

from livesep.realtime.ring import Ring, TimedRing


def test_ring_round_trip_across_wrap():
    ring = Ring(10, 2)
    data = np.arange(28, dtype=np.float32).reshape(14, 2)
    out = np.zeros((7, 2), np.float32)
    assert ring.write(data[:7])
    assert ring.read(out) and np.array_equal(out, data[:7])
    assert ring.write(data[7:])  # wraps around the end of the buffer
    assert not ring.write(data[:7])  # would overwrite unread frames: refused, nothing written
    assert ring.read(out) and np.array_equal(out, data[7:])
    assert not ring.read(out)  # empty


def test_timed_ring_reader_keeps_time_and_late_writes_are_dropped():
    ring = TimedRing(16, 1)
    out = np.full((4, 1), -1.0, np.float32)
    assert ring.read_timed(out) == 0  # nothing written: all 4 frames missing
    assert ring.read_pos == 4
    late = ring.write_timed(np.arange(6, dtype=np.float32)[:, None])  # positions 0..5
    assert late == 4  # positions 0..3 were already played
    valid = ring.read_timed(out)
    assert valid == 2 and out[:2, 0].tolist() == [4.0, 5.0]
    assert ring.fill_timed(3) == 2 and ring.write_pos == 9  # positions 6, 7 already played
    assert ring.read_timed(out) == 1 and out[0, 0] == 0.0  # position 8: the filled gap


def test_peek_latest_returns_newest_frames():
    ring = Ring(8, 1)
    ring.force_write(np.arange(11, dtype=np.float32)[:, None])
    out = np.zeros((3, 1), np.float32)
    ring.peek_latest(out)
    assert out[:, 0].tolist() == [8.0, 9.0, 10.0]
