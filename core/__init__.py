"""livesep: separate anything you describe, live.

The core library: STFT, the separator models, text encoders, bundles, audio I/O, offline
separation and metrics. Wings (`livesep.export`, `livesep.realtime`, `livesep.gui`,
`livesep.training`) build on it; it never imports them.
"""

from typing import Any

from livesep.errors import LivesepError

__version__ = "0.1.0"

__all__ = ["LivesepError", "__version__", "separate"]


def __getattr__(name: str) -> Any:
    # `livesep.separate(...)` without importing numpy/onnxruntime at `import livesep`: the
    # module livesep.separate is itself callable (it forwards to separate.separate).
    if name == "separate":
        import importlib

        return importlib.import_module("livesep.separate")
    raise AttributeError(f"module 'livesep' has no attribute {name!r}")
