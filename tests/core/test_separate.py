"""Offline separation with the tiny delay bundle: alignment (identity), rates, channels,
several queries, remove mode, windowed cross-fades, atomic files and every bad input."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from helpers.tiny_bundle import DEFAULT_GAINS, DIM, make_delay_bundle

import livesep
from livesep.audio import read_audio, write_audio
from livesep.errors import AudioError, BundleError, QueryError
from livesep.separate import Separator, WindowEngine, WindowSettings, fade_weights


class StandInEncoder:
    """Text encoder stand-in: every query -> the unit vector e0 (gain 1 in the tiny bundle)."""

    name = "minilm"

    def __init__(self, dim: int = DIM) -> None:
        self.dim = dim
        self.calls: list[list[str]] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.dim), np.float32)
        out[:, 0] = 1.0
        return out


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    root = tmp_path_factory.mktemp("bundles")
    return {
        "chunk": make_delay_bundle(root, name="chunk", chunk_hops=4),
        "step": make_delay_bundle(root, name="step", chunk_hops=None),
        "offline": make_delay_bundle(root, name="offline", step=False, offline=True),
    }


def _noise(channels: int, frames: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal((channels, frames))).astype(np.float32)


def _tones(channels: int, frames: int, rate: int) -> np.ndarray:
    t = np.arange(frames) / rate
    return np.stack(
        [0.3 * np.sin(2 * np.pi * (300 + 200 * c) * t) for c in range(channels)]
    ).astype(np.float32)


@pytest.mark.parametrize("kind", ["chunk", "step"])
@pytest.mark.parametrize("frames", [1, 100, 352, 640, 641, 5000])
def test_streaming_output_is_aligned_identity(bundles, kind, frames):
    # The graph delays by 352 samples; compensation must give the input back exactly.
    x = _noise(2, frames)
    (y,) = Separator(bundles[kind]).separate_array(x, 16000, "speech")
    np.testing.assert_array_equal(y, x)


def test_several_queries_batched_and_remove_mode(bundles):
    x = _noise(2, 3000)
    queries = list(DEFAULT_GAINS)  # speech 1, dog barking 0.25, silence 0
    sep = Separator(bundles["chunk"])
    extracted = sep.separate_array(x, 16000, queries)
    removed = sep.separate_array(x, 16000, queries, mode="remove")
    assert sep._runners.keys() == {6}  # one runner: 3 queries x 2 channels in one batch
    for q, y, r in zip(queries, extracted, removed, strict=True):
        np.testing.assert_allclose(y, DEFAULT_GAINS[q] * x, atol=1e-7)
        np.testing.assert_allclose(r, x - y, atol=1e-7)  # remove = mixture - target


def test_a_removal_phrase_removes_that_query_only(bundles):
    x = _noise(2, 3000)
    sep = Separator(bundles["chunk"])
    speech, without = sep.separate_array(x, 16000, ["speech", "remove dog barking"])
    np.testing.assert_allclose(speech, x, atol=1e-7)  # extract, as asked
    np.testing.assert_allclose(without, 0.75 * x, atol=1e-7)  # mixture - 0.25 mixture
    (still,) = sep.separate_array(x, 16000, ["without dog barking"], mode="remove")
    np.testing.assert_allclose(still, 0.75 * x, atol=1e-7)  # not a double negation


@pytest.mark.parametrize("kind", ["chunk", "step", "offline"])
def test_keep_and_remove_in_one_pass(bundles, kind):
    """The output is the sum of the kept estimates, else the mixture minus the removed
    ones: the tiny model's estimate is gain * x, so the signs show exactly."""
    x = _noise(2, 3000)
    sep = Separator(bundles[kind], encoder=StandInEncoder())
    queries = [
        "speech, not dog barking",  # 1: the kept estimate stands alone
        "keep the drums, speech, remove dog barking",  # new text: e0, gain 1; 1 + 1
        "everything but dog barking",  # 1 - 0.25 (the mixture minus the dog)
        "no speech",  # 1 - 1
        "remove speech, dog barking",  # 1 - 1 - 0.25
        "speech",
    ]
    outputs = sep.separate_array(x, 16000, queries)
    for y, gain in zip(outputs, [1.0, 2.0, 0.75, 0.0, -0.25, 1.0], strict=True):
        np.testing.assert_allclose(y, gain * x, atol=1e-6)
    if kind == "chunk":  # one batch: (1 + 2 + 1 + 1 + 2 + 1) active sounds x 2 channels
        assert sep._runners.keys() == {16}
    request = sep.queries.read_parts(["speech"], ["dog barking"])  # --keep / --remove
    (y,) = sep.separate_array(x, 16000, request)
    np.testing.assert_allclose(y, x, atol=1e-6)


def test_mono_array_shape_kept(bundles):
    x = _noise(1, 1234)[0]
    (y,) = Separator(bundles["chunk"]).separate_array(x, 16000, ["speech"])
    assert y.shape == x.shape
    np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize(("rate", "channels"), [(44100, 2), (8000, 1), (48000, 3)])
