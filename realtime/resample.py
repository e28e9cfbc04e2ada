"""Fixed-delay streaming sample-rate conversion between the device and the model.

A polyphase FIR (Kaiser-windowed sinc, linear phase, numpy only) converts by the reduced
ratio L/M. Its delay is a whole number of samples at the higher of the two rates (device
frames in the usual case), the same for every block pattern, and every output sample is
released as soon as its last input sample has arrived: no withheld samples, no bursts. So
the engine plans its buffering exactly (`worst_shortfall`) and adds the known delay
(`StreamResampler.delay_s`) to the signal path's latency.

Qualities are the filter's half length in zero crossings of the lower rate; at 48 kHz <->
16 kHz each direction delays by that many 16 kHz samples (3 device frames each). Measured
(`python -m livesep.realtime.resample`, worst stop-band alias / pass-band ripple):
see `QUALITIES` and benchmarks/RESULTS.md "Live at 48 kHz (issue 23)".
"""

from __future__ import annotations

import math

import numpy as np

from livesep.errors import LivesepError

# quality -> half length of the filter in zero crossings of the lower rate
QUALITIES = {"QQ": 6, "LQ": 12, "MQ": 16, "HQ": 24, "VHQ": 32}
ROLLOFF = 0.9  # cut-off as a fraction of the lower rate's Nyquist frequency
KAISER_BETA = 7.0  # window shape: ~-70 dB side lobes for a long enough filter


