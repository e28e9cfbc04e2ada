"""Torch separators -> ONNX graphs: the streaming step/chunk graph, the FiLM graph and the
offline (whole-signal) graph. Names and shapes follow docs/CONTRACTS.md ("Bundle").

- `step`/`chunk` (StreamingResUNet): `audio[B, k*hop] + cond[B, C] + states -> out[B, k*hop]
  + <state>_next`, k fixed at export (1 for step). STFT and iSTFT are MatMuls with fixed DFT
  kernels inside the graph (no DFT/STFT op: the CUDA execution provider has none); every
  shape but the batch axis is fixed, and there is no control flow.
- `film`: `embedding[B, D] -> cond[B, C]`, run once per query, so the step graph gets its
  FiLM betas precomputed (a 384 x C MatMul per hop saved).
- `offline` (ResUNet30 and any `model(mixture, embedding)`): `mixture[B, T] + embedding[B, D]
  -> estimate[B, T]`, dynamic B and T. The TorchScript exporter fails on the centred iSTFT's
  overlap-add (col2im); the dynamo exporter at opset 18 handles it (AUDIOSEP.md).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import onnx
import torch
from torch import nn

from livesep.errors import LivesepError
from livesep.model.streaming import StreamingResUNet

STEP_OPSET = 17  # TorchScript exporter; every op of the step graph is plain opset-17
OFFLINE_OPSET = 18  # dynamo exporter (needs >= 18)
BATCH = "batch"
# Ops that must never appear in a streaming graph: the CUDA provider has no kernel for them.
FORBIDDEN_STEP_OPS = frozenset({"DFT", "STFT", "Loop", "If", "Scan"})


class ExportError(LivesepError):
    """A model cannot be exported or its graph fails a check."""


class StepGraph(nn.Module):
    """`model.step` with states as separate inputs/outputs (the ONNX signature)."""

    def __init__(self, model: StreamingResUNet) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, audio: torch.Tensor, cond: torch.Tensor, *states: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        out, new = self.model.step(audio, cond, list(states))  # [B, k*hop], states'
        return (out, *new)


class FilmGraph(nn.Module):
    """`model.film`: embedding [B, D] -> cond [B, C]."""

    def __init__(self, model: StreamingResUNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, embedding: torch.Tensor) -> torch.Tensor:
        return self.model.film(embedding)  # [B, C]


def step_io_names(model: StreamingResUNet) -> tuple[list[str], list[str]]:
    """Input and output names of the step/chunk graph, in positional order."""
    names = [name for name, _ in model.state_specs()]
    return ["audio", "cond", *names], ["out", *(f"{n}_next" for n in names)]


def export_step(model: StreamingResUNet, path: str | Path, block_hops: int = 1) -> Path:
    """Export `model.step` for blocks of `block_hops` hops (1 = the step graph).

    Args:
        model: the streaming separator (put in eval mode here).
        path: the .onnx file to write.
        block_hops: hops per call, k; fixed in the graph.

    Returns:
        The path written.
    """
    if block_hops < 1:
        raise ExportError(f"block_hops must be >= 1, got {block_hops}")
    model = model.eval()
    hop = model.config.hop
    example = (
        torch.zeros(1, block_hops * hop),
        torch.zeros(1, model.cond_dim),
        *model.init_state(1),
    )
    inputs, outputs = step_io_names(model)
    dynamic = {name: {0: BATCH} for name in inputs + outputs}
    _export_torchscript(StepGraph(model).eval(), example, Path(path), inputs, outputs, dynamic)
    shapes = [(block_hops * hop,), *(shape for _, shape in model.state_specs())]
    _declare_output_shapes(Path(path), dict(zip(outputs, shapes, strict=True)))
    check_streaming_graph(path)
    return Path(path)


def _declare_output_shapes(path: Path, shapes: dict[str, tuple[int, ...]]) -> None:
    """Write the known non-batch output shapes into the graph signature.

    The tracer leaves some output dims symbolic (they pass through Shape/Slice ops that
    ONNX shape inference does not resolve), though every one is fixed by construction.
    Declaring them lets hosts preallocate (IO binding, CUDA graphs); `verify_streaming`
    runs the graph and feeds each state back, so a wrong declaration cannot go unnoticed.
    """
    proto = onnx.load(str(path))
    for value in proto.graph.output:
        dims = value.type.tensor_type.shape.dim
        shape = shapes[value.name]
        if len(dims) != 1 + len(shape):
            raise ExportError(f"{path}: output {value.name} has rank {len(dims)}")
        for dim, size in zip(dims[1:], shape, strict=True):
            dim.Clear()
            dim.dim_value = size
    onnx.save(proto, str(path))


def export_film(model: StreamingResUNet, path: str | Path) -> Path:
    """Export `model.film`: input `embedding` [B, D] -> output `cond` [B, C]."""
    model = model.eval()
    example = (torch.zeros(1, model.config.embed_dim),)
    dynamic = {"embedding": {0: BATCH}, "cond": {0: BATCH}}
    _export_torchscript(
        FilmGraph(model).eval(), example, Path(path), ["embedding"], ["cond"], dynamic
    )
    return Path(path)


def _export_torchscript(
    module: nn.Module,
    example: tuple[torch.Tensor, ...],
    path: Path,
    inputs: list[str],
    outputs: list[str],
    dynamic: dict[str, dict[int, str]],
) -> None:
    # The exporter puts `module` in eval mode and restores its mode afterwards, recursively:
    # callers pass an eval-mode wrapper so the wrapped model stays in eval mode.
    path.parent.mkdir(parents=True, exist_ok=True)
    # The trace warnings are about Python ints taken from shapes (k, the frame count), which
    # are fixed by construction in these graphs; the checks below verify the result.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            example,
            str(path),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dynamic,
            opset_version=STEP_OPSET,
            dynamo=False,
        )


def export_offline(
    model: nn.Module, path: str | Path, embed_dim: int, example_samples: int = 16000
) -> Path:
    """Export `model(mixture, embedding) -> estimate` with dynamic batch and length.

    Args:
        model: a whole-signal separator (e.g. ResUNet30), put in eval mode here.
        path: the .onnx file to write.
        embed_dim: D, the embedding size the model takes.
        example_samples: length of the example signal used for tracing.

    Returns:
        The path written.
    """
    from torch.export import Dim

    model = model.eval()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    example = (torch.zeros(1, example_samples), torch.zeros(1, embed_dim))
    dynamic = ({0: Dim.DYNAMIC, 1: Dim.DYNAMIC}, {0: Dim.DYNAMIC})
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                model,
                example,
                str(path),
                input_names=["mixture", "embedding"],
                output_names=["estimate"],
                dynamic_shapes=dynamic,
                opset_version=OFFLINE_OPSET,
                dynamo=True,
                verbose=False,
            )
        except Exception as exc:  # the exporter raises many types; name the model and cause
            raise ExportError(
                f"{type(model).__name__}: offline ONNX export failed ({type(exc).__name__})"
            ) from exc
    _name_offline_axes(path)
    return path


def _name_offline_axes(path: Path) -> None:
    """Give the dynamic axes readable names (the exporter writes symbols like 's85')."""
    proto = onnx.load(str(path))
    for value in [*proto.graph.input, *proto.graph.output]:
        dims = value.type.tensor_type.shape.dim
        dims[0].dim_param = BATCH
        if value.name != "embedding":
            dims[1].dim_param = "samples"
    onnx.save(proto, str(path))


def check_streaming_graph(path: str | Path) -> None:
    """Fail unless the graph has only fixed non-batch shapes and no DFT/STFT/control flow.

    Raises:
        ExportError: naming the offending op or input/output.
    """
    proto = onnx.load(str(path))
    ops = {node.op_type for node in proto.graph.node}
    bad = sorted(ops & FORBIDDEN_STEP_OPS)
    if bad:
        raise ExportError(f"{path}: streaming graph contains {bad} (not allowed)")
    for value in [*proto.graph.input, *proto.graph.output]:
        dims = value.type.tensor_type.shape.dim
        if not dims or dims[0].HasField("dim_value"):
            raise ExportError(f"{path}: {value.name} must have a dynamic batch axis")
        for axis, dim in enumerate(dims[1:], start=1):
            if not dim.HasField("dim_value"):
                raise ExportError(f"{path}: {value.name} axis {axis} is not fixed")
