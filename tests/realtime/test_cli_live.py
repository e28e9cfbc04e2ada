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
    assert apply_command(engine, ":mode remove") == "mode: remove"
    assert apply_command(engine, ":bypass on") == "bypass: on"
    assert apply_command(engine, "dog barking") == "query: dog barking"
    engine.process(np.zeros((512, 1), np.float32))  # controls apply between hops
    s = json.loads(apply_command(engine, ":stats"))
    assert s["mode"] == "remove" and s["bypass"] is True and s["query"] == "dog barking"
    with pytest.raises(LivesepError):
        apply_command(engine, ":volume 3")
