"""Sample guards for the live path: what enters is finite and bounded, what leaves is limited.

One bad input sample (a NaN or Inf from a driver, a 1e30 from a broken plug-in) would
otherwise poison the model's recurrent state and reach the speakers for as long as the
state remembers it. The engine calls `InputGuard.clean` on every callback's input, before
anything else reads it, and `OutputLimiter.process` on every callback's output, after the
fallback fill, so both the processed and the fallback (dry) paths are covered.

Both are cheap when nothing is wrong (two reductions over the block, no allocation) and do
their real work only on a block that needs it; both count what they did.
"""

from __future__ import annotations

import numpy as np

INPUT_LIMIT = 4.0  # linear full scale (+12 dBFS): larger input samples are clipped to it
OUTPUT_CEILING = 1.0  # linear full scale (0 dBFS): the most the device is ever sent
RELEASE_S = 0.2  # seconds for the limiter's gain to recover from full reduction to 1


class InputGuard:
    """Replace non-finite input samples with 0 and clip the rest to +-INPUT_LIMIT.

    Attributes:
        nonfinite: NaN/Inf samples replaced so far.
        clipped: finite samples beyond the limit clipped so far.
    """

    def __init__(self, limit: float = INPUT_LIMIT) -> None:
        self.limit = float(limit)
        self.nonfinite = 0
        self.clipped = 0
        self._scratch = np.zeros((0, 0), np.float32)

    def clean(self, block: np.ndarray) -> np.ndarray:
        """`block` [n, C] itself when clean, else a cleaned copy (the caller's is not changed)."""
        if block.size == 0:
            return block
        low, high = block.min(), block.max()  # NaN propagates: a NaN fails both tests
        if -self.limit <= low and high <= self.limit:
            return block
        if self._scratch.shape[0] < block.shape[0] or self._scratch.shape[1] != block.shape[1]:
            self._scratch = np.zeros(block.shape, np.float32)  # rare path: allowed to allocate
        out = self._scratch[: block.shape[0]]
        out[:] = block
        bad = ~np.isfinite(out)
        n_bad = int(bad.sum())
        out[bad] = 0.0
        over = np.abs(out) > self.limit
        self.nonfinite += n_bad
        self.clipped += int(over.sum())
        np.clip(out, -self.limit, self.limit, out=out)
        return out


class OutputLimiter:
    """A peak limiter at OUTPUT_CEILING, applied in place, block by block.

    The gain drops at once to what the block's peak needs (no sample ever exceeds the
    ceiling) and recovers linearly to 1 over RELEASE_S. Non-finite output samples (a faulty
    model) become 0 and are counted.

    Attributes:
        limited_frames: frames played with a gain below 1.
        nonfinite: non-finite output samples replaced with 0.
    """

    def __init__(self, rate: int, ceiling: float = OUTPUT_CEILING) -> None:
        self.ceiling = float(ceiling)
        self.step = 1.0 / max(RELEASE_S * rate, 1.0)  # gain recovered per frame
        self.gain = 1.0
        self.limited_frames = 0
        self.nonfinite = 0

    def process(self, block: np.ndarray) -> None:
        """Limit `block` [n, C] in place."""
        n = block.shape[0]
        if n == 0:
            return
        low, high = block.min(), block.max()
        if self.gain >= 1.0 and -self.ceiling <= low and high <= self.ceiling:
            return  # the common case: nothing to do
        if not (np.isfinite(low) and np.isfinite(high)):
            bad = ~np.isfinite(block)
            self.nonfinite += int(bad.sum())
            block[bad] = 0.0
            low, high = block.min(), block.max()
        peak = max(float(high), -float(low), 1e-30)
        need = min(1.0, self.ceiling / peak)  # the gain this block's peak allows
        start = min(self.gain, need)
        end = min(start + self.step * n, need, 1.0)  # release, never above what is needed
        gains = np.linspace(start, end, n, dtype=np.float32)[:, None]  # [n, 1]
        block *= gains
        np.clip(block, -self.ceiling, self.ceiling, out=block)  # float rounding only
        self.gain = float(end)
        self.limited_frames += int(np.count_nonzero(gains[:, 0] < 1.0))
