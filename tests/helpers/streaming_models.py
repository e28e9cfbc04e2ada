"""Tiny StreamingResUNet models with random weights for fast tests (core and export)."""

from __future__ import annotations

from dataclasses import asdict

import torch
from torch import nn

from livesep.model.streaming import StreamingConfig, StreamingResUNet

# 16 kHz, W = 256 (16 ms), hop 64 (4 ms): 128 bins -> 64 -> 32 bands at the bottleneck.
TINY = StreamingConfig(
    sample_rate=16000, n_fft=256, hop=64, embed_dim=16, widths=(4, 8, 8), gru_hidden=8
)


def tiny_config(**overrides: object) -> StreamingConfig:
    """TINY with some fields replaced."""
    return StreamingConfig(**{**asdict(TINY), **overrides})


def randomize(model: StreamingResUNet, seed: int = 0) -> StreamingResUNet:
    """Random weights, biases and BatchNorm running statistics; returns the model in eval mode.

    Running stats away from (0, 1) make eval-mode BatchNorm a real per-channel affine map, so
    a test cannot pass because a layer happens to be the identity.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(0.5 * torch.randn(m.num_features, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=gen))
                m.weight.copy_(1 + 0.2 * torch.randn(m.num_features, generator=gen))
                m.bias.copy_(0.2 * torch.randn(m.num_features, generator=gen))
            elif isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear) and m.bias is not None:
                m.bias.copy_(0.3 * torch.randn(m.bias.shape, generator=gen))
    return model.eval()


def random_model(config: StreamingConfig = TINY, seed: int = 0) -> StreamingResUNet:
    """A StreamingResUNet with deterministic random weights, in eval mode."""
    torch.manual_seed(seed)
    return randomize(StreamingResUNet(config), seed)


def force_pass_through(model: StreamingResUNet) -> StreamingResUNet:
    """Make the mask pass everything: gain 1 (sigmoid of a large logit), rotation (1, 0).

    The model then reduces to causal STFT -> iSTFT, i.e. the input delayed by its latency.
    """
    with torch.no_grad():
        conv = model.after_conv
        conv.weight.zero_()
        conv.bias.copy_(torch.tensor([40.0, 40.0, 0.0]))  # sigmoid(40) == tanh(40) == 1 in fp32
    return model
