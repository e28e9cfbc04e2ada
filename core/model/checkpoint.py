"""Model registry and checkpoint files.

livesep checkpoint = `{"family": str, "config": asdict(config), "model": state_dict, **extra}`,
written atomically and read back with `livesep.safeload.load_state` (weights only).

The released AudioSep checkpoint is a PyTorch Lightning file: `checkpoint["state_dict"]` holds
the separator under `ss_model.` beside the CLAP text encoder (`query_encoder.`), optimizer
state and other entries. `load_audiosep_checkpoint` takes the separator out of it strictly.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import types
import typing
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from livesep.atomic import atomic_path
from livesep.errors import CheckpointError
from livesep.model.resunet import ResUNet30, ResUNet30Config
from livesep.safeload import load_state

__all__ = [
    "FAMILIES",
    "build_model",
    "save_checkpoint",
    "load_checkpoint",
    "load_audiosep_checkpoint",
    "check_state_dict",
]

# family -> (module, model class, config class); imported on first use, so a family whose
# module is missing only fails when asked for.
FAMILIES: dict[str, tuple[str, str, str]] = {
    "resunet30": ("livesep.model.resunet", "ResUNet30", "ResUNet30Config"),
    "streaming": ("livesep.model.streaming", "StreamingResUNet", "StreamingConfig"),
}
AUDIOSEP_PREFIX = "ss_model."  # the separator's keys in the released Lightning checkpoint
_RESERVED = ("family", "config", "model")
_NAMES_SHOWN = 5  # keys named in an error message before "..."


def _family_classes(family: str) -> tuple[type[nn.Module], type]:
    if family not in FAMILIES:
        raise CheckpointError(f"unknown model family {family!r} (known: {', '.join(FAMILIES)})")
    module_name, model_name, config_name = FAMILIES[family]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CheckpointError(f"model family {family!r} is unavailable ({exc})") from None
    return getattr(module, model_name), getattr(module, config_name)


def build_model(family: str, config_dict: Mapping[str, Any]) -> nn.Module:
    """Build a fresh model of a registered family from its config as a dict.

    Args:
        family: "resunet30" or "streaming".
        config_dict: `dataclasses.asdict(config)`, possibly through JSON (lists where the
            dataclass has tuples: converted back). Missing keys take the defaults.

    Raises:
        CheckpointError: unknown family, unknown config keys or invalid values.
    """
    model_cls, config_cls = _family_classes(family)
    hints = typing.get_type_hints(config_cls)
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(config_dict) - set(fields))
    if unknown:
        raise CheckpointError(f"{family} config has unknown keys: {_name_list(unknown)}")
    values = {
        key: _as_tuples(value) if _wants_tuple(hints.get(key)) else value
        for key, value in config_dict.items()
        if fields[key].init  # asdict() also writes init=False fields: derived, not passed
    }
    try:
        config = config_cls(**values)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{family} config is invalid: {exc}") from None
    return model_cls(config)


def save_checkpoint(path: str | os.PathLike[str], model: nn.Module, **extra: Any) -> None:
    """Write `{"family", "config", "model", **extra}` atomically (temp file + rename).

    Args:
        path: destination; its folder must exist. Never left half-written.
        model: a registered model (`family` and dataclass `config` attributes).
        extra: more entries (step, optimizer state, metrics ...): anything `torch.load`
            accepts with `weights_only=True`.
    """
    clash = [key for key in _RESERVED if key in extra]
    if clash:
        raise CheckpointError(f"save_checkpoint: extra entries may not be named {clash}")
    family = getattr(model, "family", None)
    config = getattr(model, "config", None)
    if family not in FAMILIES or not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise CheckpointError(f"{type(model).__name__} is not a registered model family")
    checkpoint = {
        "family": family,
        "config": dataclasses.asdict(config),
        "model": model.state_dict(),
        **extra,
    }
    with atomic_path(path, error=CheckpointError) as tmp:
        with open(tmp, "wb") as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())


def load_checkpoint(
    path: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Read a file written by `save_checkpoint`.

    Returns:
        (model in eval mode on `device`, the extra entries).

    Raises:
        CheckpointError: unsafe/unreadable file, missing entries, unknown family, or a state
            dict that does not match the config (keys and shapes named).
    """
    path = os.fspath(path)
    checkpoint = load_state(path)
    missing = [key for key in _RESERVED if key not in checkpoint]
    if missing:
        raise CheckpointError(f"{path}: not a livesep checkpoint (no {', '.join(missing)})")
    try:
        model = build_model(checkpoint["family"], checkpoint["config"])
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    check_state_dict(model, checkpoint["model"], path)
    model.load_state_dict(checkpoint["model"])
    extra = {key: value for key, value in checkpoint.items() if key not in _RESERVED}
    return model.to(device).eval(), extra


