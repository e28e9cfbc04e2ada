"""The engine driven from arrays (no device): alignment, resampling, controls, cross-fade."""

import numpy as np
import pytest
from helpers.tiny_bundle import make_delay_bundle
from scipy.signal import butter, sosfilt

from livesep.errors import LivesepError, QueryError
from livesep.realtime import Engine

RATE = 32000  # Hz, the delay bundle's rate
HOP = 320  # samples


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_delay_bundle(tmp_path_factory.mktemp("b"), sample_rate=RATE, hop=HOP, n_fft=1024)


def noise(n, channels=1, seed=0):
    return (np.random.default_rng(seed).standard_normal((n, channels)) * 0.1).astype(np.float32)


@pytest.mark.parametrize("worker", ["thread", "callback"])
def test_output_is_input_delayed_by_reported_latency(bundle, worker):
    engine = Engine(bundle, channels=2, worker=worker, query="speech")  # gain 1
    x = noise(RATE, channels=2)
    y = engine.process(x)
    lat = engine.latency_frames
    assert lat == engine.buffer_frames + bundle.latency_samples
    np.testing.assert_array_equal(y[lat:], x[:-lat])
    assert not y[:lat].any()
    s = engine.stats()
    assert s.late_hops == 0 and s.fallback_frames == 0 and s.resyncs == 0
    assert s.latency_ms == pytest.approx(1000 * lat / RATE)


def test_downmix_extracts_mono_target_on_every_channel(bundle):
    engine = Engine(bundle, channels=2, channel_mode="downmix", query="speech")
    x = noise(8000, channels=2)
    y = engine.process(x)
    lat = engine.latency_frames
    np.testing.assert_allclose(y[lat:, 0], x[:-lat].mean(axis=1), atol=1e-6)
    np.testing.assert_array_equal(y[:, 0], y[:, 1])