def design(in_rate: int, out_rate: int, quality: str) -> tuple[int, int, int, np.ndarray]:
    """(L, M, delay, taps): up by L, down by M, `delay` samples at max(in, out) rate.

    `taps` float64[2 * D + 1] is the linear-phase low-pass at the rate in_rate * L whose
    centre tap lies D = delay * (in_rate * L / max(in_rate, out_rate)) samples in, scaled
    for unit gain at DC after the L-fold zero stuffing.
    """
    if quality not in QUALITIES:
        raise LivesepError(f"resample quality {quality!r} unknown (one of {tuple(QUALITIES)})")
    g = math.gcd(in_rate, out_rate)
    up, down = out_rate // g, in_rate // g
    high = in_rate * up  # Hz, the rate the filter runs at
    low, top = min(in_rate, out_rate), max(in_rate, out_rate)
    delay = max(1, round(QUALITIES[quality] * top / low))  # samples at the higher rate
    centre = delay * (high // top)  # taps at the filter's rate
    n = np.arange(2 * centre + 1, dtype=np.float64) - centre
    cutoff = 0.5 * low * ROLLOFF / high  # cycles per filter-rate sample
    taps = 2 * cutoff * np.sinc(2 * cutoff * n) * np.kaiser(n.shape[0], KAISER_BETA)
    taps *= up / taps.sum()  # unit DC gain through the zero-stuffed input
    return up, down, delay, taps


class StreamResampler:
    """Converts float32[n, channels] blocks from `in_rate` to `out_rate`, continuously.

    Output sample k is computed once input sample floor(k * M / L) has arrived, so the
    number of outputs after t inputs is ceil(t * L / M), whatever the block sizes. The
    signal delay is `delay` samples at the higher rate (`delay_s` seconds). With equal
    rates it is the identity (returns its input, no copy, no delay).
    """

    def __init__(self, in_rate: int, out_rate: int, channels: int, quality: str = "LQ") -> None:
        if quality not in QUALITIES:
            raise LivesepError(f"resample quality {quality!r} unknown (one of {tuple(QUALITIES)})")
        self.in_rate = int(in_rate)
        self.out_rate = int(out_rate)
        self.channels = int(channels)
        self.quality = quality
        self.identity = self.in_rate == self.out_rate
        self.delay = 0  # samples at max(in_rate, out_rate)
        self.delay_s = 0.0
        if self.identity:
            return
        self.up, self.down, self.delay, taps = design(self.in_rate, self.out_rate, quality)
        self.delay_s = self.delay / max(self.in_rate, self.out_rate)
        self.k = -(-taps.shape[0] // self.up)  # input samples per output (taps per phase)
        padded = np.zeros(self.k * self.up)
        padded[: taps.shape[0]] = taps
        # phases[p, i] multiplies input sample m0 - i for outputs of phase p
        self.phases = padded.reshape(self.k, self.up).T.astype(np.float32)  # [L, K]
        self._back = np.arange(self.k)  # [K]
        self.reset()

    def reset(self) -> None:
        """Forget all history: the next input is sample 0 of a new stream (zeros before)."""
        if self.identity:
            return
        self._hist = np.zeros((self.k - 1, self.channels), np.float32)  # [K-1, C]
        self._t = 0  # input samples consumed
        self._next = 0  # next output sample index

    def outputs_after(self, t: int) -> int:
        """Output samples released once `t` input samples have arrived."""
        if self.identity:
            return t
        return -(-t * self.up // self.down)

    def process(self, block: np.ndarray) -> np.ndarray:
        """Resample `block[n, channels]` -> float32[m, channels], m = the outputs now due."""
        if self.identity:
            return block
        n = block.shape[0]
        t0, t1 = self._t, self._t + n
        end = self.outputs_after(t1)
        k = np.arange(self._next, end)  # output indices due now
        buf = np.concatenate([self._hist, block.astype(np.float32, copy=False)])  # [K-1+n, C]
        base = t0 - (self.k - 1)  # absolute input index of buf[0]
        pos = k * self.down  # positions at the filter's rate
        m0 = pos // self.up - base  # newest input sample of each output, in buf
        idx = m0[:, None] - self._back[None, :]  # [m, K]
        coef = self.phases[pos % self.up]  # [m, K]
        out = np.einsum("mk,mkc->mc", coef, buf[idx])  # [m, C]
        self._hist = buf[buf.shape[0] - (self.k - 1) :].copy()
        self._t, self._next = t1, end
        return out.astype(np.float32, copy=False)

    def ratio(self) -> float:
        return self.out_rate / self.in_rate


def grain(device_rate: int, model_rate: int, hop: int) -> int:
    """Device frames after which the resample + whole-hop pattern repeats exactly.

    Dropping a multiple of it from the input (a resync) keeps every later sample on the
    same timeline: the resampler phases and hop boundaries fall where they did.
    """
    g = math.gcd(device_rate, model_rate)
    up, down = model_rate // g, device_rate // g  # model samples per `down` device frames
    return down * hop // math.gcd(hop, up)


def worst_shortfall(
    device_rate: int,
    model_rate: int,
    period: int,
    hop: int,
    quality: str,
    in_callback: bool = False,
) -> int:
    """Device frames the output ring must hold ahead so the chain never runs dry.

    The chain (device blocks of `period` -> resample -> whole hops of `hop` model samples
    -> resample back) releases a deterministic number of output frames after each block
    (`StreamResampler.outputs_after`), so the largest shortfall of produced vs consumed
    output frames over one cycle of the block pattern is exact. A worker thread processes
    block k between callbacks k and k + 1 (one period to run in, included here); with
    `in_callback` the hops run inside the callback before it reads the output.

    Args:
        device_rate, model_rate: Hz.
        period: device frames per callback.
        hop: model samples per step-graph call.
        quality: resampler quality (it sets nothing here but is checked).
        in_callback: hops run inside the callback before it reads the output.
    """
    down = StreamResampler(device_rate, model_rate, 1, quality)
    up = StreamResampler(model_rate, device_rate, 1, quality)
    cycle = math.lcm(period, grain(device_rate, model_rate, hop))  # the pattern's repeat
    worst = 0
    for k in range(cycle // period + 1):
        done = k + 1 if in_callback else k  # blocks processed when callback k reads
        hops = down.outputs_after(done * period) // hop
        produced = up.outputs_after(hops * hop)
        worst = max(worst, (k + 1) * period - produced)
    return worst


def _report() -> None:
    """Print each quality's delay and measured response at 48 kHz <-> 16 kHz."""
    for quality in QUALITIES:
        up, down, delay, taps = design(16000, 48000, quality)
        f = np.fft.rfftfreq(1 << 16, 1 / 48000)
        resp = np.abs(np.fft.rfft(taps / up, 1 << 16))
        passband = resp[f <= 0.5 * 16000 * ROLLOFF * 0.8]
        stop = resp[f >= 0.5 * 16000 * (2 - ROLLOFF)]
        ripple = 20 * np.log10(passband.max() / passband.min())
        print(
            f"{quality}: {delay} frames each way at 48 kHz ({1000 * delay / 48000:.2f} ms), "
            f"{taps.shape[0]} taps, pass-band ripple {ripple:.2f} dB to "
            f"{0.4 * 16000 * ROLLOFF:.0f} Hz, images/aliases <= "
            f"{20 * np.log10(stop.max()):.0f} dB above {0.5 * 16000 * (2 - ROLLOFF):.0f} Hz"
        )


if __name__ == "__main__":
    _report()
