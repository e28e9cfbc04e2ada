"""STFT / iSTFT with the frozen DFT matrices the AudioSep checkpoint stores (torchlibrosa layout).

The released state dict holds `stft.conv_real.weight` / `stft.conv_imag.weight` [F, 1, W]
(windowed forward DFT rows), `istft.conv_real.weight` / `istft.conv_imag.weight` [W, W, 1]
(windowed inverse DFT over the full, Hermitian-extended spectrum) and `istft.ola_window` [W]
(the squared window whose overlap-add sum normalises the output). These modules keep exactly
those names and shapes, initialise them to the right values and compute with whatever values
a checkpoint loads into them, as torchlibrosa does. Centred framing with reflect padding: the
results equal `torch.stft` / `torch.istft` (Hann window, `center=True`).

For new code prefer `livesep.stft`, which needs no 2 x 16 MB inverse matrices.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from livesep.stft import dft_kernels, hann

__all__ = ["FrozenSTFT", "FrozenISTFT"]


def _frozen_conv(in_channels: int, out_channels: int, kernel: int, stride: int) -> nn.Conv1d:
    conv = nn.Conv1d(in_channels, out_channels, kernel, stride=stride, bias=False)
    conv.weight.requires_grad_(False)
    return conv


class FrozenSTFT(nn.Module):
    """Centred STFT as two frozen `conv1d`s (keys `conv_real.weight`, `conv_imag.weight`).

    Args:
        n_fft: DFT size = Hann window length W (samples).
        hop: frame step (samples).
    """

    def __init__(self, n_fft: int, hop: int) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.hop = hop
        n_bins = n_fft // 2 + 1
        self.conv_real = _frozen_conv(1, n_bins, n_fft, hop)
        self.conv_imag = _frozen_conv(1, n_bins, n_fft, hop)
        forward_kernel, _ = dft_kernels(n_fft, hann(n_fft))  # [2F, 1, W]
        with torch.no_grad():
            self.conv_real.weight.copy_(forward_kernel[:n_bins])  # cos(2 pi k n / W) w[n]
            self.conv_imag.weight.copy_(forward_kernel[n_bins:])  # -sin(2 pi k n / W) w[n]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Args: x [B, T]. Returns: real, imag, each [B, N, F] with N = 1 + T // hop."""
        pad = self.n_fft // 2
        x = F.pad(x.unsqueeze(1), (pad, pad), mode="reflect")  # [B, 1, T + W]
        real = self.conv_real(x).transpose(1, 2)  # [B, N, F]
        imag = self.conv_imag(x).transpose(1, 2)  # [B, N, F]
        return real, imag


class FrozenISTFT(nn.Module):
    """Inverse of `FrozenSTFT` (keys `conv_real.weight`, `conv_imag.weight`, `ola_window`).

    Each frame's full spectrum (bins 0..W-1, rebuilt by Hermitian symmetry) goes through a
    windowed inverse DFT as a 1x1 conv; frames are overlap-added and divided by the
    overlap-added `ola_window` (the squared window) wherever that sum exceeds 1e-11.

    Args:
        n_fft: DFT size = Hann window length W (samples).
        hop: frame step (samples).
    """

    ola_window: torch.Tensor  # [W]

    def __init__(self, n_fft: int, hop: int) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.hop = hop
        self.conv_real = _frozen_conv(n_fft, n_fft, 1, 1)
        self.conv_imag = _frozen_conv(n_fft, n_fft, 1, 1)
        window = hann(n_fft)  # [W] float64
        index = torch.arange(n_fft, dtype=torch.int64)
        # Entry (j, i) has angle 2 pi ((j * i) mod W) / W: look up W exact angles, not W^2.
        phase = torch.outer(index, index) % n_fft  # [W(j), W(i)]
        angles = (2 * math.pi / n_fft) * index.double()  # [W]
        scale = window[:, None] / n_fft  # sample j of the frame carries window[j]
        with torch.no_grad():
            self.conv_real.weight.copy_(
                (torch.cos(angles)[phase] * scale).unsqueeze(-1)
            )  # [W, W, 1]
            self.conv_imag.weight.copy_(
                (torch.sin(angles)[phase] * scale).unsqueeze(-1)
            )  # [W, W, 1]
        self.register_buffer("ola_window", (window**2).float())

    def forward(self, real: torch.Tensor, imag: torch.Tensor, length: int) -> torch.Tensor:
        """Args: real, imag [B, N, F]; length: output samples. Returns: [B, length]."""
        n_frames = real.shape[1]
        real = real.transpose(1, 2)  # [B, F, N]
        imag = imag.transpose(1, 2)  # [B, F, N]
        # Bins F..W-1 mirror bins W/2-1..1: conjugate symmetry of a real signal's spectrum.
        full_real = torch.cat([real, real[:, 1:-1].flip(1)], dim=1)  # [B, W, N]
        full_imag = torch.cat([imag, -imag[:, 1:-1].flip(1)], dim=1)  # [B, W, N]
        frames = self.conv_real(full_real) - self.conv_imag(full_imag)  # [B, W, N]
        y = self._overlap_add(frames)  # [B, (N - 1) * hop + W]
        window = self.ola_window[None, :, None].expand(1, -1, n_frames)  # [1, W, N]
        envelope = self._overlap_add(window)  # [1, (N - 1) * hop + W]
        y = y / torch.where(envelope > 1e-11, envelope, torch.ones_like(envelope))
        start = self.n_fft // 2  # centred framing: frame 0 is centred on sample 0
        y = y[:, start : start + length]  # [B, <= length]
        if y.shape[-1] < length:
            y = F.pad(y, (0, length - y.shape[-1]))
        return y

    def _overlap_add(self, frames: torch.Tensor) -> torch.Tensor:
        """[B, W, N] -> [B, (N - 1) * hop + W]."""
        n_out = (frames.shape[-1] - 1) * self.hop + self.n_fft
        y = F.fold(
            frames, output_size=(1, n_out), kernel_size=(1, self.n_fft), stride=(1, self.hop)
        )
        return y.reshape(frames.shape[0], n_out)  # [B, 1, 1, n_out] -> [B, n_out]