def test_resampled_path_keeps_alignment(bundle):
    dev = 48000  # device Hz; the model runs at 32 kHz
    engine = Engine(bundle, device_rate=dev, query="speech", resample_quality="HQ")
    x = sosfilt(butter(8, 9000, fs=dev, output="sos"), noise(dev)[:, 0]).astype(np.float32)
    y = engine.process(x[:, None])[:, 0]
    lat = engine.latency_frames
    resample = 2 * 36  # HQ: 24 zero crossings at 32 kHz = 36 frames each way at 48 kHz
    assert round(engine.resample_s * dev) == resample
    assert engine.delay_frames == bundle.latency_samples * 3 // 2 + resample
    seg = slice(dev // 4, dev - lat)
    lags = range(lat - 4, lat + 5)
    best = max(lags, key=lambda lag: float(np.dot(y[lag:][seg], x[: len(x) - lag][seg])))
    assert best == lat  # the resamplers' delay is exact and counted
    err = y[lat:][seg] - x[:-lat][seg]
    assert np.sqrt(np.mean(err**2)) < 0.01 * np.sqrt(np.mean(x[seg] ** 2))


def test_query_switch_crossfades_without_a_step(bundle):
    hops = 3
    engine = Engine(bundle, crossfade_hops=hops, query="speech")  # gain 1
    x = np.full((64 * 256, 1), 0.5, np.float32)  # DC passes the delay bundle unchanged
    first = engine.process(x[: 32 * 256])  # whole blocks: no padding inside the signal
    engine.set_query("dog barking")  # gain 0.25
    second = engine.process(x[32 * 256 :])
    y = np.concatenate([first, second])[engine.latency_frames :, 0]
    assert y[16 * 256] == pytest.approx(0.5) and y[-1] == pytest.approx(0.125)
    steps = np.diff(y)
    assert np.all(steps <= 1e-7)  # monotonic fade down
    fading = np.count_nonzero(steps < -1e-7)
    assert fading == pytest.approx(hops * HOP, abs=1)  # the fade lasts the cross-fade
    assert -steps.min() <= 0.375 / (hops * HOP) * 1.01  # no step beyond a linear fade


def test_remove_bypass_mix_and_gain(bundle):
    x = noise(RATE // 2)

    def run(*controls, query="speech"):
        engine = Engine(bundle, query=query)
        for name, value in controls:
            getattr(engine, name)(value)
        y = engine.process(x)
        return y[engine.latency_frames :], x[: -engine.latency_frames]

    y, dry = run(("set_mode", "remove"))  # target == mix: nothing left
    assert np.abs(y[HOP:]).max() < 1e-6
    y, dry = run(("set_mode", "remove"), query="dog barking")  # target = 0.25 mix
    np.testing.assert_allclose(y[HOP:], 0.75 * dry[HOP:], atol=1e-6)
    y, dry = run(("set_bypass", True), query="silence")  # gain 0, but bypassed: dry
    np.testing.assert_allclose(y[HOP:], dry[HOP:], atol=1e-6)
    y, dry = run(("set_mix", 0.5), ("set_gain_db", -6.0), query="silence")
    np.testing.assert_allclose(y[HOP:], 0.5 * 10 ** (-6 / 20) * dry[HOP:], atol=1e-6)


def test_a_removal_phrase_switches_to_remove_mode(bundle):
    x = noise(RATE // 2)
    engine = Engine(bundle, query="speech")
    engine.set_query("remove dog barking")  # embeds "dog barking" (target = 0.25 mix)
    y = engine.process(x)[engine.latency_frames :]
    dry = x[: -engine.latency_frames]
    stats = engine.stats()
    assert stats.mode == "remove" and stats.query == "dog barking"
    tail = slice(len(dry) // 2, None)  # after the query cross-fade
    np.testing.assert_allclose(y[tail], 0.75 * dry[tail], atol=1e-6)


def test_bad_controls_raise_clear_errors(bundle):
    engine = Engine(bundle)
    with pytest.raises(QueryError):
        engine.set_query("   ")
    with pytest.raises(LivesepError, match="mode"):
        engine.set_mode("karaoke")
    with pytest.raises(LivesepError, match="wet"):
        engine.set_mix(1.5)
    with pytest.raises(LivesepError, match="channel_mode"):
        Engine(bundle, channel_mode="left")


def test_stalled_worker_resyncs_to_the_same_latency(bundle):
    engine = Engine(bundle, query="speech", worker="thread")
    x = noise(RATE)
    engine.process(x[:4096])
    lat = engine.latency_frames
    block = np.zeros((256, 1), np.float32)
    for _ in range(40):  # callbacks keep coming while the worker does nothing
        engine._callback(block, block.copy(), 256, None, None)
    y = engine.process(x)
    s = engine.stats()
    assert s.resyncs == 1 and s.fallback_frames > 0
    assert engine.latency_frames == lat
    np.testing.assert_array_equal(y[lat + 256 :], x[256:-lat])  # steady again


def longest_zero_run(y):
    """The longest run of exactly-zero samples in y[T]."""
    best = run = 0
    for v in y:
        run = run + 1 if v == 0.0 else 0
        best = max(best, run)
    return best


@pytest.mark.parametrize("query, gain", [("speech", 1.0), ("dog barking", 0.25)])
def test_stall_is_concealed_with_the_held_gain_and_no_silence(bundle, query, gain):
    engine = Engine(bundle, query=query, worker="thread")
    x = noise(RATE)
    y = np.zeros_like(x)
    block = 256
    out = np.zeros((block, 1), np.float32)
    stalled = range(20, 60)  # callbacks during which the worker does nothing (0.32 s)
    for k in range(x.shape[0] // block):
        engine._callback(x[k * block : (k + 1) * block], out, block, None, None)
        if k not in stalled:
            while engine._work():
                pass
        y[k * block : (k + 1) * block] = out
    lat = engine.latency_frames
    s = engine.stats()
    assert s.resyncs == 1 and s.fallback_runs == 1 and s.fallback_frames > 0
    assert s.skipped_frames > 0 and s.skipped_frames % HOP == 0  # whole grains only
    assert engine.latency_frames == lat
    assert longest_zero_run(y[lat:, 0]) <= 2  # no silence anywhere, stall included
    # The concealment is the delayed input at the held gain: for this bundle exactly what
    # the model would have played. After the resync the model's own delay line holds input
    # from before the dropped grains (a splice) for one latency, then all is steady again.
    want = np.concatenate([np.zeros(lat), gain * x[:-lat, 0]])  # [T]
    resume = (stalled.stop + 1) * block  # the first output the worker is back in time for
    end = resume + engine.delay_frames + HOP  # the splice and the fade back in are over
    np.testing.assert_allclose(y[lat:resume, 0], want[lat:resume], atol=1e-5)
    np.testing.assert_allclose(y[end:, 0], want[end:], atol=1e-5)
    splice = y[resume:end, 0]
    assert np.std(splice) == pytest.approx(gain * np.std(x), rel=0.3)  # level held


def test_fallback_dry_and_silence_still_available(bundle):
    for fallback, level in (("dry", 1.0), ("silence", 0.0)):
        engine = Engine(bundle, query="dog barking", fallback=fallback, worker="thread")
        x = noise(8192)
        engine.process(x[:4096])
        out = np.zeros((256, 1), np.float32)
        for start in range(4096, 8192, 256):  # no work: the buffered output runs out
            engine._callback(x[start : start + 256], out, 256, None, None)
        lat = engine.latency_frames
        np.testing.assert_allclose(out[:, 0], level * x[7936 - lat : 8192 - lat, 0], atol=1e-6)
