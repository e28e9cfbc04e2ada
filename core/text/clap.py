"""LAION-CLAP's text branch (512-d), rebuilt with `transformers` (no laion-clap package).

What it is (see shared/reference/CLAP.md): a RoBERTa-base encoder with CLAP's config, its
pooler output through `text_projection` = Linear(768, 512) -> ReLU -> Linear(512, 512),
L2-normalised. Weights come from the user's CLAP checkpoint (or an AudioSep checkpoint,
which holds CLAP under `query_encoder.model.`), read through `livesep.safeload` and loaded
strictly; the tokenizer is RoBERTa's BPE (`vocab.json` + `merges.txt`) from a folder.
torch and transformers are imported in the constructor only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from livesep.errors import CheckpointError
from livesep.text.base import l2_normalize, validate_queries

CLAP_DIM = 512  # CLAP's joint audio-text embedding size
CLAP_MAX_TOKENS = 77  # laion-clap's tokenizer max_length
# CLAP's RobertaConfig; the plain RobertaConfig() defaults differ in every one of these.
CLAP_ROBERTA_CONFIG: dict[str, Any] = {
    "vocab_size": 50265,
    "max_position_embeddings": 514,
    "type_vocab_size": 1,
    "layer_norm_eps": 1e-5,
    "pad_token_id": 1,
}
ROBERTA_VOCAB_SIZE = 50265
# Ids that tell RoBERTa's vocabulary from GPT-2's (same merges, different ids).
ROBERTA_IDS = {"<s>": 0, "<pad>": 1, "</s>": 2, "Ġthe": 5}
# Key prefixes wrapped around CLAP's own keys: DataParallel and AudioSep's Lightning module.
WRAPPER_PREFIXES = ("module.", "query_encoder.model.")
TEXT_PREFIXES = ("text_branch.", "text_projection.")


def clap_text_keys(state: dict[str, Any]) -> dict[str, Any]:
    """The text-branch entries of a CLAP or AudioSep state dict, with wrappers stripped.

    `module.` and `query_encoder.model.` prefixes are removed (in any order); only keys
    then starting with `text_branch.` or `text_projection.` are kept (the audio branch,
    `ss_model.*` etc. are not part of the text encoder).
    """
    out: dict[str, Any] = {}
    for key, value in state.items():
        name = key
        while name.startswith(WRAPPER_PREFIXES):
            for prefix in WRAPPER_PREFIXES:
                name = name.removeprefix(prefix)
        if name.startswith(TEXT_PREFIXES):
            out[name] = value
    return out


def read_clap_state(path: str | Path) -> dict[str, Any]:
    """Read a CLAP or AudioSep checkpoint safely and return its text-branch tensors.

    Raises:
        CheckpointError: unreadable/unsafe file, or no CLAP text-branch keys in it.
    """
    from livesep.safeload import load_state

    obj = load_state(path)
    state = obj.get("state_dict", obj) if isinstance(obj, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: no state dict found (expected a CLAP checkpoint)")
    text_state = clap_text_keys(state)
    if not text_state:
        raise CheckpointError(f"{path}: no CLAP text_branch.* / text_projection.* keys")
    return text_state


def load_roberta_tokenizer(
    tokenizer_dir: str | Path | None, allow_small_vocab: bool = False
) -> Any:
    """RoBERTa's BPE tokenizer from `vocab.json` + `merges.txt`, offline, validated.

    Args:
        tokenizer_dir: Folder with `vocab.json` + `merges.txt`; None: the "roberta-base"
            files of an existing Hugging Face cache (never downloaded).
        allow_small_vocab: Accept a vocabulary smaller than RoBERTa's 50265 entries
            (synthetic test vocabularies); the special ids are checked regardless.

    Raises:
        CheckpointError: files missing or unreadable, or not RoBERTa's vocabulary (e.g.
            GPT-2's files, whose ids differ).
    """
    from transformers import RobertaTokenizer

    source = "roberta-base" if tokenizer_dir is None else str(tokenizer_dir)
    if tokenizer_dir is not None:
        missing = [f for f in ("vocab.json", "merges.txt") if not (Path(source) / f).is_file()]
        if missing:
            raise CheckpointError(f"CLAP tokenizer: {', '.join(missing)} missing in {source}")
    try:
        tokenizer = RobertaTokenizer.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError) as exc:
        hint = "" if tokenizer_dir is not None else " (pass tokenizer_dir=FOLDER)"
        raise CheckpointError(f"CLAP tokenizer: cannot load {source}{hint}: {exc}") from exc
    size = len(tokenizer)
    if size != ROBERTA_VOCAB_SIZE and not (allow_small_vocab and size < ROBERTA_VOCAB_SIZE):
        raise CheckpointError(
            f"CLAP tokenizer {source}: {size} tokens, expected RoBERTa's {ROBERTA_VOCAB_SIZE}"
        )
    for token, expected in ROBERTA_IDS.items():
        got = tokenizer.convert_tokens_to_ids(token)
        if got != expected:
            raise CheckpointError(
                f"CLAP tokenizer {source}: {token!r} has id {got}, RoBERTa's is {expected} "
                "(GPT-2's vocab.json/merges.txt are not RoBERTa's)"
            )
    return tokenizer


def build_text_branch(roberta_config: dict[str, Any] | None = None) -> Any:
    """CLAP's text encoder as an `nn.Module` with `text_branch` and `text_projection`.

    Args:
        roberta_config: Overrides of `CLAP_ROBERTA_CONFIG` (tests use a tiny model).
    """
    from torch import nn
    from transformers import RobertaConfig, RobertaModel

    config = RobertaConfig(**{**CLAP_ROBERTA_CONFIG, **(roberta_config or {})})
    width = config.hidden_size  # 768 in CLAP
    module = nn.Module()
    module.text_branch = RobertaModel(config, add_pooling_layer=True)
    module.text_projection = nn.Sequential(
        nn.Linear(width, CLAP_DIM), nn.ReLU(), nn.Linear(CLAP_DIM, CLAP_DIM)
    )
    return module.eval()


def load_text_branch_state(module: Any, state: dict[str, Any], source: str | Path) -> None:
    """Load `state` into `build_text_branch()`'s module strictly, naming any mismatch.

    Non-persistent buffers that older checkpoints carry (`embeddings.position_ids`) are
    dropped first; every other missing or unexpected key is an error.

    Raises:
        CheckpointError: missing/unexpected keys or shape mismatches (named).
    """
    expected = module.state_dict()
    buffers = {name for name, _ in module.named_buffers()} - set(expected)
    state = {k: v for k, v in state.items() if k not in buffers}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys {_some(missing)}")
        if unexpected:
            parts.append(f"unexpected keys {_some(unexpected)}")
        raise CheckpointError(f"{source}: CLAP text branch: {'; '.join(parts)}")
    for key, tensor in expected.items():
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise CheckpointError(
                f"{source}: {key} has shape {tuple(state[key].shape)}, "
                f"expected {tuple(tensor.shape)}"
            )
    module.load_state_dict(state, strict=True)


def _some(keys: list[str], limit: int = 5) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" (+{len(keys) - limit} more)" if len(keys) > limit else "")


class ClapTextEncoder:
    """CLAP's text branch (512-d) on torch, from the user's checkpoint and tokenizer files.

    Args:
        checkpoint: A CLAP `.pt` or an AudioSep Lightning checkpoint.
        tokenizer_dir: Folder with RoBERTa's `vocab.json` + `merges.txt`; None: an existing
            Hugging Face cache of "roberta-base" (offline).
        allow_small_vocab: See `load_roberta_tokenizer` (tests only).
        roberta_config: Overrides of CLAP's RobertaConfig (tests only).
        device: torch device.

    Raises:
        CheckpointError: checkpoint or tokenizer files cannot be used (named).
    """

    name = "clap"
    dim = CLAP_DIM

    def __init__(
        self,
        checkpoint: str | Path,
        tokenizer_dir: str | Path | None = None,
        allow_small_vocab: bool = False,
        roberta_config: dict[str, Any] | None = None,
        device: str = "cpu",
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.tokenizer = load_roberta_tokenizer(tokenizer_dir, allow_small_vocab)
        state = read_clap_state(checkpoint)
        self.model = build_text_branch(roberta_config)
        load_text_branch_state(self.model, state, checkpoint)
        self.model.to(device)
        self.device = device

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed queries; see `TextEncoder.embed`. Returns float32 [N, 512]."""
        import torch

        queries = validate_queries(texts)
        if not queries:
            return np.zeros((0, self.dim), np.float32)
        # Padding to the longest query gives the same vectors as laion-clap's padding to a
        # fixed length (the attention mask hides the pads) and is much faster.
        tokens = self.tokenizer(
            queries,
            max_length=CLAP_MAX_TOKENS,
            truncation=True,
            padding="longest",
            return_tensors="pt",
        )
        with torch.inference_mode():
            pooled = self.model.text_branch(
                input_ids=tokens["input_ids"].to(self.device),
                attention_mask=tokens["attention_mask"].to(self.device),
            ).pooler_output  # [N, 768]
            projected = self.model.text_projection(pooled)  # [N, 512]
        return l2_normalize(projected.float().cpu().numpy())
