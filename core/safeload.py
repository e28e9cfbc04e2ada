"""Load checkpoints without executing their pickles.

`torch.load(weights_only=True)` refuses every global outside torch's allow-list. The
official CLAP and AudioSep checkpoints also pickle numpy scalars (`numpy.core.multiarray.scalar`
and `numpy.dtype`, from numpy 1.x), so those are admitted too, under both their numpy 1 and
numpy 2 module paths. Anything else (e.g. a payload that reduces to `os.system`) is refused
with `CheckpointError` before it can run.

torch's weights-only unpickler only speaks pickle protocol 2 (torch.save's default): files
written with protocol 4 (FRAME, STACK_GLOBAL, ... opcodes; the CLAP checkpoints are) fail
there with "Unsupported operand". For those, and only those, the file is read again by
`torch.load` with the standard C unpickler whose `find_class` admits exactly the same
allow-list (torch's own plus the numpy entries): the "restricting globals" recipe of the
`pickle` documentation. Every route by which a pickle can run code (GLOBAL, STACK_GLOBAL,
INST, OBJ, EXT*) goes through `find_class`, so a refused global never runs.

torch is imported inside the function: this module is importable without it.
"""

from __future__ import annotations

import importlib
import os
import pickle
import re
import types
import warnings
from typing import IO, Any

from livesep.errors import CheckpointError

__all__ = ["load_state", "numpy_safe_globals"]

# numpy 1.x pickles name `numpy.core.multiarray`; numpy 2 renamed the package `numpy._core`.
_MULTIARRAY_PATHS = ("numpy.core.multiarray", "numpy._core.multiarray")
_NUMPY_DTYPE_CLASSES = (
    "BoolDType",
    "Int8DType",
    "Int16DType",
    "Int32DType",
    "Int64DType",
    "UInt8DType",
    "UInt16DType",
    "UInt32DType",
    "UInt64DType",
    "Float16DType",
    "Float32DType",
    "Float64DType",
    "LongDType",
    "ULongDType",
    "LongLongDType",
    "ULongLongDType",
    "Complex64DType",
    "Complex128DType",
)
_GLOBAL_NAME = re.compile(r"GLOBAL (\S+)")
_UNSUPPORTED_OPCODE = "Unsupported operand"  # torch's message for an opcode beyond protocol 2


def numpy_safe_globals() -> list[Any]:
    """The numpy entries of the allow-list, for `torch.serialization.safe_globals`.

    Returns:
        `(callable, "module.name")` pairs for `multiarray.scalar` under both module paths,
        `numpy.dtype` and the numeric dtype classes of `numpy.dtypes` (numpy >= 1.25).
    """
    import numpy as np

    scalar = None
    for path in reversed(_MULTIARRAY_PATHS):  # prefer the real module over numpy 2's shim
        try:
            scalar = importlib.import_module(path).scalar
            break
        except (ImportError, AttributeError):
            continue
    entries: list[Any] = [(np.dtype, "numpy.dtype")]
    if scalar is not None:
        entries += [(scalar, f"{path}.scalar") for path in _MULTIARRAY_PATHS]
    dtypes = getattr(np, "dtypes", None)
    for name in _NUMPY_DTYPE_CLASSES:
        cls = getattr(dtypes, name, None)
        if cls is not None:
            entries.append((cls, f"numpy.dtypes.{name}"))
    return entries


def load_state(path: str | os.PathLike[str], map_location: Any = "cpu") -> dict[str, Any]:
    """Load a torch checkpoint whose pickle may only build tensors, containers and numpy scalars.

    Args:
        path: a file written by `torch.save` (zip or legacy format).
        map_location: as in `torch.load`; tensors go to the CPU by default.

    Returns:
        The checkpoint's top-level dict.

    Raises:
        CheckpointError: the file is missing, unreadable, not a dict, or its pickle refers to
            anything outside the allow-list (the offending global is named; nothing runs).
    """
    import torch

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with torch.serialization.safe_globals(numpy_safe_globals()):
            try:
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message="Detected pickle protocol")
                    state = torch.load(path, map_location=map_location, weights_only=True)
            except pickle.UnpicklingError as exc:
                if _UNSUPPORTED_OPCODE not in str(exc):
                    raise
                # A pickle protocol torch's unpickler lacks: same allow-list, C unpickler.
                state = torch.load(
                    path,
                    map_location=map_location,
                    weights_only=False,
                    pickle_module=_restricted_pickle_module(),
                )
    except pickle.UnpicklingError as exc:
        match = _GLOBAL_NAME.search(str(exc))
        what = f"global {match.group(1)}" if match else _first_line(exc)
        raise CheckpointError(f"{path}: refused unsafe pickle content ({what})") from None
    except Exception as exc:  # any other failure to parse: a corrupt or foreign file
        raise CheckpointError(
            f"{path}: not a readable torch checkpoint ({_first_line(exc)})"
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: checkpoint holds a {type(state).__name__}, expected a dict")
    return state


def _allowed_globals() -> dict[str, Any]:
    """torch's weights-only allow-list plus the entries of the active `safe_globals` context."""
    from torch import _weights_only_unpickler as wo

    return {**wo._get_allowed_globals(), **wo._get_user_allowed_globals()}


class _RestrictedUnpickler(pickle.Unpickler):
    """The standard unpickler, resolving globals only from the weights-only allow-list."""

    def __init__(self, file: IO[bytes], **kwargs: Any) -> None:
        super().__init__(file, **kwargs)
        self._allowed = _allowed_globals()

    def find_class(self, module: str, name: str) -> Any:
        full_path = f"{module}.{name}"
        if full_path not in self._allowed:
            raise pickle.UnpicklingError(f"Unsupported global: GLOBAL {full_path}")
        return self._allowed[full_path]


def _restricted_load(file: IO[bytes], **kwargs: Any) -> Any:
    return _RestrictedUnpickler(file, **kwargs).load()


def _restricted_pickle_module() -> types.ModuleType:
    """A stand-in for `pickle` as `torch.load(pickle_module=...)` uses it (zip and legacy)."""
    module = types.ModuleType("livesep_restricted_pickle")
    module.Unpickler = _RestrictedUnpickler  # type: ignore[attr-defined]
    module.load = _restricted_load  # type: ignore[attr-defined]
    return module


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
