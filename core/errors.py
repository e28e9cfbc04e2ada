"""Errors the library raises. Only the CLI turns them into exit codes."""


class LivesepError(Exception):
    """Base class: a user-facing problem with a one-line message naming the cause."""


class AudioError(LivesepError):
    """An audio file or array cannot be used (missing, not audio, empty, NaN/Inf, rate)."""


class BundleError(LivesepError):
    """A model bundle is missing, corrupt or inconsistent."""


class CheckpointError(LivesepError):
    """A checkpoint cannot be loaded (unsafe pickle, missing/unexpected keys, shapes)."""


class QueryError(LivesepError):
    """A text query is empty or cannot be encoded."""


class ConfigError(LivesepError):
    """A configuration file or override is invalid (unknown key, wrong type, bad value)."""
