"""The speech expert live: routing, alignment, streaming == offline, the lane switch, the
off switch and the missing extra (the engine driven from arrays, no device)."""

import time

import numpy as np
import pytest
from helpers.alloc import callback_peak
from helpers.tiny_bundle import make_delay_bundle

from livesep import expert
from livesep.realtime import Engine

pytestmark = pytest.mark.skipif(not expert.available(), reason="the speech extra is missing")

DEVICE = 48000  # Hz: the expert's rate, the usual device rate
BLOCK = 256  # frames per callback


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):  # a 32 kHz model: its lane resamples, the expert's does not
    return make_delay_bundle(tmp_path_factory.mktemp("b"), sample_rate=32000, hop=320)


class DelayStream:
    """A stand-in expert stream: its estimate is the input, `latency` samples late (a ring
    of whole frames: the expert's latency is a whole number of its frames)."""

    def __init__(self):
        hop, self.latency = expert.info().hop, expert.info().latency
        self.lag = self.latency // hop  # frames
        self.frames = np.zeros((self.lag + 1, hop), np.float32)
        self.k = 0

    def process(self, frame, out):
        n = self.lag + 1
        self.frames[self.k % n] = frame
        out[:] = self.frames[(self.k - self.lag) % n]
        self.k += 1
        return out

    def close(self):
        pass


def noise(n, channels=1, seed=0):
    return (np.random.default_rng(seed).standard_normal((n, channels)) * 0.1).astype(np.float32)


