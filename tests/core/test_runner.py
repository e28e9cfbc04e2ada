"""StepRunner / OfflineRunner on the tiny delay bundle: exact outputs, state carry, reset."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from helpers.tiny_bundle import delay_reference, make_delay_bundle

from livesep.errors import LivesepError
from livesep.runner import CPU, CUDA, OfflineRunner, StepRunner, resolve_providers


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_delay_bundle(tmp_path_factory.mktemp("b"), offline=True)


def _two_queries(bundle):
    return np.stack([bundle.embeddings["speech"], bundle.embeddings["dog barking"]])


@pytest.mark.parametrize("graph", ["step", "chunk"])
@pytest.mark.parametrize("io_binding", [True, False])
def test_output_is_delayed_input_times_gain(bundle, graph, io_binding):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 16 * 160)).astype(np.float32)
    runner = StepRunner(bundle, graph=graph, batch=2, io_binding=io_binding)
    runner.set_embedding(_two_queries(bundle))
    # Two calls of different lengths: state must carry across calls.
    y = np.concatenate([runner.process(x[:, :640]), runner.process(x[:, 640:])], axis=1)
    np.testing.assert_array_equal(y, delay_reference(x, [1.0, 0.25], bundle.latency))
    assert runner.latency == bundle.latency_samples == 352
    np.testing.assert_array_equal(runner.states()["s01"], [[16.0], [16.0]])


def test_step_and_chunk_agree_and_reset(bundle):
    x = np.random.default_rng(1).standard_normal((1, 8 * 160)).astype(np.float32)
    step = StepRunner(bundle, graph="step")
    chunk = StepRunner(bundle, graph="chunk")
    for r in (step, chunk):
        r.set_embedding(bundle.embeddings["speech"])
    out = np.empty((1, 8 * 160), np.float32)
    assert step.process(x, out=out) is out
    np.testing.assert_array_equal(out, chunk.process(x))
    for name, value in step.states().items():
        np.testing.assert_array_equal(value, chunk.states()[name])
    step.reset()
    assert all(not v.any() for v in step.states().values())
    np.testing.assert_array_equal(step.process(x), out)  # same as from a fresh start


def test_one_embedding_broadcasts_and_set_cond(bundle):
    runner = StepRunner(bundle, batch=3)
    runner.set_embedding(bundle.embeddings["dog barking"])
    x = np.ones((3, 160), np.float32)
    runner.process(x)
    runner.set_cond(np.full(bundle.cond_dim, 2.0, np.float32))
    y = runner.process(x)  # the second hop: delayed ones are still zeros (latency 352)
    np.testing.assert_array_equal(y, 0.0)
    y = runner.process(np.ones((3, 320), np.float32))
    # samples 352.. of the stream are ones times the current gain 2
    np.testing.assert_array_equal(y[:, -(3 * 160 - 352) :], 2.0)


def test_bad_calls(bundle):
    runner = StepRunner(bundle, graph="chunk", batch=2)
    with pytest.raises(RuntimeError, match="set_embedding"):
        runner.process(np.zeros((2, 640), np.float32))
    runner.set_embedding(_two_queries(bundle))
    with pytest.raises(ValueError, match=r"k\*640"):
        runner.process(np.zeros((2, 160), np.float32))
    with pytest.raises(ValueError, match=r"\[2, k\*640\]"):
        runner.process(np.zeros((1, 640), np.float32))
    with pytest.raises(ValueError, match="embedding must be"):
        runner.set_embedding(np.zeros((2, 10), np.float32))


def test_provider_choice_is_reported():
    wanted, strict = resolve_providers(None)
    cuda = CUDA in ort.get_available_providers()
    assert wanted == ([CUDA, CPU] if cuda else [CPU]) and not strict
    assert resolve_providers(["cpu"]) == ([CPU], False)
    if not cuda:
        with pytest.raises(LivesepError, match="CUDAExecutionProvider requested"):
            resolve_providers(["cuda"])


def test_runner_provider_attribute(bundle):
    runner = StepRunner(bundle, providers=["cpu"])
    assert runner.provider == CPU and runner.device == "cpu"


def test_offline_runner(bundle):
    x = np.random.default_rng(2).standard_normal((2, 1000)).astype(np.float32)
    est = OfflineRunner(bundle)(x, _two_queries(bundle))
    np.testing.assert_allclose(est, x * np.array([[1.0], [0.25]], np.float32), rtol=1e-6)


@pytest.mark.parametrize("io_binding", [True, False])
def test_load_states_continues_another_runners_stream(bundle, io_binding):
    """A second runner loaded with the first one's states produces the same continuation."""
    x = np.random.default_rng(3).standard_normal((1, 20 * bundle.hop)).astype(np.float32)
    first = StepRunner(bundle, io_binding=io_binding)
    second = StepRunner(bundle, io_binding=io_binding)
    for runner in (first, second):
        runner.set_embedding(np.eye(1, bundle.encoder_dim, dtype=np.float32))
    first.process(x[:, : 10 * bundle.hop])
    second.load_states(first.states())
    tail = x[:, 10 * bundle.hop :]
    np.testing.assert_array_equal(second.process(tail), first.process(tail))
    with pytest.raises(ValueError, match="shape"):
        second.load_states({name: v[:, :1] for name, v in first.states().items()})
