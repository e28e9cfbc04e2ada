"""benchmarks/compare_reports.py: paired differences of two reports on one bench."""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "compare_reports.py"
spec = importlib.util.spec_from_file_location("compare_reports", SCRIPT)
assert spec is not None and spec.loader is not None
compare_reports = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_reports)


def _bench(root: Path) -> Path:
    bench = root / "bench"
    bench.mkdir()
    rows = ["mixture,target,query,class,split,wrong_query"]
    rows += [f"audio/{i:05d}_mixture.wav,t,q{i},c{i % 2},val,w" for i in range(4)]
    rows += ["audio/00004_mixture.wav,t,q4,z,zeroshot,w"]
    (bench / "bench.csv").write_text("\n".join(rows) + "\n")
    return bench


def _report(path: Path, sdri: list[float], wrong: list[float]) -> Path:
    classes = ["c0", "c1", "c0", "c1", "z"]
    items = [
        {
            "mixture": f"bench/audio/{i:05d}_mixture.wav",
            "query": f"q{i}",
            "class": classes[i],
            "sdri": s,
            "si_sdri": s - 1.0,
            "wrong_sdri": w,
        }
        for i, (s, w) in enumerate(zip(sdri, wrong, strict=True))
    ]
    path.write_text(json.dumps({"items": items}))
    return path


def test_paired_difference_and_standard_error(tmp_path: Path) -> None:
    bench = _bench(tmp_path)
    old = _report(tmp_path / "a.json", [1.0, 2.0, 3.0, 4.0, 0.0], [0.0] * 5)
    new = _report(tmp_path / "b.json", [2.0, 2.0, 5.0, 4.0, -1.0], [1.0, 0.0, 0.0, 0.0, 0.0])
    pairs = compare_reports.pair(compare_reports.load_items(old), compare_reports.load_items(new))
    rows = compare_reports.compare(pairs, compare_reports.splits_of(bench))
    by = {(r["split"], r["metric"]): r for r in rows}
    sdri = by[("val", "SDRi")]
    assert sdri["items"] == 4 and sdri["old"] == 2.5 and sdri["new"] == 3.25
    diffs = [1.0, 0.0, 2.0, 0.0]  # mean 0.75, sample sd sqrt(0.9167)
    assert sdri["diff"] == pytest.approx(0.75)
    assert sdri["se"] == pytest.approx(math.sqrt(sum((d - 0.75) ** 2 for d in diffs) / 3 / 4))
    assert sdri["classes_up"] == "1/2"  # c0 moved up by 3 dB, c1 not at all
    assert by[("val", "query sensitivity")]["diff"] == pytest.approx(0.5)
    zero = by[("zeroshot", "SDRi")]
    assert zero["items"] == 1 and zero["diff"] == -1.0 and math.isnan(zero["se"])


def test_groups_compare_the_items_of_their_classes(tmp_path: Path) -> None:
    bench = _bench(tmp_path)
    old = _report(tmp_path / "a.json", [1.0, 2.0, 3.0, 4.0, 0.0], [0.0] * 5)
    new = _report(tmp_path / "b.json", [2.0, 2.0, 5.0, 4.0, -1.0], [0.0] * 5)
    pairs = compare_reports.pair(compare_reports.load_items(old), compare_reports.load_items(new))
    groups = dict([compare_reports.parse_group("touched = c0, z")])
    assert groups == {"touched": {"c0", "z"}}
    rows = compare_reports.compare(pairs, compare_reports.splits_of(bench), groups)
    touched = {r["metric"]: r for r in rows if r["split"] == "touched"}
    assert touched["SDRi"]["items"] == 3  # c0's two items and z's one, across splits
    assert touched["SDRi"]["diff"] == pytest.approx((1.0 + 2.0 - 1.0) / 3)
    assert touched["SDRi"]["classes_up"] == "1/2"
    assert {r["split"] for r in rows} == {"val", "zeroshot", "touched"}
    with pytest.raises(SystemExit, match="no item of class nope"):
        compare_reports.compare(pairs, compare_reports.splits_of(bench), {"g": {"c0", "nope"}})
    for bad in ("c0,c1", "=c0", "name="):
        with pytest.raises(argparse.ArgumentTypeError, match="NAME=class"):
            compare_reports.parse_group(bad)


def test_reports_of_different_benches_are_refused(tmp_path: Path) -> None:
    old = compare_reports.load_items(_report(tmp_path / "a.json", [1.0] * 5, [0.0] * 5))
    new = compare_reports.load_items(_report(tmp_path / "b.json", [1.0] * 5, [0.0] * 5))
    new[2]["query"] = "another query"
    with pytest.raises(SystemExit, match="not the same bench"):
        compare_reports.pair(old, new)
    with pytest.raises(SystemExit, match="different benches"):
        compare_reports.pair(old, new[:3])
    (tmp_path / "empty.json").write_text('{"items": []}')
    with pytest.raises(SystemExit, match="no items"):
        compare_reports.load_items(tmp_path / "empty.json")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(SystemExit, match="not a `livesep evaluate` report"):
        compare_reports.load_items(tmp_path / "x.json")