def test_speech_queries_route_to_the_expert_and_others_to_the_model(bundle):
    engine = Engine(bundle, device_rate=DEVICE, expert=True, expert_factory=DelayStream)
    # "speech, not dog barking" keeps the speech alone (`Request.active`): the expert's.
    for query in (
        "speech",
        "my voice",
        "remove the speech",
        "someone talking",
        "speech, not dog barking",
    ):
        assert engine.route(query) == "expert", query
    for query in ("dog barking", "a man speaking", "dog barking and speech"):
        assert engine.route(query) == "model", query
    engine.set_query_blocking("speech")
    engine.process(noise(DEVICE // 4))
    s = engine.stats()
    assert s.path == "expert" and s.expert == "DeepFilterNet3" and s.expert_note is None
    assert s.algorithmic_ms == pytest.approx(30.0) and s.resample_ms == 0.0
    assert s.query_warning is None


@pytest.mark.parametrize("channels", [1, 2])
def test_expert_output_is_aligned_and_remove_is_input_minus_estimate(bundle, channels):
    """With a pure-delay stand-in, "speech" is the input delayed by exactly the reported
    latency and "remove the speech" (input delayed alike minus the estimate) is silence."""
    x = noise(DEVICE // 2, channels)
    engine = Engine(
        bundle, device_rate=DEVICE, channels=channels, expert=True, expert_factory=DelayStream
    )
    engine.set_query_blocking("speech")
    y = engine.process(x)
    lat = engine.latency_frames
    assert lat == engine.buffer_frames + expert.info().latency  # no resampling at 48 kHz
    np.testing.assert_array_equal(y[lat:], x[:-lat])
    assert engine.stats().latency_ms == pytest.approx(1000 * lat / DEVICE)
    engine = Engine(
        bundle, device_rate=DEVICE, channels=channels, expert=True, expert_factory=DelayStream
    )
    engine.set_query_blocking("remove the speech")
    assert not engine.process(x).any()


def test_live_expert_equals_the_expert_frame_by_frame():
    """The real DeepFilterNet3, live at 48 kHz: the output is its own frame-by-frame output
    delayed by the buffering; "remove the speech" is the input delayed alike minus it."""
    t = np.arange(DEVICE) / DEVICE
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))  # voiced-ish
    x = (tone + noise(DEVICE)[:, 0]).astype(np.float32)[:, None]  # [T, 1]
    hop, lat_e = expert.info().hop, expert.info().latency
    ref = expert.SpeechExpert()
    z = np.concatenate([ref.process(x[i : i + hop, 0]) for i in range(0, DEVICE, hop)])
    b = make_delay_bundle_default()
    for query, want in (("speech", z), ("remove the speech", _delayed(x[:, 0], lat_e) - z)):
        engine = Engine(b, device_rate=DEVICE, expert=True)
        engine.set_query_blocking(query)
        y = engine.process(x)[:, 0]
        p = engine.buffer_frames
        assert engine.stats().path == "expert"
        np.testing.assert_allclose(y[p:], want[: DEVICE - p], atol=1e-6)
    assert np.abs(z).max() > 0.05  # the expert kept something (not a trivial comparison)


def make_delay_bundle_default():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "models" / "default"
    if not path.is_dir():
        pytest.skip("models/default not present")
    return path


def _delayed(x, n):
    return np.concatenate([np.zeros(n, np.float32), x[: x.shape[0] - n]])


def test_a_lane_switch_crossfades_without_a_gap_and_reports_the_new_latency(bundle):
    """DC through both lanes (model gain 1, expert a pure delay): the switch from the model
    to the expert and back is a cross-fade of two delayed copies of the same level, so any
    gap or step would show; the reported latency follows the lane that plays."""
    engine = Engine(bundle, device_rate=DEVICE, expert=True, expert_factory=DelayStream)
    x = np.full((192 * BLOCK, 1), 0.5, np.float32)  # whole blocks: no padding inside
    engine.set_query_blocking("everything but silence")  # model: mixture - 0 = the input
    y0 = engine.process(x[: 96 * BLOCK])  # [T, 1]
    model_lat = engine.latency_frames
    assert engine.stats().path == "model"
    engine.set_query_blocking("speech")
    y1 = engine.process(x[96 * BLOCK :])
    assert engine.stats().path == "expert"
    expert_lat = engine.latency_frames
    assert (
        expert_lat - model_lat == expert.info().latency - engine.chain.lanes["model"].delay_frames
    )
    engine.set_query_blocking("everything but silence")
    y2 = engine.process(x)
    assert engine.stats().path == "model" and engine.latency_frames == model_lat
    y = np.concatenate([y0, y1, y2])[expert_lat:, 0]
    np.testing.assert_allclose(y, 0.5, atol=2e-3)  # the resampler's DC ripple, no gap
    s = engine.stats()
    assert s.late_hops == 0 and s.fallback_frames == 0


def test_a_lane_switch_allocates_nothing_in_the_callback(tmp_path):
    b = make_delay_bundle(tmp_path, sample_rate=DEVICE, hop=480)  # no resampling anywhere
    engine = Engine(b, channels=2, expert=True, expert_factory=DelayStream)
    x = noise(BLOCK, channels=2)  # a hop of temporaries would be 480 x 2 x 4 = 3840 bytes
    for query in ("speech", "dog barking"):  # one round first: numpy's and ORT's caches
        engine.set_query_blocking(query)
        callback_peak(engine, 40, x)
    steady = callback_peak(engine, 30, x)
    engine.set_query_blocking("speech")
    switching = callback_peak(engine, 30, x)  # start-up, fade, finish: 30 periods, 160 ms
    assert engine.stats().path == "expert"
    assert switching <= steady + 1024


def test_expert_off_and_missing_extra_play_the_model_and_say_why(bundle, monkeypatch):
    engine = Engine(bundle, device_rate=DEVICE, expert=False)
    engine.set_query_blocking("speech")
    engine.process(noise(DEVICE // 4))
    s = engine.stats()
    assert s.path == "model" and s.expert is None and s.expert_note == "speech expert off"
    monkeypatch.setattr(expert, "available", lambda: False)
    engine = Engine(bundle, device_rate=DEVICE, expert=True)
    assert engine.route("speech") == "model"
    s = engine.stats()
    assert s.expert is None and "livesep[speech]" in s.expert_note


def test_live_cli_routes_speech_to_the_expert_and_no_expert_turns_it_off(
    bundle, tmp_path, capsys, monkeypatch
):
    import json

    import soundfile as sf

    from livesep.cli import main

    monkeypatch.delenv("LIVESEP_NO_EXPERT")  # tests/conftest.py turns it off everywhere
    src = tmp_path / "in.wav"
    sf.write(src, noise(DEVICE // 2), DEVICE, subtype="FLOAT")
    for extra, path in (([], "expert"), (["--no-expert"], "model")):
        stats = tmp_path / f"{path}.json"
        argv = ["live", "--query", "speech", "--bundle", str(bundle.path), *extra]
        argv += ["--input-file", str(src), "--output-file", str(tmp_path / f"{path}.wav")]
        assert main([*argv, "--stats-json", str(stats)]) == 0
        assert json.loads(stats.read_text())["path"] == path
        err = capsys.readouterr().err
        assert ("path: speech expert (DeepFilterNet3, 30 ms latency)" in err) == (path == "expert")


def test_expert_control_line_turns_it_off_and_on(bundle):
    from livesep.realtime.cli_live import apply_command

    engine = Engine(bundle, device_rate=DEVICE, expert=True, expert_factory=DelayStream)
    replies = apply_command(engine, "speech")
    assert replies[1] == "path: speech expert (DeepFilterNet3, 30 ms latency)"
    assert apply_command(engine, ":expert off") == ["expert: off"]  # re-read off this thread
    assert run_until(engine, lambda s: s.path == "model").expert_note == "speech expert off"
    assert apply_command(engine, ":expert on") == ["expert: on"]
    assert run_until(engine, lambda s: s.path == "expert").expert == "DeepFilterNet3"


def run_until(engine, done, tries=200):
    """Process blocks of noise until `done(stats)` (a background re-read lands between)."""
    for _ in range(tries):
        engine.process(noise(4 * BLOCK))
        stats = engine.stats()
        if done(stats):
            return stats
        time.sleep(0.01)
    raise AssertionError(f"never reached: {engine.stats()}")


def test_the_expert_lane_restarts_on_fresh_streams_made_off_the_audio_path(bundle):
    made = []

    class Counted(DelayStream):
        def __init__(self):
            super().__init__()
            self.closed = False
            made.append(self)

        def close(self):
            self.closed = True

    engine = Engine(bundle, device_rate=DEVICE, expert=True, expert_factory=Counted)
    assert len(made) == 1  # one stream per row; nothing spare until it has run
    for query, path in (("speech", "expert"), ("dog barking", "model")):
        engine.set_query_blocking(query)
        engine.process(noise(64 * BLOCK))
        assert engine.stats().path == path
    first = engine.expert_path.streams[0]
    engine.set_query_blocking("speech")  # prepared here: fresh streams (the first ran)
    assert len(made) == 2 and engine.expert_path.spare is not None
    engine.process(noise(64 * BLOCK))
    assert engine.stats().path == "expert" and engine.expert_path.streams[0] is made[1]
    engine.set_query_blocking("dog barking")
    engine.process(noise(64 * BLOCK))
    engine.set_query_blocking("speech")  # frees the retired streams, off the audio path
    assert first.closed and len(made) == 3


def test_requests_during_a_lane_switch_wait_for_its_end(bundle):
    """speech (to the expert), then at once back to the model and to the expert again:
    each switch completes before the next starts; DC stays at its level throughout."""
    engine = Engine(bundle, device_rate=DEVICE, expert=True, expert_factory=DelayStream)
    x = np.full((4 * BLOCK, 1), 0.5, np.float32)
    engine.set_query_blocking("everything but silence")  # model: the input itself
    out = [engine.process(np.repeat(x, 24, axis=0))]
    for query in ("speech", "everything but silence", "speech"):
        engine.set_query_blocking(query)
        out.append(engine.process(x))  # 4 periods: the lane switch is still under way
    for _ in range(12):
        out.append(engine.process(x))
    y = np.concatenate(out)[engine.latency_frames :, 0]
    assert engine.stats().path == "expert" and engine.stats().late_hops == 0
    np.testing.assert_allclose(y, 0.5, atol=2e-3)