def test_other_rates_and_channels_round_trip(bundles, rate, channels):
    x = _tones(channels, rate, rate)  # 1 s of tones well below the model's 8 kHz Nyquist
    (y,) = Separator(bundles["chunk"]).separate_array(x, rate, "speech")
    assert y.shape == x.shape
    edge = rate // 50  # resampler transients at the abrupt start and end
    # A one-sample misalignment of a 700 Hz tone at 48 kHz would leave errors of ~0.03.
    np.testing.assert_allclose(y[:, edge:-edge], x[:, edge:-edge], atol=2e-3)


def test_cached_embeddings_first_then_encoder(bundles):
    encoder = StandInEncoder()
    sep = Separator(bundles["chunk"], encoder=encoder)
    x = _noise(1, 800)
    a, b = sep.separate_array(x, 16000, ["dog barking", "  a new query "])
    np.testing.assert_allclose(a, 0.25 * x, atol=1e-7)
    np.testing.assert_array_equal(b, x)
    assert encoder.calls == [["a new query"]]  # stripped; the cached query never encoded


def test_encoder_dim_mismatch_and_empty_query(bundles):
    sep = Separator(bundles["chunk"], encoder=StandInEncoder(dim=512))
    with pytest.raises(BundleError, match="gives 512-d embeddings, the model expects 384-d"):
        sep.separate_array(_noise(1, 100), 16000, "unknown words")
    with pytest.raises(QueryError, match="empty text query"):
        sep.separate_array(_noise(1, 100), 16000, ["speech", "   "])
    with pytest.raises(QueryError, match="no query"):
        sep.separate_array(_noise(1, 100), 16000, [])
    with pytest.raises(QueryError, match="mode must be one of"):
        sep.separate_array(_noise(1, 100), 16000, "speech", mode="keep")  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="at most 4"):
        sep.separate_array(_noise(1, 100), 16000, "a, b, c, d and the e")


def test_bad_arrays(bundles):
    sep = Separator(bundles["chunk"])
    with pytest.raises(AudioError, match="NaN or Inf"):
        sep.separate_array(np.array([0.0, np.nan]), 16000, "speech")
    with pytest.raises(AudioError, match="empty audio"):
        sep.separate_array(np.zeros(0), 16000, "speech")
    with pytest.raises(AudioError, match="below the 8000 Hz"):
        sep.separate_array(np.zeros(100), 4000, "speech")


# -- windowed (non-causal) separation --------------------------------------------------


def test_fade_weights_sum_to_one_over_overlaps():
    n, o = 100, 30
    w = fade_weights(n, o)
    assert w.min() > 0 and w.max() == 1.0
    np.testing.assert_allclose(w[-o:] + w[:o], 1.0, atol=1e-6)  # complementary ramps


@pytest.mark.parametrize("frames", [5, 99, 100, 101, 170, 171, 1000, 1017])
def test_window_engine_identity(frames):
    # window 100, overlap 30 (stride 70): 170 leaves exactly the overlap for the finish.
    x = _noise(2, frames)
    emb = np.ones((4, 3), np.float32)  # 2 queries x 2 channels
    engine = WindowEngine(lambda m, e: m, emb, channels=2, window=100, overlap=30)
    y = np.concatenate([engine.push(x[:, i : i + 37]) for i in range(0, frames, 37)], axis=1)
    y = np.concatenate([y, engine.finish()], axis=1)
    np.testing.assert_allclose(y, np.tile(x, (2, 1)), atol=1e-6)


def test_window_joins_are_cross_faded_not_spliced():
    # Each window returns a constant: its own index. A hard splice would jump by 1 at a
    # join; a cross-fade moves by at most 1/overlap per sample.
    calls = []

    def fn(mixture, embedding):
        calls.append(mixture.shape[1])
        return np.full_like(mixture, len(calls) - 1)

    engine = WindowEngine(fn, np.ones((1, 3), np.float32), 1, window=100, overlap=40)
    y = np.concatenate([engine.push(np.zeros((1, 500), np.float32)), engine.finish()], axis=1)
    assert y.shape == (1, 500) and len(calls) == 8
    assert np.abs(np.diff(y[0])).max() <= 1 / 40 + 1e-6
    assert y[0, 0] == 0 and y[0, -1] == len(calls) - 1


def test_window_short_input_padded_to_min_length_not_silent():
    def fn(mixture, embedding):
        assert mixture.shape[1] >= 64, "model refuses short input"
        return mixture * 2

    x = _noise(1, 10)
    engine = WindowEngine(fn, np.ones((1, 3), np.float32), 1, 100, 30, min_length=64)
    y = np.concatenate([engine.push(x), engine.finish()], axis=1)
    np.testing.assert_allclose(y, 2 * x, atol=1e-7)


@pytest.mark.parametrize("seconds", [0.2, 0.5, 2.3])
def test_offline_bundle_windows(bundles, seconds):
    sep = Separator(bundles["offline"], window=WindowSettings(window_s=0.5, overlap_s=0.125))
    x = _noise(2, int(seconds * 16000))
    y, r = sep.separate_array(x, 16000, ["speech", "dog barking"], mode="remove")
    np.testing.assert_allclose(y, 0 * x, atol=1e-6)  # remove a gain-1 target: nothing left
    np.testing.assert_allclose(r, 0.75 * x, atol=1e-6)


