"""STFT and iSTFT as convolutions with fixed DFT x window kernels.

Expressed as `conv1d` / `conv_transpose1d` so that the same code exports to ONNX and runs on
execution providers that have no STFT kernel (ONNX Runtime's CUDA provider).

Two framings:
- centred (`center=True`, offline): frame t is centred on sample t*hop, reflect padding;
  matches `torch.stft` / `torch.istft`.
- causal (streaming): frame t covers samples [t*hop - (W - hop), t*hop + hop), i.e. it ends
  with hop t. Zeros stand before the signal. The overlap-add of frame t completes samples up
  to t*hop + hop - (W - hop), so a stream emits each sample `W - hop` samples after it
  arrives: the algorithmic latency is `causal_latency(W, hop) = W - hop` samples.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "causal_latency",
    "causal_num_frames",
    "dft_kernels",
    "STFT",
    "ISTFT",
    "CausalSTFT",
    "CausalISTFT",
    "ola_norm",
    "CausalFrameISTFT",
]


def causal_latency(n_fft: int, hop: int) -> int:
    """Samples between a sample entering a causal STFT -> iSTFT chain and leaving it."""
    return n_fft - hop


def causal_num_frames(length: int, n_fft: int, hop: int) -> int:
    """Frames a causal STFT needs so that every sample in [0, length) is fully synthesised.

    Sample n is covered by frames floor(n / hop) .. floor((n + W - hop) / hop).
    """
    return (length - 1 + n_fft - hop) // hop + 1


def hann(n_fft: int) -> torch.Tensor:
    """Periodic Hann window, as `torch.hann_window(n_fft)`."""
    return torch.hann_window(n_fft, periodic=True, dtype=torch.float64)


def dft_kernels(n_fft: int, window: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward and inverse one-sided DFT kernels with the window folded in.

    Args:
        n_fft: DFT size W (= window length).
        window: [W] analysis (and synthesis) window.

    Returns:
        forward: [2F, 1, W] rows (real parts for bins 0..F-1, then imaginary parts), so that
            `conv1d(x, forward)` gives the windowed one-sided DFT; F = W // 2 + 1.
        inverse: [2F, 1, W] such that `conv_transpose1d(spec, inverse)` is the windowed
            inverse real DFT of each frame, overlap-added.
    """
    n_bins = n_fft // 2 + 1
    n = torch.arange(n_fft, dtype=torch.float64)
    k = torch.arange(n_bins, dtype=torch.float64)
    phase = 2 * math.pi * torch.outer(k, n) / n_fft  # [F, W]
    w = window.to(torch.float64)
    fwd = torch.cat([torch.cos(phase) * w, -torch.sin(phase) * w])  # [2F, W]
    # Inverse real DFT: bins 0 and W/2 count once, the others twice (Hermitian symmetry).
    weight = torch.full((n_bins, 1), 2.0, dtype=torch.float64)
    weight[0] = 1.0
    if n_fft % 2 == 0:
        weight[-1] = 1.0
    inv = torch.cat([weight * torch.cos(phase), -weight * torch.sin(phase)]) * w / n_fft  # [2F, W]
    return fwd.float().unsqueeze(1), inv.float().unsqueeze(1)


def ola_norm(window: torch.Tensor, hop: int) -> torch.Tensor:
    """Steady-state overlap-add normaliser sum_k w^2(n - k*hop) for n in [0, hop).

    Periodic with period `hop` wherever every covering frame exists (always, for the causal
    framing). Returns [hop], float32.
    """
    w2 = window.to(torch.float64) ** 2
    n_fft = w2.numel()
    norm = torch.zeros(hop, dtype=torch.float64)
    for start in range(0, n_fft, hop):
        seg = w2[start : start + hop]
        norm[: seg.numel()] += seg
    if float(norm.min()) < 1e-8:
        raise ValueError(f"window of length {n_fft} with hop {hop} cannot be inverted (NOLA)")
    return norm.float()


