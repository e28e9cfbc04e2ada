"""`livesep live` in file-driven mode, and the stdin/socket control lines."""

import json

import numpy as np
import pytest
import soundfile as sf
from helpers.tiny_bundle import make_delay_bundle

from livesep.cli import main
from livesep.errors import LivesepError
from livesep.realtime import Engine
from livesep.realtime.cli_live import apply_command


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_delay_bundle(tmp_path_factory.mktemp("b"), sample_rate=32000, hop=320, n_fft=1024)


def test_file_mode_writes_aligned_output_and_stats(bundle, tmp_path):
    x = (np.random.default_rng(1).standard_normal((20000, 2)) * 0.1).astype(np.float32)
    src, dst, stats = tmp_path / "in.wav", tmp_path / "out.wav", tmp_path / "s.json"
    sf.write(src, x, 32000, subtype="FLOAT")
    argv = ["live", "--query", "dog barking", "--bundle", str(bundle.path)]
    argv += ["--input-file", str(src), "--output-file", str(dst), "--stats-json", str(stats)]
    assert main(argv) == 0
    y, rate = sf.read(dst, dtype="float32", always_2d=True)
    assert rate == 32000 and y.shape == x.shape
    np.testing.assert_allclose(y, 0.25 * x, atol=1e-6)  # gain 0.25, latency compensated
    figures = json.loads(stats.read_text())
    assert figures["query"] == "dog barking" and figures["late_hops"] == 0


def test_file_mode_refuses_to_overwrite_input(bundle, tmp_path):
    src = tmp_path / "in.wav"
    sf.write(src, np.zeros((1000, 1), np.float32), 32000)
    argv = ["live", "--query", "speech", "--bundle", str(bundle.path)]
    assert main(argv + ["--input-file", str(src), "--output-file", str(src)]) == 1


def test_control_lines(bundle):
    engine = Engine(bundle, query="speech")
    assert apply_command(engine, ":mode remove") == ["mode: remove"]
    assert apply_command(engine, ":bypass on") == ["bypass: on"]
    assert apply_command(engine, ":mix 0.5") == ["mix: 0.5"]
    assert apply_command(engine, ":snap off") == ["snap: off"]
    assert apply_command(engine, "dog barking") == ["query: dog barking (remove: dog barking)"]
    assert apply_command(engine, "   ") == []
    engine.process(np.zeros((512, 1), np.float32))  # controls apply between hops
    (line,) = apply_command(engine, ":stats")
    s = json.loads(line)
    assert s["mode"] == "remove" and s["bypass"] is True and s["query"] == "dog barking"
    assert s["wet"] == 0.5


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (":volume 3", "unknown command :volume"),
        (":mix", ":mix needs a value"),
        (":mix loud", ":mix takes a number"),
        (":mix 2", "must be in"),
        (":bypass maybe", ":bypass takes on or off"),
        (":mode karaoke", ":mode takes extract or remove"),
        (":stats now", ":stats takes no value"),
        ("mix 0.5", "did you mean :mix 0.5"),  # README's old form: not a silent query
        ("bypass on", "did you mean :bypass on"),
        ("mode remove", "did you mean :mode remove"),
    ],
)
def test_bad_control_lines_are_errors_not_queries(bundle, line, message):
    engine = Engine(bundle, query="speech")
    with pytest.raises(LivesepError, match=message):
        apply_command(engine, line)
    engine.process(np.zeros((512, 1), np.float32))
    assert engine.stats().query == "speech"  # nothing became a query


def test_words_that_only_look_like_commands_are_queries():
    from livesep.realtime.controls import Command, parse_command

    assert parse_command("mix of voices") == Command("query", "mix of voices")
    assert parse_command("stats") == Command("query", "stats")
    assert parse_command(":MIX 0.25") == Command("mix", 0.25)
    assert parse_command(":bypass OFF") == Command("bypass", False)
    assert parse_command("\n") is None


def test_live_prints_what_the_model_does_not_know(tmp_path, capsys):
    bank = {"rain": [1.0] + [0.0] * 383}
    cached = {"keyboard typing": [0.0, 1.0] + [0.0] * 382}
    b = make_delay_bundle(
        tmp_path, sample_rate=32000, hop=320, n_fft=1024, query_bank=bank, embeddings=cached
    )
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, np.zeros((3200, 1), np.float32), 32000)
    argv = ["live", "--query", "keyboard typing", "--bundle", str(b.path)]
    assert main(argv + ["--input-file", str(src), "--output-file", str(dst)]) == 0
    err = capsys.readouterr().err
    assert 'warning: the model does not know "keyboard typing"' in err and '"rain"' in err
    engine = Engine(b, query="keyboard typing")
    replies = apply_command(engine, "keyboard typing")
    assert replies[1].startswith("warning:") and "does not know" in replies[1]
    engine.process(np.zeros((512, 1), np.float32))
    assert "does not know" in (engine.stats().query_warning or "")
