"""What the callback plays when processed output is missing (a late hop, a stall).

The default ("hold") keeps the separation's last broadband gain: it tracks, per channel,
the energy ratio of the processed output to the dry input delayed by the same latency,
and fills missing frames with that gain times the delayed dry signal. A sound the engine
was removing therefore stays turned down through a dropout instead of bursting back at
full level ("dry"), and nothing goes silent ("silence"). When processed output returns it
is cross-faded in from the concealment over `fade_frames` (one hop), so neither edge
steps. Every run of concealed frames is counted (`runs`, `frames`).

Runs on the audio callback: preallocated buffers and in-place numpy only.
"""

from __future__ import annotations

import numpy as np

FALLBACKS = ("hold", "dry", "silence")
GAIN_MAX = 4.0  # largest held gain (+12 dB: output gain above the input)
ENERGY_DECAY = 0.7  # per callback: the held gain follows the last ~3 periods
TINY = 1e-12  # energy floor (digital silence in -> gain 1, not 0/0)


class Concealer:
    """Fills missing output frames and fades real output back in.

    Args:
        mode: "hold" (last gain x delayed dry), "dry" (delayed dry) or "silence".
        channels: output channels.
        max_frames: the longest callback block.
        fade_frames: frames over which returning output replaces the concealment.
    """

    def __init__(self, mode: str, channels: int, max_frames: int, fade_frames: int) -> None:
        self.mode = mode
        self.fade_frames = max(1, int(fade_frames))
        self._gain = np.ones(channels, np.float32)  # [C] held output/dry amplitude ratio
        self._e_out = np.zeros(channels, np.float32)  # [C] decayed output energy
        self._e_dry = np.zeros(channels, np.float32)  # [C] decayed dry energy
        self._sum = np.zeros(channels, np.float32)  # [C] scratch
        self._sq = np.zeros((max_frames, channels), np.float32)  # [n, C] scratch
        self._fill = np.zeros((max_frames, channels), np.float32)  # [n, C] concealment
        ramp = (np.arange(self.fade_frames, dtype=np.float32) + 1) / self.fade_frames
        self._ramp = ramp[:, None]  # [F, 1] 0 -> 1
        self._fade_at = self.fade_frames  # frames of the fade-in already played
        self.concealing = False
        self.runs = 0  # separate runs of concealed frames
        self.frames = 0  # concealed frames

    def reset(self) -> None:
        self._gain.fill(1.0)
        self._e_out.fill(0.0)
        self._e_dry.fill(0.0)
        self._fade_at = self.fade_frames
        self.concealing = False
        self.runs = self.frames = 0

    def process(self, out: np.ndarray, dry: np.ndarray, valid: int, count: bool = True) -> None:
        """Complete `out[n, C]` whose first `valid` frames are processed output.

        Args:
            out: the callback's output block, filled in place.
            dry: float32[n, C], the input delayed by the engine's steady latency.
            valid: leading frames of `out` that are real output.
            count: False before the stream's latency is known (start-up, not a dropout).
        """
        n = out.shape[0]
        if valid:
            head = out[:valid]
            if self._fade_at < self.fade_frames:  # output returns: fade it in
                f = min(valid, self.fade_frames - self._fade_at)
                w = self._ramp[self._fade_at : self._fade_at + f]  # [f, 1]
                fill = self._concealment(dry[:f])
                head[:f] -= fill
                head[:f] *= w
                head[:f] += fill
                self._fade_at += f
            self._track(head, dry[:valid])
            self.concealing = False
        if valid < n:
            out[valid:] = self._concealment(dry[valid:])
            if count:
                self.runs += not self.concealing
                self.frames += n - valid
            self.concealing = True
            self._fade_at = 0

    def _concealment(self, dry: np.ndarray) -> np.ndarray:
        """The stand-in for `dry.shape[0]` missing frames (a view of a scratch buffer)."""
        fill = self._fill[: dry.shape[0]]
        if self.mode == "silence":
            fill.fill(0.0)
        elif self.mode == "dry":
            fill[:] = dry
        else:
            np.multiply(dry, self._gain, out=fill)
        return fill

    def _track(self, out: np.ndarray, dry: np.ndarray) -> None:
        """Update the held gain from `out` and `dry` (both [n, C], real output frames)."""
        sq = self._sq[: out.shape[0]]
        self._e_out *= ENERGY_DECAY
        np.multiply(out, out, out=sq)
        self._e_out += sq.sum(axis=0, out=self._sum)
        self._e_dry *= ENERGY_DECAY
        np.multiply(dry, dry, out=sq)
        self._e_dry += sq.sum(axis=0, out=self._sum)
        if float(self._e_dry.min()) > TINY:
            np.divide(self._e_out, self._e_dry, out=self._gain)
            np.sqrt(self._gain, out=self._gain)
            np.minimum(self._gain, GAIN_MAX, out=self._gain)
