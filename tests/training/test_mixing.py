"""AudioSep's mixing recipe and the training-example sampler: invariants."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from helpers.synth_corpus import make_corpus, write_caption_cache

from livesep.training.config import DataConfig, MixConfig
from livesep.training.dataset import (
    CaptionTable,
    Corpus,
    MixtureDataset,
    StepBatchSampler,
    build_caption_table,
    draw_segment,
    load_corpus,
    make_training_example,
    validation_set,
)
from livesep.training.mixing import (
    PEAK_LEVEL,
    band_limit,
    change_speed,
    colour,
    energy,
    match_energy,
    mix_sources,
    random_colour,
    random_speed,
)

RATE = 8000


def _sig(seed: int, n: int = 4000, scale: float = 0.1) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(n) * scale).astype(np.float32)


def test_match_energy_equalises_within_the_clamp() -> None:
    ref, audio = _sig(0, scale=0.1), _sig(1, scale=0.3)
    out = match_energy(audio, ref)
    assert energy(out) == pytest.approx(energy(ref), rel=1e-6)


@pytest.mark.parametrize(("scale", "expected_ratio"), [(200.0, 50.0), (1e-4, 0.02)])
def test_match_energy_ratio_is_clamped(scale: float, expected_ratio: float) -> None:
    ref = _sig(0, scale=0.1)
    audio = _sig(0, scale=0.1 * scale)  # same shape, amplitude ratio `scale`
    out = match_energy(audio, ref)  # divided by the clamped ratio
    np.testing.assert_allclose(out, audio / expected_ratio, rtol=1e-6)


def test_interferer_gain_is_an_integer_db_in_range_and_exact() -> None:
    cfg = MixConfig(level_db_min=0.0, level_db_max=0.0)
    target, noise = _sig(0, scale=0.01), _sig(1, scale=0.05)
    seen = set()
    for seed in range(400):
        m = mix_sources(target, [noise], cfg, np.random.default_rng(seed))
        assert -10 <= m.gain_db <= 10
        seen.add(m.gain_db)
        residual = m.mixture.astype(np.float64) - m.target  # the scaled interferer
        measured_db = 10 * np.log10(energy(residual) / energy(m.target))
        assert measured_db == pytest.approx(m.gain_db, abs=1e-3)
        np.testing.assert_array_equal(m.target, target)  # quiet: no peak guard, level 0 dB
    assert seen == set(range(-10, 11))


def test_several_interferers_sum_is_matched_to_the_target() -> None:
    cfg = MixConfig(level_db_min=0.0, level_db_max=0.0, gain_db_min=0, gain_db_max=0)
    target = _sig(0, scale=0.02)
    m = mix_sources(
        target, [_sig(1, scale=0.5), _sig(2), _sig(3, scale=1e-3)], cfg, np.random.default_rng(0)
    )
    residual = m.mixture.astype(np.float64) - m.target
    assert energy(residual) == pytest.approx(energy(target), rel=1e-5)


def test_peak_guard_scales_mixture_and_target_to_0_9() -> None:
    cfg = MixConfig(level_db_min=0.0, level_db_max=0.0)
    target = np.full(1000, 0.8, np.float32)
    noise = _sig(1, n=1000, scale=1.0)
    for seed in range(20):
        m = mix_sources(target, [noise], cfg, np.random.default_rng(seed))
        peak = np.max(np.abs(m.mixture))
        assert peak <= 1.0
        if np.max(np.abs(target + (m.mixture - m.target))) > 1.0 or peak == pytest.approx(
            PEAK_LEVEL
        ):
            assert peak == pytest.approx(PEAK_LEVEL, rel=1e-6)
            scale = m.target[0] / 0.8  # same factor on mixture and target
            assert scale < 1.0
    # A mixture that certainly clips: target alone peaks at 0.8, interferer at +10 dB.
    loud = MixConfig(level_db_min=0.0, level_db_max=0.0, gain_db_min=10, gain_db_max=10)
    m = mix_sources(target, [noise], loud, np.random.default_rng(0))
    assert np.max(np.abs(m.mixture)) == pytest.approx(PEAK_LEVEL, rel=1e-6)
    unguarded = mix_sources(target * 1e-3, [noise], loud, np.random.default_rng(0))
    factor = m.target[0] / 0.8
    np.testing.assert_allclose(m.mixture, unguarded.mixture * 1e3 * factor, rtol=1e-4, atol=1e-6)


def test_silent_target_is_zero_and_mixture_keeps_the_interferers() -> None:
    cfg = MixConfig()
    m = mix_sources(_sig(0), [_sig(1), _sig(2)], cfg, np.random.default_rng(3), silent=True)
    assert m.silent
    assert not np.any(m.target)
    assert energy(m.mixture) > 1e-4
    assert np.max(np.abs(m.mixture)) <= 1.0


def test_random_level_moves_mixture_and_target_together() -> None:
    cfg = MixConfig(level_db_min=-20.0, level_db_max=-5.0)
    target, noise = _sig(0, scale=0.01), _sig(1, scale=0.01)
    m = mix_sources(target, [noise], cfg, np.random.default_rng(1))
    assert -20.0 <= m.level_db <= -5.0
    np.testing.assert_allclose(m.target, target * 10 ** (m.level_db / 20), rtol=1e-5)


def test_band_limit_removes_everything_above_the_cutoff() -> None:
    x = _sig(0, n=8000, scale=0.3)
    y = band_limit(x, RATE, 1000.0)
    spec_x = np.abs(np.fft.rfft(x))
    spec_y = np.abs(np.fft.rfft(y))
    freqs = np.fft.rfftfreq(x.size, 1 / RATE)
    assert np.max(spec_y[freqs > 1000.0]) < 1e-6 * np.max(spec_x)  # float32 rounding
    np.testing.assert_allclose(spec_y[freqs < 800.0], spec_x[freqs < 800.0], rtol=1e-4, atol=1e-5)


def test_colour_applies_the_tilt_and_peak_it_names() -> None:
    n = RATE  # 1 s: every integer frequency is an exact FFT bin
    t = np.arange(n) / RATE
    tones = {f: np.sin(2 * np.pi * f * t) for f in (250.0, 1000.0, 2000.0)}
    for f, x in tones.items():
        y = colour(x, RATE, tilt_db=2.0, peak_hz=2000.0, peak_db=-6.0, peak_octaves=0.5)
        octaves = np.log2(f / 1000.0)
        expect_db = 2.0 * octaves - 6.0 * np.exp(-0.5 * ((octaves - 1.0) / 0.5) ** 2)
        got_db = 20 * np.log10(np.std(y) / np.std(x))
        assert got_db == pytest.approx(expect_db, abs=0.01), f
    flat = colour(tones[250.0], RATE, 0.0, 1000.0, 0.0, 1.0)
    np.testing.assert_allclose(flat, tones[250.0], atol=1e-9)  # 0 dB: the identity


def test_random_colour_off_draws_nothing_and_on_keeps_the_length() -> None:
    x = _sig(3, n=4000)
    rng, ref = np.random.default_rng(7), np.random.default_rng(7)
    assert random_colour(x, RATE, MixConfig(eq_prob=0.0), rng) is x
    assert rng.random() == ref.random()  # old recipes replay exactly
    y = random_colour(x, RATE, MixConfig(eq_prob=1.0), np.random.default_rng(1))
    assert y.shape == x.shape and y.dtype == x.dtype
    assert not np.allclose(y, x)


def test_colouring_keeps_paired_twins_exact(corpus_table: tuple[Corpus, CaptionTable]) -> None:
    corpus, table = corpus_table
    mix = MixConfig(eq_prob=1.0, interferers_min=2, interferers_max=2)
    for i in range(10):
        ex = make_training_example(corpus, table, mix, 800, np.random.default_rng([9, i]))
        twin = make_training_example(
            corpus, table, mix, 800, np.random.default_rng([9, i]), query_interferer=True
        )
        np.testing.assert_array_equal(ex.mixture, twin.mixture)
        assert twin.cls != ex.cls


def test_change_speed_moves_a_tone_by_the_factor() -> None:
    t = np.arange(2 * RATE) / RATE  # [2 s]
    tone = np.sin(2 * np.pi * 500.0 * t).astype(np.float32)
    for factor in (2.0 ** (-2 / 12), 1.0, 2.0 ** (2 / 12)):
        out = change_speed(tone, factor, RATE)  # the first second at the new speed
        assert out.shape == (RATE,) and out.dtype == np.float32
        peak_hz = np.argmax(np.abs(np.fft.rfft(out))) * RATE / out.size  # 1 Hz bins
        assert peak_hz == pytest.approx(500.0 * factor, abs=1.0)
    np.testing.assert_array_equal(change_speed(tone, 1.0, 100), tone[:100])
    assert np.all(change_speed(tone[:50], 1.0, 100)[50:] == 0.0)  # past the end: silence
    with pytest.raises(ValueError, match="positive factor"):
        change_speed(tone, 0.0, 10)


def test_random_speed_off_draws_nothing_and_on_stays_in_range() -> None:
    rng, ref = np.random.default_rng(7), np.random.default_rng(7)
    assert random_speed(MixConfig(speed_prob=0.0), rng) == 1.0
    assert rng.random() == ref.random()  # old recipes replay exactly
    rng, cfg = np.random.default_rng(1), MixConfig(speed_prob=1.0, speed_semitones=2.0)
    factors = [random_speed(cfg, rng) for _ in range(200)]
    semitones = 12.0 * np.log2(factors)
    assert semitones.min() >= -2.0 and semitones.max() <= 2.0
    assert semitones.min() < -1.5 and semitones.max() > 1.5  # the range is used


def test_speed_change_is_applied_and_keeps_paired_twins_exact(
    corpus_table: tuple[Corpus, CaptionTable],
) -> None:
    corpus, table = corpus_table
    # The same draws (speed_prob 1), once with every factor exactly 1: any difference is the
    # speed change itself.
    still = MixConfig(interferers_min=2, interferers_max=2, speed_prob=1.0, speed_semitones=0.0)
    moved = dataclasses.replace(still, speed_semitones=2.0)
    changed = 0
    for i in range(10):
        rng = [11, i]
        plain = make_training_example(corpus, table, still, 800, np.random.default_rng(rng))
        ex = make_training_example(corpus, table, moved, 800, np.random.default_rng(rng))
        twin = make_training_example(
            corpus, table, moved, 800, np.random.default_rng(rng), query_interferer=True
        )
        assert ex.mixture.shape == (800,) and ex.target.shape == (800,)
        np.testing.assert_array_equal(ex.mixture, twin.mixture)
        changed += not np.allclose(ex.mixture, plain.mixture)
    assert changed == 10


def test_draw_segment_pads_short_clips_and_crops_long_ones() -> None:
    rng = np.random.default_rng(0)
    short = np.ones(100, np.float16)
    seg = draw_segment(short, 400, rng)
    assert seg.shape == (400,) and seg.dtype == np.float32 and seg.sum() == 100
    long = np.arange(1000, dtype=np.float16)
    seg = draw_segment(long, 300, rng)
    assert seg.shape == (300,) and np.all(np.diff(seg) == 1)


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataConfig, Path]:
    root = make_corpus(tmp_path_factory.mktemp("corpus"))
    run = tmp_path_factory.mktemp("run")
    write_caption_cache(run)
    return DataConfig(corpus=str(root), sample_rate=RATE, text_encoder="synthetic"), run


@pytest.fixture(scope="module")
def corpus_table(corpus_run: tuple[DataConfig, Path]) -> tuple[Corpus, CaptionTable]:
    """The synthetic corpus preloaded, with its caption table."""
    cfg, run = corpus_run
    corpus = load_corpus(cfg, cache_dir=run)
    return corpus, build_caption_table(corpus, cfg.text_encoder, run / "embeddings.npz")


def test_corpus_is_preloaded_resampled_and_cached(corpus_run: tuple[DataConfig, Path]) -> None:
    cfg, run = corpus_run
    corpus = load_corpus(cfg, cache_dir=run)
    assert corpus.classes("train") == ["chirp", "noise", "tone"]
    assert corpus.classes("zeroshot") == ["clicks"]
    assert all(a.dtype == np.float16 and a.size == int(1.5 * RATE) for a in corpus.audio)
    assert (run / f"corpus_{RATE}.npy").is_file()
    again = load_corpus(cfg, cache_dir=run)  # from the cache
    for a, b in zip(corpus.audio, again.audio, strict=True):
        np.testing.assert_array_equal(a, b)


def test_class_power_draws_targets_by_their_class_seconds(
    corpus_table: tuple[Corpus, CaptionTable],
) -> None:
    # One class's clips are cut to a quarter: with class_power 0.5 it is drawn half as
    # often as a full class (sqrt(1/4)); with 0, as often.
    corpus, table = corpus_table
    short = dataclasses.replace(
        corpus,
        audio=[
            a[: a.size // 4] if corpus.clips[i].cls == "tone" else a
            for i, a in enumerate(corpus.audio)
        ],
        _weights={},
    )
    w = short.class_weights("train", 0.5)  # over ["chirp", "noise", "tone"]
    np.testing.assert_allclose(w / w[0], [1.0, 1.0, 0.5], rtol=1e-6)
    np.testing.assert_allclose(short.class_weights("train", 0.0), [1 / 3] * 3)
    counts: Counter[str] = Counter()
    mix = MixConfig(class_power=0.5)
    for i in range(400):
        counts[
            make_training_example(short, table, mix, 200, np.random.default_rng([7, i])).cls
        ] += 1
    assert 50 <= counts["tone"] <= 110 and counts["chirp"] > 120  # expected 80 and 160


def test_examples_are_class_balanced_deterministic_and_use_train_captions(
    corpus_table: tuple[Corpus, CaptionTable],
) -> None:
    corpus, table = corpus_table
    mix = MixConfig()
    counts: Counter[str] = Counter()
    silent = 0
    for i in range(300):
        ex = make_training_example(corpus, table, mix, 800, np.random.default_rng([5, i]))
        counts[ex.cls] += 1
        silent += ex.silent
        assert ex.caption_row in table.train_rows[ex.cls]
        assert np.max(np.abs(ex.mixture)) <= 1.0
        if ex.silent:
            assert not np.any(ex.target)
    assert set(counts) == {"chirp", "noise", "tone"}  # never the zero-shot class
    assert min(counts.values()) > 70  # ~100 each
    assert 3 <= silent <= 35  # silence_prob 0.05 of 300
    ds = MixtureDataset(corpus, table, mix, 0.1, seed=5)
    a, b = ds[123], ds[123]
    np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    assert a[2] == b[2]
    assert not np.array_equal(ds[124][0].numpy(), a[0].numpy())


def test_step_sampler_gives_disjoint_indices_per_rank_and_resumes_by_step() -> None:
    full = list(StepBatchSampler(0, 5, 3, rank=1, world_size=2))
    assert full[2] == [15, 16, 17]
    rank0 = {i for batch in StepBatchSampler(0, 5, 3, 0, 2) for i in batch}
    assert rank0.isdisjoint({i for batch in full for i in batch})
    assert list(StepBatchSampler(3, 5, 3, rank=1, world_size=2)) == full[3:]


def test_validation_set_is_fixed_and_covers_val_and_zeroshot(
    corpus_table: tuple[Corpus, CaptionTable],
) -> None:
    corpus, table = corpus_table
    one = validation_set(corpus, table, MixConfig(), 0.25, 2, seed=1)
    two = validation_set(corpus, table, MixConfig(), 0.25, 2, seed=1)
    assert [(v.cls, v.split) for v in one].count(("clicks", "zeroshot")) == 2
    assert {v.cls for v in one} == {"chirp", "noise", "tone", "clicks"}
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a.mixture, b.mixture)
        assert a.caption_row in table.val_rows[a.cls]
        assert a.caption_row not in table.train_rows.get(a.cls, [])


@pytest.mark.parametrize("silent", [False, True])
def test_mixture_is_the_sum_of_target_and_returned_interferers(silent: bool) -> None:
    # Loud sources so the peak guard rescales some draws: the parts must follow it.
    cfg = MixConfig(level_db_min=-6.0, level_db_max=6.0)
    target = _sig(0, scale=0.5)
    noises = [_sig(1, scale=0.2), _sig(2, scale=0.9)]
    for seed in range(50):
        m = mix_sources(target, noises, cfg, np.random.default_rng(seed), silent=silent)
        assert len(m.interferers) == 2
        total = m.target.astype(np.float64) + np.sum(m.interferers, axis=0)
        np.testing.assert_allclose(total, m.mixture, atol=1e-6)
        # Each part keeps its waveform: a positive multiple of its input.
        for part, src in zip(m.interferers, noises, strict=True):
            gain = float(np.dot(part, src) / np.dot(src, src))
            assert gain > 0
            np.testing.assert_allclose(part, gain * src, atol=1e-6)


def test_paired_twins_share_the_mixture_and_query_different_sources(
    corpus_table: tuple[Corpus, CaptionTable],
) -> None:
    corpus, table = corpus_table
    mix = MixConfig(paired=True, interferers_min=1, interferers_max=2, silence_prob=0.2)
    ds = MixtureDataset(corpus, table, mix, 0.1, seed=3)
    row_class = {r: c for c, rows in table.train_rows.items() for r in rows}
    for k in range(40):
        (mix_a, tgt_a, row_a), (mix_b, tgt_b, row_b) = ds[2 * k], ds[2 * k + 1]
        np.testing.assert_array_equal(mix_a.numpy(), mix_b.numpy())
        assert row_class[row_a] != row_class[row_b]  # the twin asks for another class
        assert np.any(tgt_b.numpy())  # an interferer is never silent
        # Target + twin's target never exceed the mixture: the rest is the other parts.
        rest = mix_a.numpy().astype(np.float64) - tgt_a.numpy() - tgt_b.numpy()
        assert energy(rest) < energy(mix_a.numpy()) + 1e-12
    # With one interferer the twins' targets are the whole mixture, exactly.
    one = MixtureDataset(corpus, table, dataclasses.replace(mix, interferers_max=1), 0.1, 3)
    for k in range(20):
        (mixture, tgt_a, _), (_, tgt_b, _) = one[2 * k], one[2 * k + 1]
        np.testing.assert_allclose(mixture.numpy(), (tgt_a + tgt_b).numpy(), atol=1e-6)
    np.testing.assert_array_equal(ds[7][1].numpy(), ds[7][1].numpy())  # deterministic
    unpaired = MixtureDataset(corpus, table, MixConfig(), 0.1, seed=3)
    assert not np.array_equal(unpaired[0][0].numpy(), unpaired[1][0].numpy())


def test_paired_needs_an_even_batch() -> None:
    from livesep.errors import ConfigError
    from livesep.training.config import config_from_dict

    with pytest.raises(ConfigError, match="mix.paired"):
        config_from_dict({"batch_size": 5, "mix": {"paired": True}})
