"""Evaluation: bench building, metric consistency, controls, aggregation, CLI report."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from helpers.synth_corpus import TINY_CONFIG, tiny_overrides, write_caption_cache

from livesep import metrics
from livesep.cli import main as cli_main
from livesep.training.evaluate import (
    BENCH_CSV,
    Bench,
    _overall,
    _per_class,
    build_bench,
    evaluate,
    load_wav,
    read_bench,
    write_report,
)

RATE = 8000


@pytest.fixture(scope="module")
def bench_dir(synth_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    return build_bench(synth_corpus, out, sample_rate=RATE, items_per_class=2, segment_s=0.5)


def _targets(bench: Bench) -> dict[bytes, np.ndarray]:
    """mixture bytes -> target: lets a fake separator know the truth."""
    return {load_wav(i.mixture, RATE).tobytes(): load_wav(i.target, RATE) for i in bench.items}


def test_bench_is_deterministic_and_has_absent_wrong_queries(
    bench_dir: Path, synth_corpus: Path, tmp_path: Path
) -> None:
    again = build_bench(
        synth_corpus, tmp_path / "b2", sample_rate=RATE, items_per_class=2, segment_s=0.5
    )
    assert (bench_dir / BENCH_CSV).read_text() == (again / BENCH_CSV).read_text()
    rows = list(csv.DictReader((bench_dir / BENCH_CSV).open()))
    assert len(rows) == 8 and {r["class"] for r in rows} == {"tone", "noise", "chirp", "clicks"}
    first = bench_dir / rows[0]["mixture"]
    np.testing.assert_array_equal(load_wav(first, RATE), load_wav(again / rows[0]["mixture"], RATE))
    bench = read_bench(bench_dir)
    for item in bench.items:
        assert item.wrong_query and item.wrong_query != item.query


def test_oracle_and_passthrough_scores_are_consistent(bench_dir: Path) -> None:
    bench = read_bench(bench_dir)
    truth = _targets(bench)
    report = evaluate(lambda mix, q: truth[mix.tobytes()], bench, RATE, oracle=True)
    for row, item in zip(report["items"], bench.items, strict=True):
        mix, target = load_wav(item.mixture, RATE), load_wav(item.target, RATE)
        assert row["sdri"] == pytest.approx(row["sdr"] - row["sdr_mixture"], abs=1e-9)
        expected = metrics.sdr(target, target) - metrics.sdr(mix, target)
        assert row["sdri"] == pytest.approx(float(expected), abs=1e-6)
        assert row["oracle_sdri"] > 3.0  # an ideal mask separates these easily
        assert row["sdri"] > row["oracle_sdri"]  # nothing beats the target itself
    passthrough = evaluate(lambda mix, q: mix, bench, RATE, oracle=False)
    o = passthrough["overall"]
    assert o["sdri"] == pytest.approx(0.0, abs=1e-9) and o["si_sdri"] == pytest.approx(
        0.0, abs=1e-9
    )
    assert o["query_sensitivity"] == pytest.approx(0.0, abs=1e-9)  # ignores the query


def test_wrong_query_control_measures_query_sensitivity(bench_dir: Path) -> None:
    bench = read_bench(bench_dir)
    truth = _targets(bench)
    right = {i.mixture.name: i.query for i in bench.items}
    queries = {load_wav(i.mixture, RATE).tobytes(): i.query for i in bench.items}

    def follows_query(mix: np.ndarray, query: str) -> np.ndarray:
        target = truth[mix.tobytes()]
        return target if query == queries[mix.tobytes()] else mix - target

    report = evaluate(follows_query, bench, RATE, oracle=False)
    assert len(right) == len(report["items"])
    for row in report["items"]:
        assert row["wrong_query"] != row["query"]
        assert row["wrong_sdri"] < 0 < row["sdri"]
    o = report["overall"]
    assert o["query_sensitivity"] == pytest.approx(o["sdri"] - o["wrong_sdri"])
    assert o["query_sensitivity"] > 20


def test_audiosep_aggregation_rules() -> None:
    rows = [{"class": c, "sdri": v} for c, v in [("a", 1.0), ("a", 2.0), ("a", 9.0), ("b", 4.0)]]
    classes = _per_class(rows)
    assert _overall(rows, classes, "mean")["sdri"] == pytest.approx(4.0)
    assert _overall(rows, classes, "mean_per_class")["sdri"] == pytest.approx((4.0 + 4.0) / 2)
    assert _overall(rows, classes, "median_per_class")["sdri"] == pytest.approx((2.0 + 4.0) / 2)


def test_reads_audiosep_csvs(tmp_path: Path) -> None:
    (tmp_path / "music_eval.csv").write_text(
        "idx,caption,src_wav,noise_wav\n0,violin,a.wav,b.wav\n"
    )
    music = read_bench(tmp_path / "music_eval.csv", audio_dir=tmp_path / "data")
    assert music.aggregation == "mean_per_class"
    assert music.items[0].mixture == tmp_path / "data" / "mixture-0.wav"
    assert music.items[0].target == tmp_path / "data" / "segment-0.wav"
    (tmp_path / "vggsound_eval.csv").write_text(
        "file_id,mix_wav,s0_wav,s0_text,s1_wav,s1_text\n1,m.wav,s.wav,dog,n.wav,rain\n"
    )
    vgg = read_bench(tmp_path / "vggsound_eval.csv")
    assert vgg.aggregation == "mean" and vgg.items[0].query == "dog"
    assert vgg.items[0].absent_exclude == ("rain",)


def test_report_files(bench_dir: Path, tmp_path: Path) -> None:
    bench = read_bench(bench_dir)
    report = evaluate(lambda mix, q: 0.5 * mix, bench, RATE, oracle=False, keep_audio=2)
    paths = write_report(report, tmp_path / "rep")
    data = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert data["overall"]["items"] == 8 and "audio" not in data
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "query_sensitivity" in md and "| clicks |" in md and "item_00.png" in md
    assert [p.name for p in paths[2:]] == ["item_00.png", "item_01.png"]
    assert all(p.stat().st_size > 1000 for p in paths[2:])  # real images


def test_cli_evaluates_a_checkpoint(
    synth_corpus: Path, bench_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    write_caption_cache(run)
    train = [
        "train",
        "--config",
        str(TINY_CONFIG),
        "--no-progress",
        *tiny_overrides(synth_corpus, run, steps=2),
    ]
    assert cli_main(train) == 0
    out = tmp_path / "report"
    args = [
        "evaluate",
        "--checkpoint",
        str(run / "last.pt"),
        "--bench",
        str(bench_dir),
        "--out",
        str(out),
    ]
    assert cli_main(args) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["overall"]["items"] == 8
    assert {"sdri", "si_sdri", "wrong_sdri", "oracle_sdri", "query_sensitivity"} <= set(
        report["overall"]
    )
    assert (out / "report.md").is_file() and (out / "item_00.png").is_file()
    assert "items" in capsys.readouterr().out
    assert cli_main(["evaluate", "--bench", str(bench_dir)]) == 1  # no model given
