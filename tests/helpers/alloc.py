"""Allocation on the audio path, measured with tracemalloc."""

import tracemalloc

import numpy as np


def callback_peak(engine, n: int, block: np.ndarray) -> int:
    """The most bytes any one of `n` engine callbacks allocated at its peak (above what
    was live when it began): a hop-sized temporary shows, small Python objects barely."""
    out = np.zeros_like(block)
    worst = 0
    tracemalloc.start()
    try:
        for _ in range(n):
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            engine._callback(block, out, block.shape[0], None, None)
            worst = max(worst, tracemalloc.get_traced_memory()[1] - base)
    finally:
        tracemalloc.stop()
    return worst
