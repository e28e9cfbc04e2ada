"""livesep.safeload: weights-only loading that admits numpy scalars and runs nothing else."""

from __future__ import annotations

import os
import pickle
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from livesep.errors import CheckpointError
from livesep.safeload import load_state

PROTOCOLS = [2, 4]  # torch.save's default, and the one the CLAP checkpoints use


class _Hostile:
    """Unpickling this would run a shell command that creates `marker`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


_SCALAR = np.float32(0).__reduce__()[0]  # numpy's scalar reconstructor


class _Numpy1Pickler(pickle._Pickler):  # type: ignore[name-defined]
    """Writes numpy's scalar reconstructor under numpy 1's name, `numpy.core.multiarray`,
    as checkpoints saved with numpy 1.x (CLAP's, AudioSep's) have it."""

    def save_global(self, obj: Any, name: str | None = None) -> None:
        if obj is not _SCALAR:
            super().save_global(obj, name)
            return
        if self.proto >= 4:
            self.save("numpy.core.multiarray")
            self.save("scalar")
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + b"numpy.core.multiarray\nscalar\n")
        self.memoize(obj)


def _save_numpy1(obj: Any, path: Path, protocol: int) -> None:
    module = types.SimpleNamespace(Pickler=_Numpy1Pickler, __name__="pickle")
    torch.save(obj, path, pickle_module=module, pickle_protocol=protocol)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("zipped", [True, False])
def test_hostile_torch_file_is_refused_and_never_runs(
    tmp_path: Path, protocol: int, zipped: bool
) -> None:
    marker = tmp_path / "MARKER"
    path = tmp_path / "evil.pt"
    torch.save(
        {"weight": torch.ones(2), "x": _Hostile(marker)},
        path,
        pickle_protocol=protocol,
        _use_new_zipfile_serialization=zipped,
    )
    with pytest.raises(CheckpointError, match=r"evil\.pt.*refused.*system"):
        load_state(path)
    assert not marker.exists()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_hostile_plain_pickle_is_refused_and_never_runs(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "MARKER"
    path = tmp_path / "evil.pkl"
    with open(path, "wb") as f:
        pickle.dump({"x": _Hostile(marker)}, f, protocol=protocol)
    with pytest.raises(CheckpointError, match="refused"):
        load_state(path)
    assert not marker.exists()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_plain_state_dict_loads(tmp_path: Path, protocol: int) -> None:
    state = torch.nn.Linear(3, 2).state_dict()
    path = tmp_path / "plain.pt"
    torch.save({"state_dict": state, "step": 7}, path, pickle_protocol=protocol)
    loaded = load_state(path)
    assert loaded["step"] == 7
    assert loaded["state_dict"].keys() == state.keys()
    for key, value in state.items():
        assert torch.equal(loaded["state_dict"][key], value)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("numpy1_names", [False, True])
def test_numpy_scalars_and_dtypes_load(tmp_path: Path, protocol: int, numpy1_names: bool) -> None:
    payload = {
        "model": {"w": torch.arange(4.0)},
        "best": np.float64(0.125),
        "epoch": np.int64(15),
        "dtype": np.dtype("float32"),
    }
    path = tmp_path / "np.pt"
    if numpy1_names:
        _save_numpy1(payload, path, protocol)
        assert b"numpy.core.multiarray" in _pickle_bytes(path)
    else:
        torch.save(payload, path, pickle_protocol=protocol)
    loaded = load_state(path)
    assert loaded["best"] == np.float64(0.125) and isinstance(loaded["best"], np.float64)
    assert loaded["epoch"] == 15 and isinstance(loaded["epoch"], np.int64)
    assert loaded["dtype"] == np.dtype("float32")
    assert torch.equal(loaded["model"]["w"], torch.arange(4.0))


def test_other_globals_are_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "ns.pt"
    torch.save({"args": types.SimpleNamespace(lr=1e-3)}, path, pickle_protocol=4)
    with pytest.raises(CheckpointError, match="types.SimpleNamespace"):
        load_state(path)


def test_missing_corrupt_and_non_dict_files(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_state(tmp_path / "absent.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"this is not a checkpoint")
    with pytest.raises(CheckpointError, match="garbage.pt: not a readable"):
        load_state(garbage)
    listed = tmp_path / "list.pt"
    torch.save([torch.zeros(1)], listed)
    with pytest.raises(CheckpointError, match="holds a list"):
        load_state(listed)


def _pickle_bytes(path: Path) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith("data.pkl"))
        return archive.read(name)