class _DFTBase(nn.Module):
    window: torch.Tensor  # [W]
    forward_kernel: torch.Tensor  # [2F, 1, W]
    inverse_kernel: torch.Tensor  # [2F, 1, W]
    norm: torch.Tensor  # [hop]

    def __init__(self, n_fft: int, hop: int) -> None:
        super().__init__()
        if not 0 < hop <= n_fft:
            raise ValueError(f"need 0 < hop <= n_fft, got hop={hop}, n_fft={n_fft}")
        self.n_fft = n_fft
        self.hop = hop
        self.n_bins = n_fft // 2 + 1
        window = hann(n_fft)
        fwd, inv = dft_kernels(n_fft, window)
        self.register_buffer("window", window.float(), persistent=False)
        self.register_buffer("forward_kernel", fwd, persistent=False)  # [2F, 1, W]
        self.register_buffer("inverse_kernel", inv, persistent=False)  # [2F, 1, W]
        self.register_buffer("norm", ola_norm(window, hop), persistent=False)  # [hop]

    def _analyse(self, padded: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """[B, T'] -> real, imag [B, F, N]."""
        spec = F.conv1d(padded.unsqueeze(1), self.forward_kernel, stride=self.hop)  # [B, 2F, N]
        return spec[:, : self.n_bins], spec[:, self.n_bins :]

    def _synthesise(self, real: torch.Tensor, imag: torch.Tensor) -> torch.Tensor:
        """real, imag [B, F, N] -> windowed overlap-add [B, (N - 1) * hop + W] (unnormalised)."""
        spec = torch.cat([real, imag], dim=1)  # [B, 2F, N]
        return F.conv_transpose1d(spec, self.inverse_kernel, stride=self.hop).squeeze(1)


class STFT(_DFTBase):
    """Centred STFT (reflect padding), equal to `torch.stft(center=True)`.

    Input [B, T]; output (real, imag), each [B, F, 1 + T // hop].
    """

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pad = self.n_fft // 2
        padded = F.pad(x.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)  # [B, T + W]
        return self._analyse(padded)


class ISTFT(_DFTBase):
    """Inverse of `STFT`, equal to `torch.istft(center=True)`.

    Input real, imag [B, F, N]; output [B, length].
    """

    def forward(self, real: torch.Tensor, imag: torch.Tensor, length: int) -> torch.Tensor:
        n_frames = real.shape[-1]
        y = self._synthesise(real, imag)  # [B, (N - 1) * hop + W]
        # Window-square envelope of exactly these frames (edges are not periodic).
        w2 = (self.window**2).expand(1, n_frames, -1).transpose(1, 2)  # [1, W, N]
        env = F.fold(
            w2, output_size=(1, y.shape[-1]), kernel_size=(1, self.n_fft), stride=(1, self.hop)
        ).reshape(1, -1)  # [1, (N - 1) * hop + W]
        start = self.n_fft // 2
        y = y[:, start : start + length]
        env = env[:, start : start + length]
        y = y / torch.where(env > 1e-11, env, torch.ones_like(env))
        if y.shape[-1] < length:
            y = F.pad(y, (0, length - y.shape[-1]))
        return y


class CausalSTFT(_DFTBase):
    """Causal STFT: frame t ends at sample (t + 1) * hop.

    Input [B, T]; output (real, imag), each [B, F, causal_num_frames(T)]. The signal is
    preceded by W - hop zeros and followed by enough zeros to complete the last samples.
    """

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        length = x.shape[-1]
        n_frames = causal_num_frames(length, self.n_fft, self.hop)
        left = self.n_fft - self.hop
        right = (n_frames - 1) * self.hop + self.n_fft - left - length
        padded = F.pad(x, (left, right))  # [B, (N - 1) * hop + W]
        return self._analyse(padded)


class CausalISTFT(_DFTBase):
    """Inverse of `CausalSTFT` for a whole clip, aligned with the input (no delay).

    Input real, imag [B, F, N]; output [B, length]. A stream produces the same samples
    `causal_latency` samples later (see `livesep.stft` docstring).
    """

    def forward(self, real: torch.Tensor, imag: torch.Tensor, length: int) -> torch.Tensor:
        y = self._synthesise(real, imag)  # [B, (N - 1) * hop + W]
        left = self.n_fft - self.hop
        y = y[:, left : left + length]  # [B, length]
        # Sample n sits at offset (n + W - hop) mod hop in every frame that covers it.
        phase = (torch.arange(length, device=y.device) + left) % self.hop  # [length]
        return y / self.norm[phase]


class CausalFrameISTFT(_DFTBase):
    """One causal iSTFT step: add one synthesised frame to the overlap-add buffer.

    Args (forward):
        real, imag: [B, F, 1] the spectrum of one frame.
        ola: [B, W - hop] the overlap-add tail carried from the previous step.

    Returns:
        out: [B, hop] finished samples (the input delayed by `causal_latency`).
        ola': [B, W - hop] the tail for the next step.
    """

    def forward(
        self, real: torch.Tensor, imag: torch.Tensor, ola: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        frame = self._synthesise(real, imag)  # [B, W]
        acc = frame + F.pad(ola, (0, self.hop))  # [B, W]
        out = acc[:, : self.hop] / self.norm  # [B, hop]
        return out, acc[:, self.hop :]
