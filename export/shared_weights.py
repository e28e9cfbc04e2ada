"""One weights file for graphs that hold the same tensors (step.onnx and chunk.onnx).

The step graph (one hop per call) and the chunk graph (50 hops per call) are traced from
the same model, so their weights and their STFT / iSTFT matrices are the same tensors:
5.3 MB in each graph for the default model. `share_weights` moves every tensor of at least
`MIN_BYTES` out of the graphs into one ONNX external-data file, each distinct tensor
stored once. ONNX Runtime and `onnx.load` read such a graph from its path: the data file
sits beside it, named in each tensor's `external_data` (location, offset, length).
Large `Constant` nodes (the tracer writes the DFT matrices so) become initializers first,
since only initializers are moved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import onnx
from onnx import TensorProto, numpy_helper
from onnx.external_data_helper import set_external_data

from livesep.export.onnx_step import ExportError

__all__ = ["MIN_BYTES", "share_weights"]

MIN_BYTES = 1024  # smaller tensors (shapes, scalars) stay inside the graph
ALIGN = 64  # bytes; every tensor starts at a multiple of it in the data file


def share_weights(graphs: Sequence[Path], data_name: str = "weights.bin") -> Path:
    """Rewrite `graphs` (in one folder) to keep their large tensors in `data_name`.

    Returns:
        The path of the data file, beside the graphs.

    Raises:
        ExportError: the graphs are not in one folder, or one already uses external data.
    """
    paths = [Path(p) for p in graphs]
    if not paths or len({p.parent for p in paths}) != 1:
        raise ExportError(f"share_weights needs graphs in one folder, got {paths}")
    out = paths[0].parent / data_name
    stored: dict[bytes, tuple[int, int]] = {}  # sha256 of the bytes -> (offset, length)
    with open(out, "wb") as data:
        for path in paths:
            proto = onnx.load(str(path), load_external_data=False)
            _constants_to_initializers(proto.graph)
            for tensor in proto.graph.initializer:
                if tensor.data_location == TensorProto.EXTERNAL:
                    raise ExportError(f"{path}: {tensor.name} already uses external data")
                raw = _raw_bytes(tensor)
                if len(raw) < MIN_BYTES:
                    continue
                key = hashlib.sha256(raw).digest()
                if key not in stored:
                    data.write(b"\0" * (-data.tell() % ALIGN))
                    stored[key] = (data.tell(), len(raw))
                    data.write(raw)
                offset, length = stored[key]
                set_external_data(tensor, location=data_name, offset=offset, length=length)
                tensor.data_location = TensorProto.EXTERNAL
                tensor.ClearField("raw_data")
            onnx.save(proto, str(path))
    return out


def _raw_bytes(tensor: TensorProto) -> bytes:
    """The tensor's data as raw little-endian bytes; typed fields are moved to raw_data."""
    if not tensor.HasField("raw_data"):
        tensor.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(tensor), tensor.name))
    return tensor.raw_data


def _constants_to_initializers(graph: onnx.GraphProto) -> None:
    """Replace each top-level Constant node with a tensor of >= MIN_BYTES by an initializer."""
    keep = []
    for node in graph.node:
        value = next((a.t for a in node.attribute if a.name == "value"), None)
        if node.op_type == "Constant" and value is not None and _nbytes(value) >= MIN_BYTES:
            init = graph.initializer.add()
            init.CopyFrom(value)
            init.name = node.output[0]
        else:
            keep.append(node)
    del graph.node[:]
    graph.node.extend(keep)


def _nbytes(tensor: TensorProto) -> int:
    return int(numpy_helper.to_array(tensor).nbytes)
