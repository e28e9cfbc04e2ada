"""ResUNet30 test helpers: a tiny config, random weights, the reference state-dict listing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from livesep.model import ResUNet30Config

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
STATE_DICT_TSV = FIXTURES / "audiosep_resunet30_state_dict.tsv"
FILM_META_JSON = FIXTURES / "film_meta.json"

# 16 kHz, W = 256 (16 ms), hop 64: 128 bins -> 32 at the bottleneck, time padded to 2 frames.
TINY = ResUNet30Config(
    sample_rate=16000,
    n_fft=256,
    hop=64,
    condition_size=16,
    channels=(4, 8),
    pooling=((2, 2), (1, 2)),
)


def reference_entries() -> list[tuple[str, list[int], str]]:
    """(key, shape, dtype) of the released separator, in the checkpoint's order."""
    entries = []
    for line in STATE_DICT_TSV.read_text().splitlines():
        name, shape, dtype = line.split("\t")
        entries.append((name, json.loads(shape), dtype))
    return entries


def reference_film_meta() -> dict[str, Any]:
    meta: dict[str, Any] = json.loads(FILM_META_JSON.read_text())
    return meta


def randomize(model: nn.Module, seed: int = 0) -> nn.Module:
    """Random biases and BatchNorm statistics/affines (weights keep their random init), eval mode.

    With BatchNorm away from identity and nonzero FiLM biases, a test cannot pass because a
    layer happens to do nothing. The frozen DFT matrices are left alone.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_(0.3 * torch.randn(n, generator=gen))
                module.running_var.copy_(0.5 + torch.rand(n, generator=gen))
                module.weight.copy_(1 + 0.2 * torch.randn(n, generator=gen))
                module.bias.copy_(0.2 * torch.randn(n, generator=gen))
            elif isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
                if module.bias is not None:
                    module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=gen))
    return model.eval()
