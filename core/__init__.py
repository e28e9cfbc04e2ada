"""livesep: separate anything you describe, live.

The core library: STFT, the separator models, text encoders, bundles, audio I/O, offline
separation and metrics. Wings (`livesep.export`, `livesep.realtime`, `livesep.gui`,
`livesep.training`) build on it; it never imports them.
"""

from livesep.errors import LivesepError

__version__ = "0.1.0"

__all__ = ["LivesepError", "__version__"]
