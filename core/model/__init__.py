"""Separator models: AudioSep's ResUNet30, the streaming ResUNet, checkpoints.

`StreamingResUNet` / `StreamingConfig` live in `livesep.model.streaming` and are imported on
first access, so `import livesep.model` works without (and does not pay for) that module.
"""

from __future__ import annotations

import importlib
from typing import Any

from livesep.model.checkpoint import (
    build_model,
    load_audiosep_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from livesep.model.film import FiLM
from livesep.model.resunet import ResUNet30, ResUNet30Config

__all__ = [
    "ResUNet30",
    "ResUNet30Config",
    "FiLM",
    "build_model",
    "save_checkpoint",
    "load_checkpoint",
    "load_audiosep_checkpoint",
    "StreamingResUNet",
    "StreamingConfig",
]

_LAZY = {
    "StreamingResUNet": "livesep.model.streaming",
    "StreamingConfig": "livesep.model.streaming",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
