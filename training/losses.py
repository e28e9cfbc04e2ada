"""Waveform losses: AudioSep's L1 and a thresholded SNR loss that weighs every example alike.

L1 on the waveform scales with the example's level: with the level augmentation (-24..0 dB)
and the +-10 dB interferer gains, a loud example counts up to ~100x more than a quiet one,
while SDR (what the benches score) counts every example the same. The SNR loss is the
negative SNR in dB per example, soft-thresholded as in MixIT (Wisdom et al., 2020):

    loss = 10 log10(|s - s_hat|^2 + tau |ref|^2) - 10 log10(|ref|^2),  tau = 10^(-max_db / 10)

with ref = s, or the mixture where the target is silent (an absent-query example, whose
answer is silence: the loss is then the output's energy relative to the mixture). The
threshold caps an example's reward at `max_db`, so examples the model already solves stop
pulling and none of them dominates.
"""

from __future__ import annotations

import torch

from livesep.errors import ConfigError
from livesep.training.config import LOSS_KINDS

__all__ = ["l1_loss", "snr_loss", "waveform_loss"]

SILENT_DB = -60.0  # a target this far (energy, dB) below its mixture counts as silent
EPS = 1e-10  # energy floor (float32 waveforms in [-1, 1], a few seconds long)


def l1_loss(est: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over batch and time (AudioSep). est, target: [B, T]."""
    return (est - target).abs().mean()


def snr_loss(
    est: torch.Tensor, target: torch.Tensor, mixture: torch.Tensor, max_db: float = 30.0
) -> torch.Tensor:
    """Mean over the batch of the thresholded negative SNR in dB (see the module text).

    est, target, mixture: [B, T] float32. Returns a scalar; -max_db is the best value.
    """
    tau = 10.0 ** (-max_db / 10.0)
    t_energy = target.pow(2).sum(-1)  # [B]
    m_energy = mixture.pow(2).sum(-1)  # [B]
    silent = t_energy <= 10.0 ** (SILENT_DB / 10.0) * m_energy  # [B]
    ref = torch.where(silent, m_energy, t_energy) + EPS  # [B]
    err = (target - est).pow(2).sum(-1)  # [B]
    return (10.0 * torch.log10(err + tau * ref) - 10.0 * torch.log10(ref)).mean()


def waveform_loss(
    kind: str, est: torch.Tensor, target: torch.Tensor, mixture: torch.Tensor, snr_max_db: float
) -> torch.Tensor:
    """The configured loss (`loss.kind`) of est against target, all [B, T] float32."""
    if kind == "l1":
        return l1_loss(est, target)
    if kind == "snr":
        return snr_loss(est, target, mixture, snr_max_db)
    raise ConfigError(f"config key loss.kind: {kind!r} is not one of {', '.join(LOSS_KINDS)}")