# -- files -------------------------------------------------------------------------------


def test_separate_file_outputs(bundles, tmp_path):
    x = _noise(2, 7000)
    src = write_audio(tmp_path / "in.wav", x, 16000)
    seen = []
    outs = Separator(bundles["chunk"]).separate_file(
        src,
        ["speech", "dog barking"],
        [tmp_path / "a.wav", tmp_path / "b.flac"],
        progress=seen.append,
    )
    assert sum(seen) == 7000
    a, rate_a = read_audio(outs[0])
    b, rate_b = read_audio(outs[1])
    assert rate_a == rate_b == 16000
    np.testing.assert_array_equal(a, x)
    np.testing.assert_allclose(b, 0.25 * x, atol=2**-22)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "b.flac", "in.wav"]


def test_file_keeps_rate_channels_length(bundles, tmp_path):
    x = _tones(2, 30_000, 22050)
    src = tmp_path / "in.flac"
    sf.write(src, x.T, 22050)
    (out,) = Separator(bundles["chunk"]).separate_file(src, "speech", tmp_path / "out.wav")
    info = sf.info(str(out))
    assert (info.samplerate, info.channels, info.frames) == (22050, 2, 30_000)


def test_failure_mid_file_leaves_no_output(bundles, tmp_path):
    x = np.zeros((200_000, 1), np.float32)
    x[150_000] = np.inf  # found only in a late block, after outputs were started
    sf.write(tmp_path / "bad.wav", x, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"bad\.wav: contains NaN or Inf"):
        Separator(bundles["chunk"]).separate_file(
            tmp_path / "bad.wav", ["speech", "silence"], [tmp_path / "o1.wav", tmp_path / "o2.wav"]
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.wav"]


def test_file_output_rules(bundles, tmp_path):
    sep = Separator(bundles["chunk"])
    src = write_audio(tmp_path / "in.wav", _noise(1, 500), 16000)
    before = src.read_bytes()
    with pytest.raises(AudioError, match="would overwrite the input"):
        sep.separate_file(src, "speech", src, overwrite=True)
    existing = write_audio(tmp_path / "out.wav", _noise(1, 10), 16000)
    with pytest.raises(AudioError, match="output exists"):
        sep.separate_file(src, "speech", existing)
    with pytest.raises(AudioError, match="same output"):
        sep.separate_file(src, ["speech", "silence"], [tmp_path / "x.wav", tmp_path / "x.wav"])
    with pytest.raises(QueryError, match="2 queries but 1 outputs"):
        sep.separate_file(src, ["speech", "silence"], [tmp_path / "y.wav"])
    with pytest.raises(QueryError, match="empty text query"):
        sep.separate_file(src, [" "], [tmp_path / "z.wav"])
    assert src.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav", "out.wav"]
    sep.separate_file(src, "silence", existing, overwrite=True)
    assert not read_audio(existing)[0].any() and read_audio(existing)[0].shape == (1, 500)


def test_module_is_callable_api(bundles, tmp_path):
    x = _noise(1, 900)
    (y,) = livesep.separate(x, "speech", sample_rate=16000, model=bundles["chunk"])
    np.testing.assert_array_equal(y, x)
    src = write_audio(tmp_path / "in.wav", x, 16000)
    (out,) = livesep.separate(src, "speech", tmp_path / "o.wav", model=bundles["chunk"].path)
    np.testing.assert_array_equal(read_audio(out)[0], x)
    with pytest.raises(AudioError, match="needs sample_rate"):
        livesep.separate(x, "speech", model=bundles["chunk"])


def test_default_bundle_missing_is_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setenv("LIVESEP_BUNDLE", str(tmp_path / "models" / "default"))
    with pytest.raises(BundleError, match="no default bundle here"):
        Separator()
    with pytest.raises(BundleError, match="not both"):
        Separator(bundle=tmp_path, checkpoint=tmp_path / "x.ckpt")


@pytest.mark.slow
def test_audiosep_checkpoint_windows(tmp_path):
    # A randomly initialised ResUNet30 saved the way the released Lightning checkpoint is.
    import torch

    from livesep.model import ResUNet30

    torch.manual_seed(0)
    torch.set_num_threads(1)
    state = {f"ss_model.{k}": v for k, v in ResUNet30().state_dict().items()}
    torch.save({"state_dict": state}, tmp_path / "audiosep.ckpt")
    sep = Separator(
        checkpoint=tmp_path / "audiosep.ckpt",
        encoder=StandInEncoder(dim=512),
        window=WindowSettings(window_s=1.0, overlap_s=0.25),
    )
    for frames in (500, 44100 * 2 + 7):  # shorter than n_fft; several windows at 44.1 kHz
        x = _tones(2, frames, 44100)
        (y,) = sep.separate_array(x, 44100, "a tone")
        assert y.shape == x.shape and np.all(np.isfinite(y))
        assert np.abs(y).max() > 0  # short inputs are not returned silent
