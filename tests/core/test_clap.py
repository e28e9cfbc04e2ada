"""CLAP's text branch rebuilt with transformers: tokenizer checks, strict checkpoint loading.

No RoBERTa vocabulary ships with any package here, so (as shared/reference/CLAP.md says) the
tests build a small synthetic byte-level BPE vocabulary with RoBERTa's special ids and a
random-weight checkpoint in CLAP's on-disk format: `module.` prefix, the old
`position_ids` buffer, a numpy scalar, pickle protocol 4.
"""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from livesep.errors import CheckpointError
from livesep.text import get_encoder
from livesep.text.clap import ClapTextEncoder, build_text_branch, load_roberta_tokenizer

# A tiny RoBERTa; positions start at pad_id + 1 = 2, so 77 tokens need 79 positions.
TINY = {
    "vocab_size": 300,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "max_position_embeddings": 80,
}
QUERIES = ["the dog barks", "the rain", "a long query about the sound of the sea " * 8]


def _byte_chars() -> list[str]:
    """GPT-2/RoBERTa's byte-to-unicode table: the 256 base symbols of byte-level BPE."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD))
    printable += list(range(0xAE, 0x100))
    codes, extra = [], 0
    for b in range(256):
        if b in printable:
            codes.append(b)
        else:
            codes.append(256 + extra)
            extra += 1
    return [chr(c) for c in codes]


MERGES = ["Ġ t", "h e", "Ġt he", "Ġ d", "o g", "Ġd og", "Ġ r", "a i", "Ġr ai", "Ġrai n"]


def _write_tokenizer(folder: Path, roberta_ids: bool = True) -> Path:
    """vocab.json + merges.txt; RoBERTa's special ids, or GPT-2's layout when not."""
    merged = [m.replace(" ", "") for m in MERGES]
    if roberta_ids:
        tokens = ["<s>", "<pad>", "</s>", "<unk>", ".", "Ġthe"]
        tokens += [c for c in _byte_chars() if c != "."] + [t for t in merged if t != "Ġthe"]
        tokens.append("<mask>")
    else:  # GPT-2: bytes first, merges after, one end-of-text token, no <pad>
        tokens = _byte_chars() + merged + ["<|endoftext|>"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(MERGES) + "\n")
    return folder


def _clap_state(model: torch.nn.Module, prefix: str = "module.") -> dict[str, Any]:
    state: dict[str, Any] = {prefix + k: v.clone() for k, v in model.state_dict().items()}
    # Older CLAP files carry this buffer; recent transformers do not persist it.
    state[prefix + "text_branch.embeddings.position_ids"] = torch.arange(80)[None]
    # The rest of CLAP, which the text encoder must ignore.
    state[prefix + "audio_branch.patch_embed.proj.weight"] = torch.zeros(4, 1, 2, 2)
    state[prefix + "audio_projection.0.weight"] = torch.zeros(8, 4)
    state[prefix + "logit_scale_a"] = torch.tensor(1.0)
    return state


def _save(path: Path, state: dict[str, Any]) -> Path:
    checkpoint = {"epoch": 45, "state_dict": state, "best_score": np.float64(0.25)}
    torch.save(checkpoint, path, pickle_protocol=4)
    return path


@pytest.fixture(scope="module")
def source_model() -> torch.nn.Module:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    return build_text_branch(TINY)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, source_model: torch.nn.Module) -> dict:
    root = tmp_path_factory.mktemp("clap")
    return {
        "tokenizer": _write_tokenizer(root / "roberta"),
        "checkpoint": _save(root / "clap.pt", _clap_state(source_model)),
        "root": root,
    }


@pytest.fixture(scope="module")
def encoder(files: dict) -> ClapTextEncoder:
    return ClapTextEncoder(
        files["checkpoint"], files["tokenizer"], allow_small_vocab=True, roberta_config=TINY
    )


def test_embeddings_shape_norm_and_batch_independence(encoder: ClapTextEncoder) -> None:
    assert (encoder.name, encoder.dim) == ("clap", 512)
    batch = encoder.embed(QUERIES)
    assert batch.shape == (3, 512) and batch.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-6)
    for i, query in enumerate(QUERIES):  # padding to the longest is masked out
        np.testing.assert_allclose(encoder.embed([query])[0], batch[i], atol=1e-5)
    assert not np.allclose(batch[0], batch[1])


def test_loaded_weights_reproduce_the_source_model(
    encoder: ClapTextEncoder, source_model: torch.nn.Module
) -> None:
    tokens = encoder.tokenizer(QUERIES, max_length=77, truncation=True, padding="max_length")
    ids = torch.tensor(tokens["input_ids"])  # [N, 77], laion-clap's fixed padding
    mask = torch.tensor(tokens["attention_mask"])  # [N, 77]
    assert int(mask.sum(1).max()) == 77  # the long query was truncated
    with torch.no_grad():
        pooled = source_model.text_branch(input_ids=ids, attention_mask=mask).pooler_output
        expected = torch.nn.functional.normalize(source_model.text_projection(pooled), dim=-1)
    np.testing.assert_allclose(encoder.embed(QUERIES), expected.numpy(), atol=1e-5)


def test_tokenizer_uses_roberta_ids(encoder: ClapTextEncoder) -> None:
    ids = encoder.tokenizer(["x the dog"])["input_ids"][0]
    vocab = encoder.tokenizer.get_vocab()
    assert ids == [0, vocab["x"], 5, vocab["Ġdog"], 2]  # <s> x Ġthe Ġdog </s>


def test_audiosep_checkpoint_layout_loads(
    files: dict, source_model: torch.nn.Module, encoder: ClapTextEncoder
) -> None:
    state = _clap_state(source_model, prefix="query_encoder.model.module.")
    state["ss_model.base.bn0.weight"] = torch.ones(513)  # the separator's keys: ignored
    path = _save(files["root"] / "audiosep.ckpt", state)
    audiosep = get_encoder(
        "clap",
        checkpoint=path,
        tokenizer_dir=files["tokenizer"],
        allow_small_vocab=True,
        roberta_config=TINY,
    )
    np.testing.assert_array_equal(audiosep.embed(QUERIES), encoder.embed(QUERIES))


def _load(files: dict, checkpoint: Path) -> ClapTextEncoder:
    return ClapTextEncoder(checkpoint, files["tokenizer"], True, TINY)


def test_missing_key_is_named(files: dict, source_model: torch.nn.Module) -> None:
    state = _clap_state(source_model)
    del state["module.text_projection.2.bias"]
    path = _save(files["root"] / "missing.pt", state)
    with pytest.raises(CheckpointError, match=r"missing keys text_projection\.2\.bias"):
        _load(files, path)


def test_unexpected_key_is_named(files: dict, source_model: torch.nn.Module) -> None:
    state = _clap_state(source_model)
    state["module.text_branch.encoder.layer.9.output.dense.weight"] = torch.zeros(2, 2)
    path = _save(files["root"] / "unexpected.pt", state)
    with pytest.raises(CheckpointError, match=r"unexpected keys text_branch\.encoder\.layer\.9"):
        _load(files, path)


def test_shape_mismatch_is_named(files: dict, source_model: torch.nn.Module) -> None:
    state = _clap_state(source_model)
    state["module.text_projection.0.weight"] = torch.zeros(512, 16)
    path = _save(files["root"] / "shape.pt", state)
    with pytest.raises(CheckpointError, match=r"text_projection\.0\.weight has shape \(512, 16\)"):
        _load(files, path)


def test_checkpoint_without_clap_keys_is_refused(files: dict) -> None:
    path = _save(files["root"] / "other.pt", {"ss_model.base.bn0.weight": torch.ones(3)})
    with pytest.raises(CheckpointError, match="no CLAP text_branch"):
        _load(files, path)


class _Payload:
    def __reduce__(self) -> tuple:
        return (print, ("payload ran",))


def test_unsafe_pickle_is_refused(files: dict, capsys: pytest.CaptureFixture) -> None:
    path = files["root"] / "evil.pt"
    torch.save({"state_dict": {}, "x": _Payload()}, path)
    with pytest.raises(CheckpointError, match="unsafe"):
        _load(files, path)
    assert "payload ran" not in capsys.readouterr().out


def test_gpt2_vocabulary_is_rejected(tmp_path: Path) -> None:
    folder = _write_tokenizer(tmp_path / "gpt2", roberta_ids=False)
    with pytest.raises(CheckpointError, match="GPT-2"):
        load_roberta_tokenizer(folder, allow_small_vocab=True)


def test_small_vocabulary_needs_the_test_switch(files: dict) -> None:
    with pytest.raises(CheckpointError, match="expected RoBERTa's 50265"):
        load_roberta_tokenizer(files["tokenizer"])
    assert len(load_roberta_tokenizer(files["tokenizer"], allow_small_vocab=True)) < 50265


def test_missing_tokenizer_file_is_named(tmp_path: Path) -> None:
    folder = _write_tokenizer(tmp_path / "tok")
    (folder / "merges.txt").unlink()
    with pytest.raises(CheckpointError, match="merges.txt missing"):
        load_roberta_tokenizer(folder, allow_small_vocab=True)


def test_real_config_is_the_default() -> None:
    from transformers import RobertaConfig

    from livesep.text.clap import CLAP_ROBERTA_CONFIG

    config = RobertaConfig(**CLAP_ROBERTA_CONFIG)
    assert (config.vocab_size, config.max_position_embeddings) == (50265, 514)
    assert (config.type_vocab_size, config.layer_norm_eps, config.pad_token_id) == (1, 1e-5, 1)
    assert (config.hidden_size, config.num_hidden_layers) == (768, 12)


def test_real_branch_has_clap_key_count_and_size() -> None:
    with torch.device("meta"):  # shapes only: no 500 MB of random weights
        model = build_text_branch()
    keys = list(model.state_dict())
    assert sum(k.startswith("text_branch.") for k in keys) == 199  # as CLAP's checkpoints
    assert sorted(k for k in keys if k.startswith("text_projection.")) == [
        "text_projection.0.bias",
        "text_projection.0.weight",
        "text_projection.2.bias",
        "text_projection.2.weight",
    ]
    params = sum(p.numel() for p in model.parameters())
    assert round(params / 1e6, 1) == 125.3
