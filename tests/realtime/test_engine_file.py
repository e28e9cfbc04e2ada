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


def test_a_removal_phrase_removes_without_changing_the_mode(bundle):
    x = noise(RATE // 2)
    engine = Engine(bundle, query="speech")
    engine.set_query("remove dog barking")  # embeds "dog barking" (target = 0.25 mix)
    y = engine.process(x)[engine.latency_frames :]
    dry = x[: -engine.latency_frames]
    stats = engine.stats()
    assert stats.mode == "extract" and stats.query == "remove dog barking"
    tail = slice(len(dry) // 2, None)  # after the query cross-fade
    np.testing.assert_allclose(y[tail], 0.75 * dry[tail], atol=1e-6)
    engine.set_query("speech")  # the next plain query is extracted again
    y = engine.process(x)
    start, lat = RATE // 8, engine.latency_frames  # well after the fade
    np.testing.assert_allclose(y[start:], x[start - lat : -lat], atol=1e-6)


@pytest.mark.parametrize(
    ("query", "gain"),
    [
        ("speech, not dog barking", 1.0),  # the kept estimate stands alone
        ("everything but the dog barking", 0.75),  # x - 0.25 * x
        ("speech and the dog barking", 1.25),
        ("keep the speech, remove the silence and the dog barking", 1.0),
        ("remove the speech and the dog barking", -0.25),  # x - x - 0.25 * x
        ("no dog", 0.75),
    ],
)
@pytest.mark.parametrize("channels", [1, 2])
def test_compound_queries_stream_as_offline(bundle, query, gain, channels):
    """Keep and remove in one batched pass: live output == offline output (the same seam,
    the same signed sum), sample for sample after the latency."""
    from livesep.separate import Separator

    class Unit:  # gain 0.25 for a dog, 0 for silence, else 1 (the tiny bundle's gains)
        name, dim = "minilm", bundle.encoder_dim

        def embed(self, texts):
            out = np.zeros((len(texts), self.dim), np.float32)
            for i, text in enumerate(texts):
                out[i, 0] = 0.5 if "dog" in text else 0.0 if "silence" in text else 1.0
            return out

    x = noise(RATE // 2, channels=channels, seed=3)
    engine = Engine(bundle, channels=channels, query=None, encoder=Unit())
    request = engine.set_query_blocking(query)
    live = engine.process(np.concatenate([x, np.zeros((RATE // 10, channels), np.float32)]))
    live = live[engine.latency_frames : engine.latency_frames + len(x)]  # [T, C] aligned
    (offline,) = Separator(bundle, encoder=Unit()).separate_array(x.T, RATE, [request])
    np.testing.assert_allclose(live, offline.T, atol=1e-6)
    np.testing.assert_allclose(offline.T, gain * x, atol=1e-6)
    assert engine.stats().query == query


def test_compound_query_switch_crossfades_between_batch_shapes(bundle):
    hops = 2
    engine = Engine(bundle, crossfade_hops=hops, query="speech")  # 1 condition slot
    x = np.full((48 * 256, 1), 0.5, np.float32)
    first = engine.process(x[: 16 * 256])
    engine.set_query("remove dog barking, silence")  # 4 slots (2 padded): 0.75
    second = engine.process(x[16 * 256 : 32 * 256])
    engine.set_query("everything but dog barking")  # back to 1 slot: mixture - 0.25
    third = engine.process(x[32 * 256 :])
    y = np.concatenate([first, second, third])[engine.latency_frames :, 0]
    assert y[12 * 256] == pytest.approx(0.5)
    assert y[28 * 256] == pytest.approx(0.375) and y[-1] == pytest.approx(0.375)
    steps = np.abs(np.diff(y[4 * 256 :]))
    assert steps.max() <= 0.125 / (hops * HOP) * 1.01  # linear fades, no click


def test_mode_and_snap_changes_reread_the_query(bundle):
    engine = Engine(bundle, query="dog barking")
    x = noise(RATE // 2)
    engine.set_mode("remove")  # cross-fades to mixture - 0.25 mixture
    y = engine.process(x)[engine.latency_frames :]
    np.testing.assert_allclose(y[HOP * 4 :], 0.75 * x[HOP * 4 : -engine.latency_frames], atol=1e-6)
    engine.set_snap(False)  # no bank in this bundle: the same request again
    assert engine.stats().mode == "remove" and engine.queries.snap is False


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
    with pytest.raises(QueryError, match="at most 4"):
        engine.set_query("a, b, c, d, e")


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


def play_with_stall(engine, x, block, stalled):
    """Drive `engine`'s callback over x[T, 1] in `block`-frame periods, running its worker
    after every callback except those in `stalled`; returns the output [T, 1]."""
    y = np.zeros_like(x)
    out = np.zeros((block, 1), np.float32)
    for k in range(x.shape[0] // block):
        engine._callback(x[k * block : (k + 1) * block], out, block, None, None)
        if k not in stalled:
            while engine._work():
                pass
        y[k * block : (k + 1) * block] = out
    return y


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
    block = 256
    stalled = range(20, 60)  # callbacks during which the worker does nothing (0.32 s)
    y = play_with_stall(engine, x, block, stalled)
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


@pytest.mark.parametrize("fallback", ["hold", "dry"])
def test_concealed_output_goes_through_the_limiter(bundle, fallback):
    """A stall on a loud input: the concealment (held gain or dry, both > 0 dBFS here) is
    limited like processed output (`realtime.guard.OutputLimiter` on every callback)."""
    engine = Engine(bundle, query="speech", fallback=fallback, worker="thread")
    t = np.arange(RATE) / RATE
    x = (3.0 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[:, None]  # [T, 1] +9.5 dBFS
    block = 256
    y = play_with_stall(engine, x, block, range(20, 60))  # worker idle in callbacks 20-59
    s = engine.stats()
    assert s.fallback_runs == 1 and s.fallback_frames >= 30 * block
    concealed = y[22 * block : 58 * block, 0]  # [n] inside the stall: all concealment
    assert np.abs(concealed).max() > 0.5  # loud, not silence ...
    assert np.abs(y).max() <= 1.0 and s.limited_frames > 0  # ... and limited


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


def test_the_first_querys_texts_are_encoded_before_the_model_loads(bundle):
    """A new first query's text encoder is built and released before the runners exist,
    so its memory is back before the model takes its own (`Engine(texts=...)`)."""
    from livesep.runner import StepRunner

    events = []

    class Encoder:
        name, dim = "minilm", bundle.encoder_dim

        def embed(self, texts):
            events.append("encode")
            return np.eye(1, self.dim, dtype=np.float32).repeat(len(texts), axis=0)

    def runner(b, batch):
        events.append("runner")
        return StepRunner(b, batch=batch)

    engine = Engine(bundle, encoder=lambda: Encoder(), runner_factory=runner, texts=["a kazoo"])
    assert events[0] == "encode" and "runner" in events
    assert engine.queries._encoder is None  # released
    assert not engine.queries.needs_encoder("a kazoo")  # cached for the query itself
