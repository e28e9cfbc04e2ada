"""ResUNet30: the official AudioSep separator, state-dict compatible with the released checkpoint.

Signal path (see ../shared/reference/AUDIOSEP.md): centred STFT (W = 2048, hop 320 at 32 kHz)
-> magnitude -> BatchNorm over the 1025 bins -> time padded to a multiple of 32 frames,
Nyquist bin dropped -> 1x1 conv to 32 channels -> 6 residual encoder blocks with average
pooling -> residual bottleneck -> 6 decoder blocks (transposed conv up, concatenated skip,
residual block) -> 1x1 conv to 3 channels: magnitude mask sigmoid(c0) and a unit phase
rotation from (tanh(c1), tanh(c2)) applied to the mixture's spectrum -> iSTFT.
Every residual conv gets an additive FiLM bias computed from the query embedding.

Tensors inside the U-Net are [B, C, T, F] (time frames, frequency bins).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from livesep.errors import AudioError, QueryError
from livesep.model.dft import FrozenISTFT, FrozenSTFT
from livesep.model.film import FiLM, FilmMeta, film_meta, init_layer

__all__ = ["ResUNet30Config", "ResUNet30", "ResUNet30Base"]

LEAKY_SLOPE = 0.01  # LeakyReLU negative slope everywhere
POWER_FLOOR = 1e-10  # the mixture's |X|^2 is clamped here before sqrt (official eps)
PHASE_FLOOR = 1e-10  # the mask's rotation vector length is clamped here before normalising


@dataclass
class ResUNet30Config:
    """Hyperparameters of `ResUNet30`; the defaults are the released AudioSep model.

    The decoder mirrors the encoder. The time axis is padded to a multiple of the product of
    the time pooling factors (32 frames by default); n_fft / 2 must divide by the product of
    the frequency factors (64 by default: 1024 bins -> 16 at the bottleneck).
    """

    sample_rate: int = 32000  # Hz
    n_fft: int = 2048  # samples, = Hann window length (64 ms)
    hop: int = 320  # samples (10 ms)
    condition_size: int = 512  # query embedding dimension (CLAP text)
    channels: tuple[int, ...] = (32, 64, 128, 256, 384, 384)  # encoder block outputs
    pooling: tuple[tuple[int, int], ...] = ((2, 2), (2, 2), (2, 2), (2, 2), (2, 2), (1, 2))
    momentum: float = 0.01  # BatchNorm running-statistics momentum

    def __post_init__(self) -> None:
        if len(self.channels) != len(self.pooling) or not self.channels:
            raise ValueError(
                f"channels ({len(self.channels)}) and pooling ({len(self.pooling)}) "
                "need one entry per encoder block"
            )
        freq_factor = math.prod(p[1] for p in self.pooling)
        if (self.n_fft // 2) % freq_factor:
            raise ValueError(f"n_fft / 2 = {self.n_fft // 2} bins do not divide by {freq_factor}")

    @property
    def time_factor(self) -> int:
        """Frames per bottleneck frame; the spectrogram is padded to a multiple of it."""
        return math.prod(p[0] for p in self.pooling)


class ConvBlockRes(nn.Module):
    """Two 3x3 convs, each after BatchNorm + FiLM bias + LeakyReLU; residual shortcut."""

    has_film = True

    def __init__(self, in_channels: int, out_channels: int, momentum: float) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels, momentum=momentum)
        self.bn2 = nn.BatchNorm2d(out_channels, momentum=momentum)
        self.conv1 = nn.Conv2d(in_channels, out_channels, (3, 3), padding=(1, 1), bias=False)
        self.conv2 = nn.Conv2d(out_channels, out_channels, (3, 3), padding=(1, 1), bias=False)
        self.shortcut: nn.Conv2d | None = None
        if in_channels != out_channels:
            self.shortcut = nn.Conv2d(in_channels, out_channels, (1, 1))
        for layer in (self.conv1, self.conv2, self.shortcut):
            if layer is not None:
                init_layer(layer)

    def forward(self, x: torch.Tensor, film: FilmMeta) -> torch.Tensor:
        """x [B, Cin, T, F] -> [B, Cout, T, F]."""
        h = self.conv1(F.leaky_relu(self.bn1(x) + film["beta1"], LEAKY_SLOPE))  # [B, Cout, T, F]
        h = self.conv2(F.leaky_relu(self.bn2(h) + film["beta2"], LEAKY_SLOPE))  # [B, Cout, T, F]
        skip = x if self.shortcut is None else self.shortcut(x)  # [B, Cout, T, F]
        return skip + h


class EncoderBlockRes1B(nn.Module):
    """Residual block, then average pooling by `downsample` = (time, freq)."""

    def __init__(
        self, in_channels: int, out_channels: int, downsample: tuple[int, int], momentum: float
    ) -> None:
        super().__init__()
        self.conv_block1 = ConvBlockRes(in_channels, out_channels, momentum)
        self.downsample = downsample

    def forward(self, x: torch.Tensor, film: FilmMeta) -> tuple[torch.Tensor, torch.Tensor]:
        """x [B, Cin, T, F] -> pooled [B, Cout, T/dt, F/df], unpooled [B, Cout, T, F]."""
        h = self.conv_block1(x, film["conv_block1"])  # [B, Cout, T, F]
        return F.avg_pool2d(h, kernel_size=self.downsample), h


class DecoderBlockRes1B(nn.Module):
    """BatchNorm + FiLM + LeakyReLU, transposed conv up by `upsample`, concat skip, residual
    block (2C -> C). `bn2` (and its FiLM `beta2`) are never used: kept for the checkpoint."""

    has_film = True

    def __init__(
        self, in_channels: int, out_channels: int, upsample: tuple[int, int], momentum: float
    ) -> None:
        super().__init__()
        self.conv1 = nn.ConvTranspose2d(
            in_channels, out_channels, kernel_size=upsample, stride=upsample, bias=False
        )
        self.bn1 = nn.BatchNorm2d(in_channels, momentum=momentum)
        self.conv_block2 = ConvBlockRes(out_channels * 2, out_channels, momentum)
        self.bn2 = nn.BatchNorm2d(in_channels, momentum=momentum)  # unused, as in AudioSep
        init_layer(self.conv1)

    def forward(self, x: torch.Tensor, skip: torch.Tensor, film: FilmMeta) -> torch.Tensor:
        """x [B, Cin, T, F], skip [B, Cout, T*ut, F*uf] -> [B, Cout, T*ut, F*uf]."""
        h = self.conv1(F.leaky_relu(self.bn1(x) + film["beta1"], LEAKY_SLOPE))  # [B, Cout, ..]
        h = torch.cat([h, skip], dim=1)  # [B, 2 Cout, T*ut, F*uf]
        return self.conv_block2(h, film["conv_block2"])


class ResUNet30Base(nn.Module):
    """The separator without its FiLM layers (state-dict prefix `base.`)."""

    def __init__(self, config: ResUNet30Config) -> None:
        super().__init__()
        cfg = config
        self.config = cfg
        n_bins = cfg.n_fft // 2 + 1
        self.stft = FrozenSTFT(cfg.n_fft, cfg.hop)
        self.istft = FrozenISTFT(cfg.n_fft, cfg.hop)
        self.bn0 = nn.BatchNorm2d(n_bins, momentum=cfg.momentum)
        self.pre_conv = nn.Conv2d(1, cfg.channels[0], kernel_size=(1, 1))
        # Encoder: block i maps channels[i-1] -> channels[i] (block 1: channels[0] -> itself).
        ins = (cfg.channels[0], *cfg.channels[:-1])
        for i, (c_in, c_out, pool) in enumerate(zip(ins, cfg.channels, cfg.pooling, strict=True)):
            self.add_module(
                f"encoder_block{i + 1}", EncoderBlockRes1B(c_in, c_out, pool, cfg.momentum)
            )
        bottom = cfg.channels[-1]
        self.conv_block7a = EncoderBlockRes1B(bottom, bottom, (1, 1), cfg.momentum)
        # Decoder block k undoes encoder block n+1-k: its pooling, back to its input width.
        c_in = bottom
        for k, (c_out, up) in enumerate(zip(cfg.channels[::-1], cfg.pooling[::-1], strict=True)):
            self.add_module(
                f"decoder_block{k + 1}", DecoderBlockRes1B(c_in, c_out, up, cfg.momentum)
            )
            c_in = c_out
        self.after_conv = nn.Conv2d(cfg.channels[0], 3, kernel_size=(1, 1))  # K = 3 per source
        init_layer(self.pre_conv)
        init_layer(self.after_conv)

    def forward(self, mixture: torch.Tensor, film: FilmMeta) -> torch.Tensor:
        """Args: mixture [B, T]; film: FiLM biases. Returns: estimate [B, T]."""
        n_blocks = len(self.config.channels)
        real, imag = self.stft(mixture)  # [B, N, F]
        mag = torch.clamp(real**2 + imag**2, min=POWER_FLOOR).sqrt()  # [B, N, F]
        cos_in, sin_in = real / mag, imag / mag  # [B, N, F]
        n_frames = mag.shape[1]

        x = self.bn0(mag.transpose(1, 2).unsqueeze(-1))  # [B, F, N, 1]: bins as channels
        x = x.squeeze(-1).transpose(1, 2).unsqueeze(1)  # [B, 1, N, F]
        pad = -n_frames % self.config.time_factor
        x = F.pad(x, (0, 0, 0, pad))  # [B, 1, N', F]
        x = x[..., :-1]  # [B, 1, N', F - 1]: Nyquist bin dropped

        x = self.pre_conv(x)  # [B, C0, N', F - 1]
        skips = []
        for i in range(n_blocks):
            block = self.get_submodule(f"encoder_block{i + 1}")
            x, skip = block(x, film[f"encoder_block{i + 1}"])  # pooled, unpooled
            skips.append(skip)
        x, _ = self.conv_block7a(x, film["conv_block7a"])  # [B, Cn, N'/32, (F-1)/64]
        for k in range(n_blocks):
            block = self.get_submodule(f"decoder_block{k + 1}")
            x = block(x, skips[-1 - k], film[f"decoder_block{k + 1}"])
        x = self.after_conv(x)  # [B, 3, N', F - 1]

        x = F.pad(x, (0, 1))[:, :, :n_frames]  # [B, 3, N, F]: Nyquist back as zeros
        return self._apply_mask(x, mag, cos_in, sin_in, mixture.shape[-1])

    def _apply_mask(
        self,
        x: torch.Tensor,
        mag: torch.Tensor,
        cos_in: torch.Tensor,
        sin_in: torch.Tensor,
        length: int,
    ) -> torch.Tensor:
        """Mask magnitude, rotate the mixture phase, iSTFT.

        x [B, 3, N, F] (mask logit, rotation real, rotation imag); mag, cos_in, sin_in
        [B, N, F] of the mixture. Returns [B, length].
        """
        mask_mag = torch.sigmoid(x[:, 0])  # [B, N, F]
        rot_real, rot_imag = torch.tanh(x[:, 1]), torch.tanh(x[:, 2])  # [B, N, F]
        rot_len = torch.clamp((rot_real**2 + rot_imag**2).sqrt(), min=PHASE_FLOOR)  # [B, N, F]
        mask_cos, mask_sin = rot_real / rot_len, rot_imag / rot_len  # [B, N, F]
        # Angle addition: output phase = mixture phase + mask phase.
        out_cos = cos_in * mask_cos - sin_in * mask_sin  # [B, N, F]
        out_sin = sin_in * mask_cos + cos_in * mask_sin  # [B, N, F]
        out_mag = F.relu(mag * mask_mag)  # [B, N, F]
        return self.istft(out_mag * out_cos, out_mag * out_sin, length)  # [B, length]


class ResUNet30(nn.Module):
    """AudioSep's separator: `ResUNet30Base` (keys `base.*`) + `FiLM` (keys `film.*`).

    Args:
        config: hyperparameters; `ResUNet30Config()` is the released model.
    """

    family: ClassVar[str] = "resunet30"

    def __init__(self, config: ResUNet30Config | None = None) -> None:
        super().__init__()
        self.config = config if config is not None else ResUNet30Config()
        self.base = ResUNet30Base(self.config)
        self.film = FiLM(film_meta(self.base), self.config.condition_size)

    def forward(self, mixture: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        """Extract the source the embedding describes.

        Args:
            mixture: [B, T] waveform at `config.sample_rate`, T > n_fft / 2.
            embedding: [B, D] query embedding, D = `config.condition_size`.

        Returns:
            [B, T] estimate of the described source, aligned with the mixture.
        """
        if mixture.dim() != 2:
            raise AudioError(f"mixture must be [batch, samples], got shape {list(mixture.shape)}")
        if mixture.shape[-1] <= self.config.n_fft // 2:
            raise AudioError(
                f"mixture of {mixture.shape[-1]} samples is too short: "
                f"ResUNet30 needs more than {self.config.n_fft // 2}"
            )
        if embedding.dim() != 2 or embedding.shape[-1] != self.config.condition_size:
            raise QueryError(
                f"embedding must be [batch, {self.config.condition_size}], "
                f"got shape {list(embedding.shape)}"
            )
        return self.base(mixture, self.film(embedding))
