"""benchmarks/requery_bench.py: the same bench mixtures, queried in other words."""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "requery_bench.py"
V1_CLASSES = 61  # classes of corpus v1 (the shipped model), each with free phrasings
V2_NEW_CLASSES = 47  # classes corpus v2 added (training/corpus_classes.py), none yet
spec = importlib.util.spec_from_file_location("requery_bench", SCRIPT)
assert spec is not None and spec.loader is not None
requery_bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(requery_bench)

FIELDS = ["mixture", "target", "query", "class", "split", "wrong_query"]


def _bench(root: Path, rows: list[tuple[str, str, str]]) -> Path:
    bench = root / "bench"
    (bench / "audio").mkdir(parents=True)
    with (bench / "bench.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(FIELDS)
        for i, (query, cls, wrong) in enumerate(rows):
            writer.writerow(
                [
                    f"audio/{i:05d}_mixture.wav",
                    f"audio/{i:05d}_target.wav",
                    query,
                    cls,
                    "val",
                    wrong,
                ]
            )
    return bench


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)


def test_requery_cycles_queries_and_maps_the_wrong_query_to_its_class(tmp_path: Path) -> None:
    rows = [
        ("a squeezebox", "accordion", "a rain shower"),
        ("keep only a squeezebox", "accordion", "a rain shower"),
        ("a squeezebox", "accordion", "a squeezebox"),  # a known caption of another item
        ("a rain shower", "rain", "a squeezebox"),
    ]
    bench = _bench(tmp_path, rows)
    queries = tmp_path / "q.json"
    queries.write_text(json.dumps({"queries": {"accordion": ["A1", "A2"], "rain": ["R1"]}}))
    out = tmp_path / "new"
    result = _run("--bench", str(bench), "--queries", str(queries), "--out", str(out))
    assert result.returncode == 0, result.stderr
    with (out / "bench.csv").open(newline="") as f:
        new = list(csv.DictReader(f))
    assert [r["query"] for r in new] == ["A1", "A2", "A1", "R1"]
    assert [r["wrong_query"] for r in new] == ["R1", "R1", "A1", "A2"]  # row number cycles
    # everything but the wording is the bench's own
    assert [(r["mixture"], r["class"], r["split"]) for r in new] == [
        (f"audio/{i:05d}_mixture.wav", row[1], "val") for i, row in enumerate(rows)
    ]
    assert (out / "audio").resolve() == (bench / "audio").resolve()


def test_requery_refuses_missing_classes_unknown_wrong_queries_and_bad_files(
    tmp_path: Path,
) -> None:
    bench = _bench(tmp_path, [("a squeezebox", "accordion", "no such caption")])
    with pytest.raises(SystemExit, match="no queries for classes: accordion"):
        requery_bench.requery(list(csv.DictReader((bench / "bench.csv").open())), {"rain": ["r"]})
    with pytest.raises(SystemExit, match="unknown class"):
        requery_bench.requery(
            list(csv.DictReader((bench / "bench.csv").open())), {"accordion": ["a"]}
        )
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"queries": {"accordion": []}}))
    result = _run("--bench", str(bench), "--queries", str(bad), "--out", str(tmp_path / "o"))
    assert result.returncode != 0 and "non-empty lists" in result.stderr
    assert not (tmp_path / "o").exists()  # nothing written
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"accordion": ["a"]}))
    result = _run("--bench", str(bench), "--queries", str(good), "--out", str(bench))
    assert result.returncode != 0 and "exists" in result.stderr


def test_the_shipped_free_phrasing_queries_cover_every_class() -> None:
    """The set was written (blind to our captions) for the 61 classes of corpus v1, the
    shipped model's; corpus v2 added 47 classes that have no free phrasings yet."""
    from livesep.training.corpus_classes import CLASSES

    path = SCRIPT.parent / "queries" / "free_phrasing.json"
    queries = requery_bench.read_queries(path)
    assert set(queries) <= set(CLASSES) and len(queries) == V1_CLASSES
    assert len(set(CLASSES) - set(queries)) == V2_NEW_CLASSES
    assert all(len(v) == 4 for v in queries.values())
