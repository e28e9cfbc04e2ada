"""The engine's parts: the runner owns the hop buffers, and a query switch is prepared off
the audio path and crosses to it as a reference (no allocation, no film run there)."""

import numpy as np
import pytest
from helpers.alloc import callback_peak
from helpers.tiny_bundle import make_delay_bundle

from livesep.realtime import Engine
from livesep.realtime.host import shortfall
from livesep.realtime.resample import worst_shortfall

RATE = 32000  # Hz, the delay bundle's rate
HOP = 320  # samples
BLOCK = 256  # frames per callback


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_delay_bundle(tmp_path_factory.mktemp("b"), sample_rate=RATE, hop=HOP, n_fft=1024)


class CountingFilm:
    """Wraps a runner's film session and counts its runs."""

    def __init__(self, session):
        self.session, self.runs = session, 0

    def run(self, *args, **kwargs):
        self.runs += 1
        return self.session.run(*args, **kwargs)


def callbacks(engine, n, x):
    out = np.zeros_like(x)
    for _ in range(n):
        engine._callback(x, out, BLOCK, None, None)


@pytest.mark.parametrize("query", ["dog barking", "speech, not dog barking"])
def test_a_query_switch_allocates_nothing_and_runs_no_film_in_the_callback(bundle, query):
    engine = Engine(bundle, channels=2, query="speech")  # hops run in the callback
    x = (np.random.default_rng(0).standard_normal((BLOCK, 2)) * 0.1).astype(np.float32)
    engine.set_query(query)  # read once (and make its runners), then back
    engine.set_query("speech")
    callbacks(engine, 40, x)
    runners = [s.runner for pair in engine.model._pool.values() for s in pair]
    bound = [(id(r.audio), id(r.out), id(r._cond)) for r in runners]
    films = [CountingFilm(r.film) for r in runners]
    for runner, film in zip(runners, films, strict=True):
        runner.film = film
    steady = callback_peak(engine, 8, x)
    engine.set_query(query)  # prepared here: the film runs on this thread
    assert sum(f.runs for f in films) == 1
    switching = callback_peak(engine, 8, x)  # the switch and its fade
    assert sum(f.runs for f in films) == 1  # nothing ran film on the audio path
    assert engine.stats().query == query
    assert switching <= steady + 1024  # no hop buffer (320 x 2 x 4 bytes) allocated
    assert [(id(r.audio), id(r.out), id(r._cond)) for r in runners] == bound


def test_the_runner_owns_the_hop_buffers(bundle):
    """The hop is written into the runner's bound input and the estimate read from its
    bound output: the last hop's input is in `runner.audio`, no engine-side copy."""
    engine = Engine(bundle, query="speech")
    x = (np.random.default_rng(1).standard_normal((RATE, 1)) * 0.1).astype(np.float32)
    engine.process(x)
    runner = engine.model.active.runner
    consumed = engine.counters.hops * HOP  # model samples through the step graph
    np.testing.assert_array_equal(runner.audio[0], x[consumed - HOP : consumed, 0])
    assert runner.out is runner._out and runner.audio is runner._audio


@pytest.mark.parametrize("period", [128, 256, 441, 480, 512])
@pytest.mark.parametrize("inline", [False, True])
def test_one_lane_plan_is_the_resampler_plan(bundle, period, inline):
    engine = Engine(bundle, device_rate=48000)
    want = worst_shortfall(48000, RATE, period, HOP, "LQ", in_callback=inline)
    assert shortfall(engine.chain, period, inline) == want
