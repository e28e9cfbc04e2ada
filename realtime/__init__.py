"""livesep.realtime: the streaming engine, device I/O and the `live` / `devices` commands.

numpy + onnxruntime + sounddevice only: this package never imports torch.
"""

from livesep.realtime.engine import Engine
from livesep.realtime.stats import EngineStats

__all__ = ["Engine", "EngineStats"]
