"""Separation metrics as AudioSep reports them: SDR, SDRi, SI-SDR, SI-SDRi (numpy only).

All functions take arrays [..., T] (any leading batch shape, broadcast against each
other) and return dB as a float64 array of the leading shape (a 0-d array for 1-D input).

SDR is AudioSep's plain signal-to-distortion ratio, 10 log10(sum ref^2 / sum (est-ref)^2),
not BSS-eval's (which allows a 512-tap distortion filter). SI-SDR is the standard
scale-invariant SDR (Le Roux et al., 2019): ref is first scaled by the least-squares gain
alpha = <est, ref> / <ref, ref>, then SDR(est, alpha ref).

Edge cases: every energy is floored at `EPS` before the log, so a perfect estimate gives
a large finite value (10 log10(energy / EPS)) instead of inf, and silence against silence
gives 0 dB instead of NaN. EPS is tiny next to any audible signal's energy, so it does
not change finite results.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-10  # energy floor (sum of squares); ~ -100 dB relative to a unit-energy signal


def _energy(x: np.ndarray) -> np.ndarray:
    return np.sum(x * x, axis=-1)  # [...]


def _ratio_db(signal_energy: np.ndarray, noise_energy: np.ndarray) -> np.ndarray:
    return 10.0 * (
        np.log10(np.maximum(signal_energy, EPS)) - np.log10(np.maximum(noise_energy, EPS))
    )


def _as_pair(est: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    est = np.asarray(est, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if est.shape[-1:] != ref.shape[-1:]:
        raise ValueError(f"est and ref differ in length: {est.shape} vs {ref.shape}")
    return est, ref


def sdr(est: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Plain SDR in dB: 10 log10(sum ref^2 / sum (est - ref)^2).

    Args:
        est: Estimate [..., T].
        ref: Reference [..., T].

    Returns:
        float64 [...].
    """
    est, ref = _as_pair(est, ref)
    return _ratio_db(_energy(ref), _energy(est - ref))


def sdri(est: np.ndarray, ref: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """SDR improvement in dB: sdr(est, ref) - sdr(mix, ref).

    Args:
        est: Estimate [..., T].
        ref: Reference [..., T].
        mix: The mixture the estimate was separated from [..., T].

    Returns:
        float64 [...].
    """
    return sdr(est, ref) - sdr(mix, ref)


def si_sdr(est: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Scale-invariant SDR in dB (no mean removal, as AudioSep and fast_bss_eval).

    Args:
        est: Estimate [..., T].
        ref: Reference [..., T].

    Returns:
        float64 [...].
    """
    est, ref = _as_pair(est, ref)
    ref_energy = _energy(ref)  # [...]
    alpha = np.sum(est * ref, axis=-1) / np.maximum(ref_energy, EPS)  # [...]
    target = alpha[..., None] * ref  # [..., T]
    return _ratio_db(_energy(target), _energy(est - target))


def si_sdri(est: np.ndarray, ref: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """SI-SDR improvement in dB: si_sdr(est, ref) - si_sdr(mix, ref).

    Returns:
        float64 [...].
    """
    return si_sdr(est, ref) - si_sdr(mix, ref)
