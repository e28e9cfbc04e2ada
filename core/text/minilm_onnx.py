"""all-MiniLM-L6-v2 as ONNX: onnxruntime + `tokenizers` only, no torch.

The files (`text_encoder.onnx` + `tokenizer.json`) come from a folder such as a bundle, or
from the user cache, where `ensure_minilm_onnx` builds them once by running the exporter
(`python -m livesep.export.text_encoder`) in a separate process, so torch never enters the
calling process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from livesep.errors import BundleError
from livesep.text.base import l2_normalize, validate_queries

ONNX_FILE = "text_encoder.onnx"
TOKENIZER_FILE = "tokenizer.json"
FILES = (ONNX_FILE, TOKENIZER_FILE)
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2
EXPORT_TIMEOUT_S = 900  # the export takes ~20 s here; leave room for a loaded machine


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/livesep/minilm-onnx` (default `~/.cache/livesep/minilm-onnx`)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "livesep" / "minilm-onnx"


def _missing(folder: Path) -> list[str]:
    return [name for name in FILES if not (folder / name).is_file()]


def ensure_minilm_onnx(cache_dir: str | Path | None = None) -> Path:
    """Return a folder holding the MiniLM ONNX files, exporting them first if missing.

    Args:
        cache_dir: Folder to use; default `default_cache_dir()`.

    Returns:
        The folder, with `text_encoder.onnx` and `tokenizer.json` in it.

    Raises:
        BundleError: the export process failed (its last error line is in the message).
    """
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if not _missing(folder):
        return folder
    cmd = [sys.executable, "-m", "livesep.export.text_encoder", "--out", str(folder)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=EXPORT_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BundleError(f"could not export MiniLM ONNX files to {folder}: {exc}") from exc
    if proc.returncode != 0 or _missing(folder):
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        cause = lines[-1].strip() if lines else f"exit status {proc.returncode}"
        raise BundleError(f"could not export MiniLM ONNX files to {folder}: {cause}")
    return folder


class MiniLMOnnxEncoder:
    """all-MiniLM-L6-v2 (384-d) on onnxruntime; torch-free.

    Args:
        path: Folder with `text_encoder.onnx` + `tokenizer.json` (e.g. a bundle). Default:
            the user cache, exported there on first use (`ensure_minilm_onnx`).
        threads: onnxruntime intra-op threads.
        providers: onnxruntime execution providers; default CPU.

    Raises:
        BundleError: a file is missing or cannot be loaded, or the graph has the wrong I/O.
    """

    name = "minilm-onnx"
    dim = 384

    def __init__(
        self,
        path: str | Path | None = None,
        threads: int = 1,
        providers: list[str] | None = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = ensure_minilm_onnx() if path is None else Path(path)
        missing = _missing(folder)
        if missing:
            raise BundleError(f"minilm-onnx: {', '.join(missing)} missing in {folder}")
        try:
            self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        except Exception as exc:  # tokenizers raises plain Exception subclasses
            raise BundleError(f"minilm-onnx: cannot read {folder / TOKENIZER_FILE}: {exc}") from exc
        # Set here, not trusted from the file: the vectors must equal sentence-transformers'.
        pad_id = self.tokenizer.token_to_id("[PAD]")
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(folder / ONNX_FILE), options, providers=providers or ["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own non-exported exception types
            raise BundleError(f"minilm-onnx: cannot load {folder / ONNX_FILE}: {exc}") from exc
        self._check_io(folder / ONNX_FILE)

    def _check_io(self, path: Path) -> None:
        inputs = sorted(i.name for i in self.session.get_inputs())
        outputs = [o.name for o in self.session.get_outputs()]
        if inputs != ["attention_mask", "input_ids"] or outputs != ["embedding"]:
            raise BundleError(
                f"minilm-onnx: {path} has inputs {inputs} and outputs {outputs}, expected "
                "input_ids, attention_mask -> embedding"
            )
        dim = self.session.get_outputs()[0].shape[-1]
        if isinstance(dim, int):
            self.dim = dim

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed queries; see `TextEncoder.embed`. Returns float32 [N, 384]."""
        queries = validate_queries(texts)
        if not queries:
            return np.zeros((0, self.dim), np.float32)
        encodings = self.tokenizer.encode_batch(queries)
        input_ids = np.array([e.ids for e in encodings], dtype=np.int64)  # [N, L]
        attention_mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)  # [N, L]
        (vectors,) = self.session.run(
            ["embedding"], {"input_ids": input_ids, "attention_mask": attention_mask}
        )  # [N, 384]
        return l2_normalize(vectors)
