"""Model bundles: read, validate and write (numpy + json + onnx, no torch).

A bundle is a directory holding `manifest.json` plus the files it lists (see
docs/CONTRACTS.md, "Bundle"). `load_bundle` verifies the format and version, the required
manifest fields, the sha256 of every listed file and, by default, the ONNX graphs' input and
output names and non-batch shapes against the manifest; whatever is wrong is named in a
one-line `BundleError`.

Files in the directory that the manifest does not list are ignored: nothing ever reads
them, so they cannot change what the bundle does (an editor's backup or a `.DS_Store` must
not make a bundle unloadable). `Bundle.unlisted_files` names them and `describe` shows them.

The manifest's figures are bounded (`LIMITS`: rates, sizes, latency at most
`MAX_LATENCY_S`), so a bundle cannot ask for absurd buffers or run at a rate no host uses.

The sha256 inside the manifest catches corruption, not tampering: whoever rewrites a bundle
can rewrite its hashes too. To pin a bundle, compare its digest (`Bundle.digest`,
`bundle_digest`: one sha256 over the manifest and every listed file) with a value you got
from a trusted place: `livesep bundle verify PATH --expect SHA256`, or `--expect-digest` on
every command that loads a bundle. The digest equals
`sha256sum manifest.json FILES... | sha256sum` over the names in byte order.

`write_bundle` writes a complete bundle into a temporary sibling directory, validates it
and only then renames it into place, so a reader never sees a half-written bundle.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from livesep.atomic import temp_dir_beside, write_bytes, write_text
from livesep.errors import BundleError

MANIFEST = "manifest.json"
FORMAT = "livesep-bundle"
FORMAT_VERSION = 1
GRAPH_KINDS = ("step", "chunk", "film", "offline")
_HASH_BLOCK = 1 << 20  # bytes read at a time when hashing
MAX_LATENCY_S = 5.0  # seconds of algorithmic latency a bundle may declare
MAX_STATE_FLOATS = 1 << 26  # state floats per batch row (256 MB of float32)
# Inclusive bounds on the manifest's integer figures.
LIMITS = {
    "sample_rate": (8000, 192000),  # Hz
    "hop": (1, 1 << 16),  # samples
    "n_fft": (1, 1 << 16),  # samples
    "block_hops": (1, 10000),
    "channels": (1, 64),
    "cond_dim": (1, 1 << 20),
}
MAX_ENCODER_DIM = 1 << 16

# Manifest keys every bundle carries, with the type each must have.
_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "format": str,
    "format_version": int,
    "name": str,
    "sample_rate": int,
    "hop": int,
    "n_fft": int,
    "window": str,
    "block_hops": int,
    "latency_samples": int,
    "channels": int,
    "encoder": dict,
    "graphs": dict,
    "cond_dim": int,
    "states": list,
    "files": dict,
}


@dataclass(frozen=True)
class StateSpec:
    """One recurrent state tensor of the step graph; `shape` excludes the batch axis."""

    name: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Bundle:
    """A validated bundle directory.

    Attributes mirror the manifest; `manifest` keeps the whole parsed JSON (provenance,
    metrics and model config included) for anything not lifted into a field.
    """

    path: Path
    manifest: dict[str, Any]
    name: str
    sample_rate: int  # Hz
    hop: int  # samples per hop
    n_fft: int  # samples per analysis window
    window: str
    block_hops: int  # hops per call of the step graph
    latency_samples: int  # algorithmic latency: out[t] estimates the source at t - latency
    channels: int
    encoder_name: str
    encoder_dim: int
    cond_dim: int
    states: tuple[StateSpec, ...]
    graphs: dict[str, dict[str, Any]]
    files: dict[str, str]  # file name -> sha256
    # text -> float32[D]; arrays do not compare with ==, and `manifest` already covers them
    embeddings: dict[str, np.ndarray] = field(default_factory=dict, compare=False)
    unlisted_files: tuple[str, ...] = ()
    # float32 [N, D] embeddings of the training captions (`livesep.query.snap`), or None
    query_bank: np.ndarray | None = field(default=None, compare=False)
    query_temperature: float = 0.0
    query_bank_texts: tuple[str, ...] = ()  # the captions of `query_bank`'s rows
    # cosine below which a query is one the model does not know (`livesep.query`); None:
    # the host's default
    familiarity_threshold: float | None = None
    digest: str = ""  # sha256 over the manifest and every listed file (`bundle_digest`)

    @property
    def latency(self) -> int:
        """Algorithmic latency in samples at `sample_rate`."""
        return self.latency_samples

    @property
    def provenance(self) -> dict[str, Any]:
        return dict(self.manifest.get("provenance", {}))

    @property
    def metrics(self) -> dict[str, Any]:
        return dict(self.manifest.get("metrics", {}))

    @property
    def model(self) -> dict[str, Any]:
        return dict(self.manifest.get("model", {}))

    @property
    def text_encoder_files(self) -> list[str]:
        return list(self.manifest.get("text_encoder", {}).get("files", []))

    def has_graph(self, kind: str) -> bool:
        return kind in self.graphs

    def graph_path(self, kind: str) -> Path:
        """Path of the graph `kind` ("step", "chunk", "film" or "offline")."""
        if kind not in self.graphs:
            raise BundleError(f"{self.path}: bundle has no {kind!r} graph")
        return self.path / self.graphs[kind]["file"]

    def graph_block(self, kind: str) -> int:
        """Samples per call of the streaming graph `kind` ("step" or "chunk")."""
        if kind not in ("step", "chunk") or kind not in self.graphs:
            raise BundleError(f"{self.path}: bundle has no streaming graph {kind!r}")
        return int(self.graphs[kind].get("block_hops", self.block_hops)) * self.hop

    def cached_embedding(self, text: str) -> np.ndarray | None:
        """The cached embedding float32[D] of `text`, or None when not cached."""
        return self.embeddings.get(text)


# ---------------------------------------------------------------------------------------
# Loading


def default_bundle_path() -> Path:
    """The bundle used when none is named: `$LIVESEP_BUNDLE`, else the default bundle.

    The default bundle is package data: `livesep/models/default/` in an installed wheel,
    `models/default/` next to `core/` in the source tree (an editable install, as the
    README sets up).

    Raises:
        BundleError: no bundle is there.
    """
    env = os.environ.get("LIVESEP_BUNDLE")
    here = Path(__file__).resolve().parent  # livesep/ installed, core/ in the checkout
    installed, checkout = here / "models" / "default", here.parent / "models" / "default"
    candidates = [Path(env)] if env else [installed, checkout]
    for path in candidates:
        if (path / MANIFEST).is_file():
            return path
    raise BundleError(
        f"{' or '.join(map(str, candidates))}: no default bundle here; name one with "
        "--bundle PATH (or set LIVESEP_BUNDLE)"
    )


def load_bundle(
    path: str | os.PathLike[str], check_graphs: bool = True, expect_digest: str | None = None
) -> Bundle:
    """Read and validate the bundle directory `path`.

    Args:
        path: the bundle directory (or its manifest.json).
        check_graphs: also read each ONNX graph's signature (without running it) and compare
            input/output names and non-batch shapes with the manifest.
        expect_digest: the hex sha256 the whole bundle must have (`bundle_digest`); pins
            a bundle against tampering, which the in-bundle hashes cannot.

    Returns:
        The validated `Bundle`.

    Raises:
        BundleError: naming the file or key that is missing, malformed or mismatched.
    """
    root = Path(path)
    if root.name == MANIFEST and root.is_file():
        root = root.parent
    manifest, raw = _read_manifest(root)
    _check_fields(root, manifest)
    _check_files(root, manifest)
    digest = _digest(hashlib.sha256(raw).hexdigest(), manifest["files"])
    check_digest(root, digest, expect_digest)
    bundle = replace(_make_bundle(root, manifest), digest=digest)
    if check_graphs:
        _check_graphs(bundle)
    return bundle


def _digest(manifest_sha256: str, files: Mapping[str, str]) -> str:
    """sha256 of the `sha256sum`-style listing ("<hex>  <name>\n" per file, names in byte
    order) of manifest.json and every listed file."""
    entries = {MANIFEST: manifest_sha256, **files}
    names = sorted(entries, key=lambda n: n.encode("utf-8"))
    listing = "".join(f"{entries[n]}  {n}\n" for n in names)
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def bundle_digest(path: str | os.PathLike[str]) -> str:
    """The digest of the bundle at `path` (every listed file verified first)."""
    return load_bundle(path, check_graphs=False).digest


def check_digest(root: Path, digest: str, expect: str | None) -> None:
    """Raise BundleError unless `expect` is None or equals `digest` (hex, any case)."""
    if expect is None:
        return
    want = expect.strip().lower()
    if len(want) != 64 or any(c not in "0123456789abcdef" for c in want):
        raise BundleError(f"expected digest {expect[:70]!r} is not a 64-digit hex sha256")
    if want != digest:
        raise BundleError(
            f"{root}: bundle digest {digest} does not match the expected {want} "
            "(the bundle changed or is not the one you pinned)"
        )


def _read_manifest(root: Path) -> tuple[dict[str, Any], bytes]:
    if not root.exists():
        raise BundleError(f"{root}: bundle directory not found")
    if not root.is_dir():
        raise BundleError(f"{root}: not a bundle directory")
    mpath = root / MANIFEST
    if not mpath.is_file():
        raise BundleError(f"{mpath}: manifest missing")
    try:
        raw = mpath.read_bytes()
        manifest = json.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BundleError(f"{mpath}: unreadable manifest ({type(exc).__name__})") from None
    if not isinstance(manifest, dict):
        raise BundleError(f"{mpath}: manifest is not a JSON object")
    return manifest, raw


def _type_ok(value: Any, kind: type | tuple[type, ...]) -> bool:
    # bool is an int subclass; a manifest saying `"hop": true` is malformed.
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _check_fields(root: Path, m: dict[str, Any]) -> None:
    where = root / MANIFEST
    if m.get("format") != FORMAT:
        raise BundleError(f"{where}: format is {m.get('format')!r}, expected {FORMAT!r}")
    if m.get("format_version") != FORMAT_VERSION:
        raise BundleError(
            f"{where}: format_version {m.get('format_version')!r} not supported "
            f"(this livesep reads {FORMAT_VERSION})"
        )
    for key, kind in _REQUIRED.items():
        if key not in m:
            raise BundleError(f"{where}: required key {key!r} missing")
        if not _type_ok(m[key], kind):
            raise BundleError(f"{where}: key {key!r} has the wrong type")
    for key, (low, high) in LIMITS.items():
        if not low <= m[key] <= high:
            raise BundleError(f"{where}: key {key!r} is {m[key]}, outside {low}..{high}")
    max_latency = int(MAX_LATENCY_S * m["sample_rate"])
    if not 0 <= m["latency_samples"] <= max_latency:
        raise BundleError(
            f"{where}: key 'latency_samples' is {m['latency_samples']}, outside 0..{max_latency} "
            f"({MAX_LATENCY_S:g} s at {m['sample_rate']} Hz)"
        )
    enc = m["encoder"]
    if not isinstance(enc.get("name"), str) or not _type_ok(enc.get("dim"), int):
        raise BundleError(f"{where}: key 'encoder' needs a string 'name' and an int 'dim'")
    if not 1 <= enc["dim"] <= MAX_ENCODER_DIM:
        raise BundleError(f"{where}: encoder.dim {enc['dim']} outside 1..{MAX_ENCODER_DIM}")
    _check_graph_entries(where, m)
    _check_states(where, m["states"])


def _check_graph_entries(where: Path, m: dict[str, Any]) -> None:
    graphs = m["graphs"]
    for kind, entry in graphs.items():
        if kind not in GRAPH_KINDS:
            raise BundleError(f"{where}: unknown graph kind {kind!r} in 'graphs'")
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise BundleError(f"{where}: graphs.{kind} needs a 'file' name")
        hops = entry.get("block_hops", m["block_hops"])
        low, high = LIMITS["block_hops"]
        if kind in ("step", "chunk") and (not _type_ok(hops, int) or not low <= hops <= high):
            raise BundleError(f"{where}: graphs.{kind}.block_hops must be an int in {low}..{high}")
    if "step" not in graphs and "offline" not in graphs:
        raise BundleError(f"{where}: 'graphs' needs a 'step' or an 'offline' graph")
    for kind in ("step", "chunk"):
        if kind in graphs and "film" not in graphs:
            raise BundleError(f"{where}: graphs.{kind} needs a 'film' graph for its cond input")
    if "chunk" in graphs and "step" not in graphs:
        raise BundleError(f"{where}: graphs.chunk given without graphs.step")


def _check_states(where: Path, states: list[Any]) -> None:
    seen = set()
    total = 0
    for i, spec in enumerate(states):
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise BundleError(f"{where}: states[{i}] needs a 'name'")
        shape = spec.get("shape")
        if not isinstance(shape, list) or not all(_type_ok(d, int) and d > 0 for d in shape):
            raise BundleError(f"{where}: states[{i}] ({spec['name']}) needs a positive int shape")
        total += int(np.prod(shape, dtype=np.float64))
        if total > MAX_STATE_FLOATS:
            raise BundleError(f"{where}: states hold over {MAX_STATE_FLOATS} floats per row")
        if spec["name"] in seen or spec["name"] in ("audio", "cond", "out"):
            raise BundleError(f"{where}: state name {spec['name']!r} repeated or reserved")
        seen.add(spec["name"])


def _referenced_files(m: dict[str, Any]) -> list[str]:
    names = [entry["file"] for entry in m["graphs"].values()]
    names += list(m.get("text_encoder", {}).get("files", []))
    if m.get("embeddings"):
        names.append(m["embeddings"])
    bank = m.get("query_bank")
    if isinstance(bank, dict) and isinstance(bank.get("file"), str):
        names.append(bank["file"])
    return names


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _check_files(root: Path, m: dict[str, Any]) -> None:
    where = root / MANIFEST
    files = m["files"]
    for name in _referenced_files(m):
        if name not in files:
            raise BundleError(f"{where}: {name} is used but not listed in 'files'")
    for name, expected in files.items():
        if not isinstance(expected, str) or Path(name).is_absolute() or ".." in Path(name).parts:
            raise BundleError(f"{where}: bad 'files' entry {name!r}")
        fpath = root / name
        if not fpath.is_file():
            raise BundleError(f"{fpath}: listed in the manifest but missing")
        if sha256_file(fpath) != expected:
            raise BundleError(f"{fpath}: sha256 mismatch (file changed or corrupt)")


def _load_embeddings(root: Path, m: dict[str, Any]) -> dict[str, np.ndarray]:
    name = m.get("embeddings")
    if not name:
        return {}
    epath = root / name
    try:
        data = json.loads(epath.read_text(encoding="utf-8"))
        texts = data["texts"]
        enc = data["encoder"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise BundleError(f"{epath}: unreadable cached embeddings ({exc})") from None
    if enc != m["encoder"]["name"]:
        raise BundleError(
            f"{epath}: embeddings from encoder {enc!r}, bundle uses {m['encoder']['name']!r}"
        )
    out: dict[str, np.ndarray] = {}
    dim = m["encoder"]["dim"]
    for text, vec in texts.items():
        arr = np.asarray(vec, dtype=np.float32)
        if arr.shape != (dim,) or not np.all(np.isfinite(arr)):
            raise BundleError(f"{epath}: embedding of {text!r} is not {dim} finite floats")
        out[text] = arr
    return out


def _load_query_bank(
    root: Path, m: dict[str, Any]
) -> tuple[np.ndarray | None, float, tuple[str, ...], float | None]:
    """The manifest's `query_bank` {"file": npz of texts [N] + vectors [N, D], "temperature",
    optional "familiarity_threshold"}."""
    spec = m.get("query_bank")
    if not spec:
        return None, 0.0, (), None
    where = root / MANIFEST
    if not isinstance(spec, dict) or not isinstance(spec.get("file"), str):
        raise BundleError(f"{where}: 'query_bank' must be {{'file': ..., 'temperature': ...}}")
    given = spec.get("temperature")
    if isinstance(given, bool) or not isinstance(given, int | float) or not given > 0:
        raise BundleError(f"{where}: query_bank temperature must be > 0, got {given!r}")
    temperature = float(given)
    threshold = spec.get("familiarity_threshold")
    if threshold is not None and (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not -1.0 <= threshold <= 1.0
    ):
        raise BundleError(f"{where}: query_bank familiarity_threshold must be a cosine in [-1, 1]")
    bpath = root / spec["file"]
    try:
        with np.load(bpath, allow_pickle=False) as data:
            vectors = np.asarray(data["vectors"], dtype=np.float32)  # [N, D]
            texts = data["texts"]  # [N]
    except (OSError, ValueError, KeyError) as exc:
        raise BundleError(f"{bpath}: unreadable query bank ({exc})") from None
    dim = m["encoder"]["dim"]
    n = vectors.shape[0] if vectors.ndim == 2 else 0
    if n == 0 or vectors.shape != (n, dim) or texts.shape != (n,):
        raise BundleError(f"{bpath}: query bank must be N texts and [N, {dim}] vectors")
    norms = np.linalg.norm(vectors, axis=1)  # [N]
    if not np.all(np.isfinite(vectors)) or np.abs(norms - 1.0).max() > 1e-3:
        raise BundleError(f"{bpath}: query bank vectors must be finite and unit length")
    texts_out = tuple(str(t) for t in texts.tolist())
    return vectors, temperature, texts_out, None if threshold is None else float(threshold)


def _make_bundle(root: Path, m: dict[str, Any]) -> Bundle:
    listed = set(m["files"]) | {MANIFEST}
    bank, temperature, bank_texts, threshold = _load_query_bank(root, m)
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    return Bundle(
        path=root,
        manifest=m,
        name=m["name"],
        sample_rate=m["sample_rate"],
        hop=m["hop"],
        n_fft=m["n_fft"],
        window=m["window"],
        block_hops=m["block_hops"],
        latency_samples=m["latency_samples"],
        channels=m["channels"],
        encoder_name=m["encoder"]["name"],
        encoder_dim=m["encoder"]["dim"],
        cond_dim=m["cond_dim"],
        states=tuple(StateSpec(s["name"], tuple(s["shape"])) for s in m["states"]),
        graphs={k: dict(v) for k, v in m["graphs"].items()},
        files=dict(m["files"]),
        embeddings=_load_embeddings(root, m),
        unlisted_files=tuple(sorted(present - listed)),
        query_bank=bank,
        query_temperature=temperature,
        query_bank_texts=bank_texts,
        familiarity_threshold=threshold,
    )


# ---------------------------------------------------------------------------------------
# Graph signatures

# A signature: name -> shape, where None stands for a dynamic axis.
Signature = dict[str, tuple[int | None, ...]]


def graph_signature(path: Path) -> tuple[Signature, Signature]:
    """Inputs and outputs of an ONNX graph as name -> shape (None = dynamic axis).

    Reads the model proto without external data and without running it.
    """
    graph = _read_graph(path).graph
    initialisers = {init.name for init in graph.initializer}

    def shape_of(value: Any) -> tuple[int | None, ...]:
        dims = value.type.tensor_type.shape.dim
        return tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)

    inputs = {v.name: shape_of(v) for v in graph.input if v.name not in initialisers}
    outputs = {v.name: shape_of(v) for v in graph.output}
    return inputs, outputs


def _read_graph(path: Path) -> Any:
    """The ONNX model proto at `path`, without its external data."""
    import onnx  # lazily: only bundle checks need it

    try:
        return onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # onnx raises DecodeError and friends for non-ONNX bytes
        raise BundleError(f"{path}: not a readable ONNX graph ({type(exc).__name__})") from None


def external_data_files(path: Path) -> set[str]:
    """The files an ONNX graph keeps tensors in (its initializers' `external_data`)."""
    from onnx import TensorProto

    return {
        entry.value
        for init in _read_graph(path).graph.initializer
        if init.data_location == TensorProto.EXTERNAL
        for entry in init.external_data
        if entry.key == "location"
    }


def _check_external_data(b: Bundle, path: Path) -> None:
    """A graph's external data files must be listed (so checksummed) bundle files."""
    folder = path.parent.relative_to(b.path)
    for location in sorted(external_data_files(path)):
        name = posixpath.normpath((folder / location).as_posix())
        if name not in b.files:
            raise BundleError(f"{path}: keeps tensors in {name}, which 'files' does not list")


def _expect(
    path: Path, sig: Signature, role: str, name: str, shape: tuple[int | None, ...]
) -> None:
    """Check sig[name] == [batch(dynamic), *shape]; a None in `shape` accepts any size."""
    if name not in sig:
        raise BundleError(f"{path}: {role} {name!r} missing (has {sorted(sig)})")
    got = sig[name]
    if len(got) != 1 + len(shape):
        raise BundleError(f"{path}: {role} {name!r} has rank {len(got)}, expected {1 + len(shape)}")
    if got[0] is not None:
        raise BundleError(f"{path}: {role} {name!r} must have a dynamic batch axis, got {got[0]}")
    for axis, (g, e) in enumerate(zip(got[1:], shape, strict=True), start=1):
        if e is not None and g != e:
            raise BundleError(f"{path}: {role} {name!r} axis {axis} is {g}, manifest says {e}")


def _check_names(path: Path, sig: Signature, role: str, expected: set[str]) -> None:
    extra = sorted(set(sig) - expected)
    if extra:
        raise BundleError(f"{path}: unexpected {role}s {extra}")


def _check_graphs(b: Bundle) -> None:
    for kind in b.graphs:
        _check_external_data(b, b.graph_path(kind))
    for kind in ("step", "chunk"):
        if kind not in b.graphs:
            continue
        path = b.graph_path(kind)
        ins, outs = graph_signature(path)
        block = b.graph_block(kind)
        _expect(path, ins, "input", "audio", (block,))
        _expect(path, ins, "input", "cond", (b.cond_dim,))
        _expect(path, outs, "output", "out", (block,))
        for s in b.states:
            _expect(path, ins, "input", s.name, s.shape)
            _expect(path, outs, "output", f"{s.name}_next", s.shape)
        _check_names(path, ins, "input", {"audio", "cond", *(s.name for s in b.states)})
        _check_names(path, outs, "output", {"out", *(f"{s.name}_next" for s in b.states)})
    if "film" in b.graphs:
        path = b.graph_path("film")
        ins, outs = graph_signature(path)
        _expect(path, ins, "input", "embedding", (b.encoder_dim,))
        _expect(path, outs, "output", "cond", (b.cond_dim,))
        _check_names(path, ins, "input", {"embedding"})
    if "offline" in b.graphs:
        path = b.graph_path("offline")
        ins, outs = graph_signature(path)
        _expect(path, ins, "input", "mixture", (None,))
        _expect(path, ins, "input", "embedding", (b.encoder_dim,))
        _expect(path, outs, "output", "estimate", (None,))
        _check_names(path, ins, "input", {"mixture", "embedding"})


# ---------------------------------------------------------------------------------------
# Writing


def write_bundle(
    out_dir: str | os.PathLike[str],
    manifest: Mapping[str, Any],
    files: Mapping[str, str | os.PathLike[str] | bytes],
    overwrite: bool = False,
) -> Bundle:
    """Write a bundle atomically and return it, loaded and validated.

    The files are copied into a temporary sibling directory, `manifest["files"]` is filled
    with their sha256, the result is validated with `load_bundle` and only then renamed to
    `out_dir`. On any error nothing is left behind and an existing `out_dir` is untouched.

    Args:
        out_dir: the bundle directory to create.
        manifest: every manifest field except `files` (a given `files` is replaced).
        files: file name inside the bundle -> source path or the file's bytes.
        overwrite: replace an existing `out_dir`.

    Raises:
        BundleError: `out_dir` exists (without overwrite), a source is missing, or the
            result does not validate.
    """
    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise BundleError(f"{out}: already exists (pass overwrite=True to replace it)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_dir_beside(out)
    try:
        hashes = {}
        for name, src in files.items():
            dst = tmp / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(src, bytes):
                dst.write_bytes(src)
            else:
                if not Path(src).is_file():
                    raise BundleError(f"{src}: bundle source file for {name!r} not found")
                shutil.copyfile(src, dst)
            hashes[name] = sha256_file(dst)
        full = {**dict(manifest), "files": hashes}
        (tmp / MANIFEST).write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
        load_bundle(tmp)
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return load_bundle(out, check_graphs=False)


def _replace_dir(new: Path, out: Path) -> None:
    """Rename `new` to `out`; an existing `out` is moved aside first, then deleted."""
    if not out.exists():
        os.replace(new, out)
        return
    old = temp_dir_beside(out)
    old.rmdir()  # only its (recognisable, stale-cleanable) name is wanted
    os.replace(out, old)
    os.replace(new, out)
    shutil.rmtree(old, ignore_errors=True)


def write_query_bank(path: str | os.PathLike[str], texts: Mapping[str, Any]) -> None:
    """Write a compressed `query_bank.npz`: texts [N] and unit-length vectors float16 [N, D].

    float16 keeps each row's length within 1e-4 of 1 and moves cosines by ~1e-4 (at the
    shipped temperature 0.05 a softmax logit by ~2e-3), at half the bytes; the reader
    widens to float32. The 2427-caption default bank: 4.2 MB as float32 npz, 1.7 MB so.
    """
    names = list(texts)
    vectors = np.stack([np.asarray(texts[t], dtype=np.float16) for t in names])  # [N, D]
    buffer = io.BytesIO()
    np.savez_compressed(buffer, texts=np.asarray(names, dtype=str), vectors=vectors)
    write_bytes(path, buffer.getvalue())


def write_embeddings(path: str | os.PathLike[str], encoder: str, texts: Mapping[str, Any]) -> None:
    """Write an `embeddings.json` file: {"encoder": name, "texts": {text: [D floats]}}."""
    data = {
        "encoder": encoder,
        "texts": {t: np.asarray(v, dtype=np.float32).tolist() for t, v in texts.items()},
    }
    write_text(path, json.dumps(data) + "\n")


# ---------------------------------------------------------------------------------------
# Describing


def describe(bundle: Bundle) -> str:
    """Readable multi-line summary of a bundle (for `livesep bundle info`)."""
    b = bundle
    ms = 1000.0 / b.sample_rate  # milliseconds per sample
    lines = [
        f"bundle     {b.name}  ({b.path})",
        f"format     {FORMAT} v{b.manifest['format_version']}",
        f"audio      {b.sample_rate} Hz, {b.channels} channel(s), hop {b.hop} "
        f"({b.hop * ms:.1f} ms), n_fft {b.n_fft}, window {b.window}",
        f"latency    {b.latency_samples} samples ({b.latency_samples * ms:.1f} ms algorithmic)",
        f"encoder    {b.encoder_name} ({b.encoder_dim}-d) -> cond {b.cond_dim}-d",
    ]
    if b.model:
        lines.append(f"model      family {b.model.get('family', '?')}")
    lines.append("graphs")
    for kind, entry in b.graphs.items():
        extra = f", {b.graph_block(kind)} samples per call" if kind in ("step", "chunk") else ""
        lines.append(f"  {kind:<8} {entry['file']}{extra}")
    n_state = sum(int(np.prod(s.shape)) for s in b.states)
    lines.append(f"states     {len(b.states)} tensors, {n_state} floats per batch item")
    for s in b.states:
        lines.append(f"  {s.name:<8} {list(s.shape)}")
    if b.embeddings:
        lines.append(f"cached queries ({len(b.embeddings)}): " + ", ".join(sorted(b.embeddings)))
    if b.query_bank is not None:
        lines.append(
            f"query snap {b.query_bank.shape[0]} training captions, "
            f"temperature {b.query_temperature:g}, familiarity threshold "
            + (f"{b.familiarity_threshold:g}" if b.familiarity_threshold is not None else "default")
        )
    if b.text_encoder_files:
        lines.append("text encoder files: " + ", ".join(b.text_encoder_files))
    lines.append(f"files ({len(b.files)}, sha256 verified)   bundle digest {b.digest}")
    for name, digest in sorted(b.files.items()):
        size = (b.path / name).stat().st_size
        lines.append(f"  {name:<24} {size:>12,d} B  {digest[:16]}…")
    if b.unlisted_files:
        lines.append("unlisted files (ignored): " + ", ".join(b.unlisted_files))
    for title, section in (("provenance", b.provenance), ("metrics", b.metrics)):
        if section:
            lines.append(title)
            lines += [f"  {k}: {json.dumps(v)}" for k, v in section.items()]
    return "\n".join(lines)
