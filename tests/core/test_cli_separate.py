"""`livesep separate` and `livesep bundle` in-process: naming, batch jobs, failures, exits."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from helpers.tiny_bundle import make_delay_bundle

from livesep.audio import read_audio, write_audio
from livesep.cli import main
from livesep.commands.separate import slug


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_delay_bundle(tmp_path_factory.mktemp("b"))


def _noise(channels: int, frames: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal((channels, frames))).astype(np.float32)


def _errors(text: str) -> list[str]:
    return [line for line in text.splitlines() if "error" in line or "failed" in line]


def test_out_dir_naming_and_contents(bundle, tmp_path, capsys):
    a = write_audio(tmp_path / "a.wav", _noise(2, 3000), 16000)
    b = write_audio(tmp_path / "b.flac", _noise(1, 2000, seed=1), 16000)
    out = tmp_path / "out"
    argv = [
        "separate", str(a), str(b), "-q", "speech", "-q", "dog barking",
        "--out-dir", str(out), "--bundle", str(bundle.path), "--quiet",
    ]  # fmt: skip
    assert main(argv) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["a.dog-barking.wav", "a.speech.wav", "b.dog-barking.flac", "b.speech.flac"]
    np.testing.assert_array_equal(read_audio(out / "a.speech.wav")[0], read_audio(a)[0])
    assert "wrote" in capsys.readouterr().out


def test_single_output_remove_mode_and_overwrite(bundle, tmp_path, capsys):
    x = _noise(1, 1000)
    src = write_audio(tmp_path / "in.wav", x, 16000)
    out = tmp_path / "res.wav"
    argv = ["separate", str(src), "-q", "dog barking", "-o", str(out), "--mode", "remove"]
    argv += ["--bundle", str(bundle.path), "--quiet"]
    assert main(argv) == 0
    np.testing.assert_allclose(read_audio(out)[0], 0.75 * x, atol=1e-7)
    assert main(argv) == 1  # exists now
    err = capsys.readouterr().err
    assert "res.wav: output exists" in err
    assert main([*argv, "--overwrite"]) == 0


def test_remove_mode_default_name(bundle, tmp_path):
    src = write_audio(tmp_path / "song.mp3", _noise(1, 4000), 16000)
    argv = ["separate", str(src), "-q", "speech", "--mode", "remove"]
    assert main([*argv, "--bundle", str(bundle.path), "--quiet"]) == 0
    assert (tmp_path / "song.without-speech.wav").is_file()  # mp3 in -> wav out


def test_output_pattern_needed_for_several_outputs(bundle, tmp_path, capsys):
    src = write_audio(tmp_path / "in.wav", _noise(1, 100), 16000)
    argv = ["separate", str(src), "-q", "speech", "-q", "silence", "-o", str(tmp_path / "x.wav")]
    assert main([*argv, "--bundle", str(bundle.path)]) == 1
    assert "need {query} in the pattern" in capsys.readouterr().err
    argv[-1] = str(tmp_path / "{stem}-{query}.wav")
    assert main([*argv, "--bundle", str(bundle.path), "--quiet"]) == 0
    assert (tmp_path / "in-silence.wav").is_file() and (tmp_path / "in-speech.wav").is_file()


def test_bad_inputs_fail_alone_with_one_line_each(bundle, tmp_path, capsys):
    good = write_audio(tmp_path / "good.wav", _noise(1, 500), 16000)
    (tmp_path / "text.wav").write_text("not audio")
    nan = np.zeros((1, 500), np.float32)
    nan[0, 100] = np.nan
    write_audio(tmp_path / "nan.wav", nan, 16000)

    sf.write(tmp_path / "low.wav", np.zeros(50, np.float32), 4000)
    sf.write(tmp_path / "empty.wav", np.zeros(0, np.float32), 16000)
    names = ["missing.wav", "text.wav", "nan.wav", "low.wav", "empty.wav"]
    inputs = [good, *(tmp_path / name for name in names)]
    argv = ["separate", *map(str, inputs), "-q", "speech", "--bundle", str(bundle.path), "--quiet"]
    assert main(argv) == 1
    lines = _errors(capsys.readouterr().err)
    assert len(lines) == 6  # five failed jobs + the summary
    for name, cause in [
        ("missing.wav", "file not found"),
        ("text.wav", "not a readable audio file"),
        ("nan.wav", "contains NaN or Inf"),
        ("low.wav", "below the 8000 Hz minimum"),
        ("empty.wav", "empty audio"),
    ]:
        assert any(name in line and cause in line for line in lines), (name, lines)
    assert "5 of 6 jobs failed" in lines[-1]
    produced = sorted(p.name for p in tmp_path.iterdir() if ".speech." in p.name)
    assert produced == ["good.speech.wav"]  # and no temp files
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_empty_query_fails_the_job(bundle, tmp_path, capsys):
    src = write_audio(tmp_path / "in.wav", _noise(1, 100), 16000)
    out = tmp_path / "o.wav"
    argv = ["separate", str(src), "-q", "  ", "-o", str(out), "--bundle", str(bundle.path)]
    assert main(argv) == 1
    assert "empty text query" in capsys.readouterr().err
    assert not out.exists()


def test_batch_csv(bundle, tmp_path, capsys):
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    x = _noise(1, 800)
    write_audio(jobs / "a.wav", x, 16000)
    write_audio(jobs / "b.wav", x, 16000)
    (jobs / "jobs.csv").write_text(
        "input,query,output,mode\n"
        "a.wav,speech,out/a1.wav,\n"
        "missing.wav,speech,out/m.wav,\n"
        "b.wav,dog barking,out/b1.wav,remove\n"
        "a.wav,silence,,\n"
    )
    argv = ["separate", "--batch", str(jobs / "jobs.csv"), "--bundle", str(bundle.path)]
    assert main([*argv, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "job 2 failed" in err and "missing.wav: file not found" in err
    np.testing.assert_array_equal(read_audio(jobs / "out" / "a1.wav")[0], x)
    np.testing.assert_allclose(read_audio(jobs / "out" / "b1.wav")[0], 0.75 * x, atol=1e-7)
    assert (jobs / "a.silence.wav").is_file()  # empty output -> default name beside input
    assert not (jobs / "out" / "m.wav").exists()


def test_batch_csv_errors(bundle, tmp_path, capsys):
    csv_path = tmp_path / "jobs.csv"
    csv_path.write_text("file,text\nx.wav,speech\n")
    assert main(["separate", "--batch", str(csv_path), "--bundle", str(bundle.path)]) == 1
    assert "header needs columns input,query" in capsys.readouterr().err
    csv_path.write_text("input,query,output,mode\nx.wav,speech,o.wav,keep\n")
    assert main(["separate", "--batch", str(csv_path), "--bundle", str(bundle.path)]) == 1
    assert "jobs.csv:2: mode 'keep'" in capsys.readouterr().err
    argv = ["separate", "--batch", str(csv_path), "in.wav", "--bundle", str(bundle.path)]
    assert main(argv) == 1
    assert "from the CSV" in capsys.readouterr().err


def test_model_errors_are_one_line(bundle, tmp_path, capsys, monkeypatch):
    src = write_audio(tmp_path / "in.wav", _noise(1, 100), 16000)
    monkeypatch.setenv("LIVESEP_BUNDLE", str(tmp_path / "models" / "default"))
    assert main(["separate", str(src), "-q", "speech"]) == 1
    err = capsys.readouterr().err.strip()
    assert "no default bundle here" in err and len(err.splitlines()) == 1
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text(json.dumps({"format": "livesep-bundle"}))
    assert main(["separate", str(src), "-q", "speech", "--bundle", str(broken)]) == 1
    err = capsys.readouterr().err.strip()
    assert "format_version None not supported" in err and len(err.splitlines()) == 1
    assert main(["separate", str(src), "-q", "x", "--clap-checkpoint", str(src)]) == 1
    assert "--clap-checkpoint and --clap-tokenizer need --checkpoint" in capsys.readouterr().err
    assert main(["separate", str(src), "-q", "x", "--clap-tokenizer", str(tmp_path)]) == 1
    assert "need --checkpoint" in capsys.readouterr().err
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".wav" and p != src]


def test_unreadable_checkpoint(tmp_path, capsys):
    src = write_audio(tmp_path / "in.wav", _noise(1, 100), 16000)
    ckpt = tmp_path / "model.ckpt"
    ckpt.write_bytes(b"definitely not a checkpoint")
    assert main(["separate", str(src), "-q", "speech", "--checkpoint", str(ckpt)]) == 1
    err = capsys.readouterr().err.strip()
    assert "model.ckpt" in err and len(err.splitlines()) == 1


def test_slug():
    assert slug("  A dog, barking!! ") == "a-dog-barking"
    assert slug("???") == "query"
    assert len(slug("x" * 200)) == 60


def test_bundle_info_and_verify(bundle, tmp_path, capsys):
    assert main(["bundle", "info", str(bundle.path)]) == 0
    out = capsys.readouterr().out
    assert "latency    352 samples (22.0 ms algorithmic)" in out and "s00" in out
    assert main(["bundle", "verify", str(bundle.path)]) == 0
    assert "OK" in capsys.readouterr().out
    assert main(["bundle", "verify", str(tmp_path / "nope")]) == 1
    assert "bundle directory not found" in capsys.readouterr().err


@pytest.mark.slow
def test_batch_of_100_four_second_jobs_in_one_process(bundle, tmp_path, capsys):
    rows = ["input,query,output"]
    for i in range(100):
        write_audio(tmp_path / f"in{i:03d}.wav", _noise(1, 4 * 16000, seed=i), 16000)
        rows.append(f"in{i:03d}.wav,{'speech' if i % 2 else 'dog barking'},out/{i:03d}.wav")
    (tmp_path / "jobs.csv").write_text("\n".join(rows) + "\n")
    argv = ["separate", "--batch", str(tmp_path / "jobs.csv"), "--bundle", str(bundle.path)]
    assert main(argv) == 0
    outs = sorted((tmp_path / "out").iterdir())
    assert len(outs) == 100
    np.testing.assert_allclose(read_audio(outs[3])[0], read_audio(tmp_path / "in003.wav")[0])


def test_no_snap_conditions_on_the_raw_embedding(tmp_path):
    """The bank moves "dog barking" (norm 0.5: gain 0.25) onto a unit caption (gain 1)."""
    unit = np.eye(2, 384, dtype=np.float32)  # [2, D]
    bank = {"a dog barking": unit[1].tolist(), "speech": unit[0].tolist()}
    snapped = make_delay_bundle(tmp_path / "b", query_bank=bank, snap_temperature=0.01)
    x = _noise(1, 1000)
    src = write_audio(tmp_path / "in.wav", x, 16000)
    argv = ["separate", str(src), "-q", "dog barking", "--bundle", str(snapped.path), "--quiet"]
    assert main([*argv, "-o", str(tmp_path / "snap.wav")]) == 0
    assert main([*argv, "-o", str(tmp_path / "raw.wav"), "--no-snap"]) == 0
    np.testing.assert_allclose(read_audio(tmp_path / "snap.wav")[0], x, atol=1e-4)
    np.testing.assert_allclose(read_audio(tmp_path / "raw.wav")[0], 0.25 * x, atol=1e-6)