def load_audiosep_checkpoint(
    path: str | os.PathLike[str],
    device: str | torch.device = "cpu",
    config: ResUNet30Config | None = None,
) -> ResUNet30:
    """Load the separator of a released AudioSep Lightning checkpoint, strictly.

    Args:
        path: e.g. `audiosep_base_4M_steps.ckpt`.
        device: where the model goes.
        config: the architecture the file holds; the released model's by default.

    Returns:
        `ResUNet30` in eval mode.

    Raises:
        CheckpointError: unsafe/unreadable file, no `state_dict`, missing or unexpected
            `ss_model.` keys, or shape mismatches (first few named, with counts).
    """
    path = os.fspath(path)
    checkpoint = load_state(path)
    state = checkpoint.get("state_dict")
    if not isinstance(state, Mapping):
        raise CheckpointError(f"{path}: not a Lightning checkpoint (no 'state_dict' dict)")
    separator = {
        key[len(AUDIOSEP_PREFIX) :]: value
        for key, value in state.items()
        if key.startswith(AUDIOSEP_PREFIX)
    }
    if not separator:
        raise CheckpointError(f"{path}: no '{AUDIOSEP_PREFIX}*' keys in state_dict")
    model = ResUNet30(config)
    check_state_dict(model, separator, path)
    model.load_state_dict(separator)
    del checkpoint, state, separator
    return model.to(device).eval()


def check_state_dict(model: nn.Module, state: Mapping[str, Any], source: str) -> None:
    """Raise CheckpointError naming missing keys, unexpected keys and shape mismatches.

    Args:
        model: the module the state is meant for.
        state: name -> tensor.
        source: the file, for the message.
    """
    expected = model.state_dict()
    problems = []
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    shapes = [
        f"{key} {_shape(state[key])} != {list(expected[key].shape)}"
        for key in expected
        if key in state and _shape(state[key]) != list(expected[key].shape)
    ]
    if missing:
        problems.append(f"{len(missing)} missing keys: {_name_list(missing)}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected keys: {_name_list(unexpected)}")
    if shapes:
        problems.append(f"{len(shapes)} shape mismatches: {_name_list(shapes)}")
    if problems:
        raise CheckpointError(f"{source}: {'; '.join(problems)}")


def _shape(value: Any) -> list[int] | str:
    return list(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__


def _name_list(names: list[str]) -> str:
    shown = ", ".join(names[:_NAMES_SHOWN])
    more = len(names) - _NAMES_SHOWN
    return f"{shown}, ... ({more} more)" if more > 0 else shown


def _wants_tuple(hint: Any) -> bool:
    """Whether a field annotation is a tuple (or an optional/union with a tuple)."""
    if typing.get_origin(hint) is tuple or hint is tuple:
        return True
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and any(
        _wants_tuple(arg) for arg in typing.get_args(hint)
    )


def _as_tuples(value: Any) -> Any:
    """Lists (from JSON or hand-written configs) back to the tuples a dataclass declares."""
    if isinstance(value, list | tuple):
        return tuple(_as_tuples(item) for item in value)
    return value
