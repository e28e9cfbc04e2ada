"""The waveform losses: L1 as AudioSep, the thresholded SNR loss weighs examples alike."""

from __future__ import annotations

import pytest
import torch

from livesep.errors import ConfigError
from livesep.training.losses import l1_loss, snr_loss, waveform_loss


def _signals(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    target = torch.randn(4, 1600, generator=g)  # [B, T]
    noise = torch.randn(4, 1600, generator=g)  # [B, T]
    return target, noise


def test_snr_loss_is_the_negative_snr_in_db() -> None:
    target, noise = _signals()
    est = target + 0.1 * noise  # ~20 dB SNR
    snr = 10 * torch.log10(target.pow(2).sum(-1) / (target - est).pow(2).sum(-1))  # [B]
    loss = snr_loss(est, target, target + noise, max_db=80.0)
    assert float(loss) == pytest.approx(-float(snr.mean()), abs=1e-3)


def test_snr_loss_ignores_the_level_l1_does_not() -> None:
    target, noise = _signals(1)
    est = target + 0.3 * noise
    mix = target + noise
    loud = snr_loss(est, target, mix)
    quiet = snr_loss(0.01 * est, 0.01 * target, 0.01 * mix)  # the same example 40 dB down
    assert float(quiet) == pytest.approx(float(loud), abs=1e-3)
    assert float(l1_loss(0.01 * est, 0.01 * target)) == pytest.approx(
        0.01 * float(l1_loss(est, target)), rel=1e-5
    )


def test_snr_loss_is_capped_at_max_db() -> None:
    target, noise = _signals(2)
    perfect = snr_loss(target, target, target + noise, max_db=30.0)
    assert float(perfect) == pytest.approx(-30.0, abs=1e-3)
    near = snr_loss(target + 1e-3 * noise, target, target + noise, max_db=30.0)  # 60 dB SNR
    assert -30.0 < float(near) < -29.9  # past the cap nothing is left to gain


def test_snr_loss_on_a_silent_target_is_the_output_energy_against_the_mixture() -> None:
    _, noise = _signals(3)
    silent = torch.zeros_like(noise)  # an absent-query example: the answer is silence
    leak = 0.1 * noise  # the model let 20 dB-down noise through
    loss = snr_loss(leak, silent, noise, max_db=80.0)
    assert float(loss) == pytest.approx(-20.0, abs=1e-3)
    assert float(snr_loss(silent, silent, noise, max_db=30.0)) == pytest.approx(-30.0, abs=1e-3)
    assert torch.isfinite(snr_loss(silent, silent, silent))  # all-zero rows stay finite


def test_snr_loss_gradient_points_toward_the_target() -> None:
    target, noise = _signals(4)
    est = (target + 0.5 * noise).requires_grad_()
    snr_loss(est, target, target + noise).backward()
    assert est.grad is not None
    stepped = est.detach() - 0.05 * est.grad / est.grad.abs().max()
    assert float(snr_loss(stepped, target, target + noise)) < float(
        snr_loss(est.detach(), target, target + noise)
    )


def test_unknown_loss_is_a_config_error() -> None:
    target, noise = _signals()
    with pytest.raises(ConfigError, match="loss.kind"):
        waveform_loss("l2", target, target, noise, 30.0)
