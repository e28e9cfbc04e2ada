"""AudioSep's mixing recipe, plus the augmentations a small CPU-trained model needs.

AudioSep (`data/waveform_mixers.py`, reproduced exactly here):
- each interferer is scaled to the target's energy: divided by
  `ratio = sqrt(E[interferer^2] / max(E[target^2], 1e-10))`, the ratio clamped to
  [0.02, 50];
- their sum is scaled to the target's energy the same way, then given a random gain of an
  integer number of dB in [-10, +10];
- mixture = target + interferers; if its peak exceeds 1, mixture and target are both scaled
  by 0.9 / peak.

Added here: 1-3 interferers, a random low-pass per source (so a band limit never tells the
model which source is which), a random colouring per source (tilt + one peak or notch: a
timbre or recording chain not seen in training), a random speed change per source
(resampling: pitch and formants move together), a random overall level, and silent
targets (the described sound is absent: the mixture is the interferers alone and the
target is zeros).

Everything is numpy with an explicit `np.random.Generator`, so an example is a pure
function of its seed (which makes resuming a run exact).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from livesep.training.config import MixConfig

__all__ = [
    "ENERGY_FLOOR",
    "PEAK_LEVEL",
    "energy",
    "energy_ratio",
    "match_energy",
    "db_to_gain",
    "band_limit",
    "peak_scale",
    "peak_guard",
    "Mixture",
    "mix_sources",
    "random_band_limit",
    "colour",
    "random_colour",
    "change_speed",
    "random_speed",
]

ENERGY_FLOOR = 1e-10  # AudioSep's floor on the reference energy
PEAK_LEVEL = 0.9  # AudioSep's declipping level: peaks above 1 are scaled down to this
LOWPASS_TRANSITION = 0.15  # raised-cosine roll-off width, as a fraction of the cut-off


def energy(x: np.ndarray) -> float:
    """Mean power of a signal."""
    return float(np.mean(np.square(x, dtype=np.float64)))


def energy_ratio(audio: np.ndarray, reference: np.ndarray, lo: float, hi: float) -> float:
    """Amplitude ratio sqrt(E[audio^2] / max(E[reference^2], 1e-10)), clamped to [lo, hi]."""
    ratio = (energy(audio) / max(energy(reference), ENERGY_FLOOR)) ** 0.5
    return float(np.clip(ratio, lo, hi))


def match_energy(
    audio: np.ndarray, reference: np.ndarray, lo: float = 0.02, hi: float = 50.0
) -> np.ndarray:
    """Scale `audio` to the energy of `reference` (AudioSep's `rescale_to_match_energy`).

    The clamp keeps a near-silent source from being blown up (or a loud one crushed)
    by more than a factor `hi` (`lo`).
    """
    return audio / energy_ratio(audio, reference, lo, hi)


def db_to_gain(db: float) -> float:
    """Amplitude gain of `db` decibels."""
    return float(10.0 ** (db / 20.0))


def peak_scale(mixture: np.ndarray) -> float:
    """PEAK_LEVEL / peak if the mixture peaks above 1, else 1 (AudioSep's declipping)."""
    peak = float(np.max(np.abs(mixture))) if mixture.size else 0.0
    return PEAK_LEVEL / peak if peak > 1.0 else 1.0


def peak_guard(mixture: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """If the mixture peaks above 1, scale mixture and target by PEAK_LEVEL / peak."""
    scale = peak_scale(mixture)
    return mixture * scale, target * scale


def band_limit(x: np.ndarray, sample_rate: int, cutoff_hz: float) -> np.ndarray:
    """Zero-phase low-pass with a raised-cosine roll-off ending at `cutoff_hz`.

    Args:
        x: [T] signal.
        sample_rate: Hz.
        cutoff_hz: frequency above which everything is removed.

    Returns:
        [T] band-limited signal, same dtype.
    """
    n = x.shape[-1]
    spec = np.fft.rfft(x.astype(np.float64))  # [T // 2 + 1]
    freqs = np.fft.rfftfreq(n, d=1.0 / sample_rate)
    start = cutoff_hz * (1.0 - LOWPASS_TRANSITION)
    ramp = np.clip((freqs - start) / max(cutoff_hz - start, 1e-9), 0.0, 1.0)
    response = 0.5 * (1.0 + np.cos(np.pi * ramp))  # 1 below start, 0 above the cut-off
    return np.fft.irfft(spec * response, n=n).astype(x.dtype)


def random_band_limit(
    x: np.ndarray, sample_rate: int, cfg: MixConfig, rng: np.random.Generator
) -> np.ndarray:
    """With probability `cfg.lowpass_prob`, low-pass at a log-uniform random cut-off."""
    if rng.random() >= cfg.lowpass_prob:
        return x
    nyquist = sample_rate / 2.0
    lo = min(cfg.lowpass_min_hz, 0.9 * nyquist)
    cutoff = float(np.exp(rng.uniform(np.log(lo), np.log(0.9 * nyquist))))
    return band_limit(x, sample_rate, cutoff)


def colour(
    x: np.ndarray,
    sample_rate: int,
    tilt_db: float,
    peak_hz: float,
    peak_db: float,
    peak_octaves: float,
) -> np.ndarray:
    """Zero-phase EQ: a tilt of `tilt_db` per octave around 1 kHz plus a Gaussian peak.

    The response in dB at frequency f is `tilt_db * log2(f / 1 kHz)` (f floored at 50 Hz)
    plus `peak_db * exp(-0.5 * (log2(f / peak_hz) / peak_octaves) ** 2)`.

    Args:
        x: [T] signal.

    Returns:
        [T] coloured signal, same dtype.
    """
    n = x.shape[-1]
    spec = np.fft.rfft(x.astype(np.float64))  # [T // 2 + 1]
    octaves = np.log2(np.maximum(np.fft.rfftfreq(n, d=1.0 / sample_rate), 50.0) / 1000.0)
    from_peak = octaves - np.log2(peak_hz / 1000.0)  # [T // 2 + 1] octaves
    gain_db = tilt_db * octaves + peak_db * np.exp(-0.5 * (from_peak / peak_octaves) ** 2)
    return np.fft.irfft(spec * 10.0 ** (gain_db / 20.0), n=n).astype(x.dtype)


def random_colour(
    x: np.ndarray, sample_rate: int, cfg: MixConfig, rng: np.random.Generator
) -> np.ndarray:
    """With probability `cfg.eq_prob`, a random `colour` (draws nothing when it is 0)."""
    if cfg.eq_prob <= 0.0 or rng.random() >= cfg.eq_prob:
        return x
    nyquist = sample_rate / 2.0
    tilt = float(rng.uniform(-cfg.eq_tilt_db, cfg.eq_tilt_db))
    peak_hz = float(np.exp(rng.uniform(np.log(100.0), np.log(0.8 * nyquist))))
    peak_db = float(rng.uniform(-cfg.eq_peak_db, cfg.eq_peak_db))
    width = float(rng.uniform(0.3, 1.5))  # octaves
    return colour(x, sample_rate, tilt, peak_hz, peak_db, width)


@dataclass
class Mixture:
    """One training example: the mixture and the source the query describes."""

    mixture: np.ndarray  # [T] float32
    target: np.ndarray  # [T] float32 (zeros when the target is absent)
    silent: bool  # True when the described sound is absent
    gain_db: int  # the random interferer gain that was drawn
    level_db: float  # the random overall level that was drawn
    # Each interferer as it is in the mixture (after matching, gain, level and peak guard):
    # mixture == target + sum(interferers) up to float rounding. [T] float32 each.
    interferers: list[np.ndarray] = field(default_factory=list)


def mix_sources(
    target: np.ndarray,
    interferers: list[np.ndarray],
    cfg: MixConfig,
    rng: np.random.Generator,
    silent: bool = False,
) -> Mixture:
    """Mix a target with interferers by AudioSep's recipe plus a random overall level.

    Args:
        target: [T] the described source (ignored, replaced by zeros, when `silent`).
        interferers: 1+ arrays [T] from classes other than the target's.
        cfg: ratio clamp, gain range, level range.
        rng: the example's random generator.
        silent: the described sound is absent: the interferers are matched to the first
            interferer instead of the (silent) target, and the target is zeros.

    Returns:
        A `Mixture` with float32 arrays [T]; max |mixture| <= 1.
    """
    if not interferers:
        raise ValueError("mix_sources needs at least one interferer")
    lo, hi = cfg.ratio_min, cfg.ratio_max
    target = np.zeros_like(target) if silent else target
    reference = interferers[0] if silent else target
    parts = [match_energy(x.astype(np.float64), reference, lo, hi) for x in interferers]
    noise = np.sum(parts, axis=0)  # [T]
    gain_db = int(rng.integers(cfg.gain_db_min, cfg.gain_db_max + 1))
    # The sum is matched and gained as one signal (AudioSep); each part gets the same factor.
    noise_gain = db_to_gain(gain_db) / energy_ratio(noise, reference, lo, hi)
    level_db = float(rng.uniform(cfg.level_db_min, cfg.level_db_max))
    level = db_to_gain(level_db)
    mixture = (target.astype(np.float64) + noise * noise_gain) * level
    declip = peak_scale(mixture)
    mixture, level = mixture * declip, level * declip
    return Mixture(
        mixture=mixture.astype(np.float32),
        target=(target.astype(np.float64) * level).astype(np.float32),
        silent=silent,
        gain_db=gain_db,
        level_db=level_db,
        interferers=[(p * noise_gain * level).astype(np.float32) for p in parts],
    )


def change_speed(x: np.ndarray, factor: float, length: int) -> np.ndarray:
    """`x` played `factor` times faster (linear interpolation), `length` samples of it.

    Args:
        x: [N] signal, N >= ceil((length - 1) * factor) + 1 for a full output.

    Returns:
        [length] float32; output sample i is x at position i * factor (zero past the end).
    """
    if factor <= 0.0:
        raise ValueError(f"change_speed needs a positive factor, got {factor}")
    positions = np.arange(length, dtype=np.float64) * factor  # [length] input samples
    source = np.arange(x.shape[-1], dtype=np.float64)  # [N]
    return np.interp(positions, source, x, right=0.0).astype(np.float32)


def random_speed(cfg: MixConfig, rng: np.random.Generator) -> float:
    """A speed factor: 1.0 with probability 1 - `cfg.speed_prob` (drawing nothing when
    it is 0), else 2 ** (s / 12) for s uniform in +-`cfg.speed_semitones`."""
    if cfg.speed_prob <= 0.0 or rng.random() >= cfg.speed_prob:
        return 1.0
    return float(2.0 ** (rng.uniform(-cfg.speed_semitones, cfg.speed_semitones) / 12.0))
