"""StreamingResUNet: causality, streaming == whole clip, state layout, FiLM, config, cost."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
import torch
from helpers.streaming_models import TINY, force_pass_through, random_model, tiny_config

from livesep.model.streaming import (
    StreamingConfig,
    StreamingResUNet,
    count_macs_per_hop,
    describe,
)
from livesep.stft import CausalISTFT, CausalSTFT

torch.set_num_threads(1)

VARIANTS = {
    "tiny": TINY,
    "concat-nogru": tiny_config(skip="concat", gru_hidden=0),
    "kernel1": tiny_config(time_kernel=1),
    "kernel4-none": tiny_config(time_kernel=4, compress="none"),
    "one-level": tiny_config(widths=(4,)),
}


def _signal(batch: int, n_hops: int, hop: int, seed: int = 1) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return 0.5 * torch.randn(batch, n_hops * hop, generator=gen)  # [B, T]


def _embedding(batch: int, dim: int, seed: int = 2) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    e = torch.randn(batch, dim, generator=gen)
    return e / e.norm(dim=1, keepdim=True)  # [B, D], L2-normalised like the text encoders


def _stream(model: StreamingResUNet, x: torch.Tensor, emb: torch.Tensor, k: int) -> torch.Tensor:
    """Run `step` over x in blocks of k hops; returns the concatenated (delayed) output."""
    hop = model.config.hop
    cond = model.film(emb)
    states = model.init_state(x.shape[0])
    outs = []
    for start in range(0, x.shape[-1], k * hop):
        out, states = model.step(x[:, start : start + k * hop], cond, states)
        outs.append(out)
    return torch.cat(outs, dim=-1)  # [B, T]


@pytest.mark.parametrize("name", list(VARIANTS))
def test_whole_clip_is_causal_after_latency(name: str) -> None:
    model = random_model(VARIANTS[name])
    hop, lat = model.config.hop, model.latency
    x = _signal(1, 24, hop)
    emb = _embedding(1, model.config.embed_dim)
    cut = 12 * hop + 17  # samples >= cut change
    x2 = x.clone()
    x2[:, cut:] = torch.randn(1, x.shape[-1] - cut)
    with torch.no_grad():
        y, y2 = model(x, emb), model(x2, emb)
    # The delayed stream out[n] = y[n - latency] is causal at block granularity: a block of
    # hop samples leaves when its last input sample has arrived, so the change in hop
    # cut // hop may reach that hop's block but nothing before it.
    done = (cut // hop) * hop - lat
    torch.testing.assert_close(y[:, :done], y2[:, :done], rtol=0, atol=1e-6)
    assert (y[:, cut:] - y2[:, cut:]).abs().max() > 1e-3  # the change does reach the output


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("k", [1, 4])
@pytest.mark.parametrize("batch", [1, 2])
def test_step_equals_whole_clip_delayed(name: str, k: int, batch: int) -> None:
    model = random_model(VARIANTS[name])
    hop, lat = model.config.hop, model.latency
    x = _signal(batch, 24, hop)
    emb = _embedding(batch, model.config.embed_dim)
    with torch.no_grad():
        whole = model(x, emb)  # [B, T]
        streamed = _stream(model, x, emb, k)  # [B, T], delayed by `lat`
    assert whole.abs().max() > 1e-2  # not trivially silent
    torch.testing.assert_close(streamed[:, lat:], whole[:, :-lat], rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    "config",
    [
        tiny_config(sample_rate=16000, n_fft=512, hop=160, widths=(4, 8, 8, 8, 8, 8)),
        tiny_config(sample_rate=32000, n_fft=512, hop=160),  # low latency: 352 samples, 11 ms
        tiny_config(sample_rate=32000, n_fft=1024, hop=320, widths=(4, 4, 8, 8, 8)),
    ],
    ids=["16k", "32k-lowlat", "32k"],
)
def test_rates_and_latencies(config: StreamingConfig) -> None:
    model = random_model(config)
    assert model.latency == config.n_fft - config.hop
    x = _signal(2, 12, config.hop)
    emb = _embedding(2, config.embed_dim)
    with torch.no_grad():
        whole = model(x, emb)
        streamed = _stream(model, x, emb, 1)
    torch.testing.assert_close(
        streamed[:, model.latency :], whole[:, : -model.latency], rtol=0, atol=1e-5
    )


def test_pass_through_mask_reconstructs_the_input() -> None:
    model = force_pass_through(random_model())
    x = _signal(1, 20, TINY.hop)
    emb = _embedding(1, TINY.embed_dim)
    # Expected: causal STFT -> iSTFT with the Nyquist bin zeroed (as AudioSep), i.e. the
    # input minus a tiny per-frame Nyquist component.
    stft, istft = CausalSTFT(TINY.n_fft, TINY.hop), CausalISTFT(TINY.n_fft, TINY.hop)
    real, imag = stft(x)
    real[:, -1], imag[:, -1] = 0.0, 0.0
    expected = istft(real, imag, x.shape[-1])
    assert (expected - x).abs().max() < 0.1  # the Nyquist part is small...
    with torch.no_grad():
        whole = model(x, emb)
        streamed = _stream(model, x, emb, 2)
    torch.testing.assert_close(whole, expected, rtol=0, atol=1e-5)  # ...and the rest exact
    torch.testing.assert_close(
        streamed[:, model.latency :], expected[:, : -model.latency], rtol=0, atol=1e-5
    )


@pytest.mark.parametrize("name", list(VARIANTS))
def test_state_shapes_match_specs(name: str) -> None:
    model = random_model(VARIANTS[name])
    specs = model.state_specs()
    assert [n for n, _ in specs] == [f"s{i:02d}" for i in range(len(specs))]
    states = model.init_state(2)
    assert [tuple(s.shape) for s in states] == [(2, *shape) for _, shape in specs]
    assert all(float(s.abs().max()) == 0.0 for s in states)
    cond = model.film(_embedding(2, TINY.embed_dim))
    with torch.no_grad():
        out, new = model.step(_signal(2, 3, TINY.hop), cond, states)
    assert out.shape == (2, 3 * TINY.hop)
    assert [tuple(s.shape) for s in new] == [(2, *shape) for _, shape in specs]
    tail = TINY.n_fft - TINY.hop
    assert specs[0][1] == (tail,) and specs[-1][1] == (tail,)


def test_film_changes_the_output() -> None:
    model = random_model()
    x = _signal(1, 16, TINY.hop).expand(2, -1)
    emb = _embedding(2, TINY.embed_dim)  # two different queries for the same mixture
    with torch.no_grad():
        cond = model.film(emb)
        y = model(x, emb)
    assert cond.shape == (2, model.cond_dim)
    assert (y[0] - y[1]).abs().max() > 1e-3
    # One flat vector of betas: the same embedding gives the same output whatever the batch.
    with torch.no_grad():
        y0 = model(x[:1], emb[:1])
    torch.testing.assert_close(y0[0], y[0], rtol=0, atol=1e-6)


def test_config_round_trip() -> None:
    config = tiny_config(skip="concat", widths=(4, 6, 8))
    d = json.loads(json.dumps(asdict(config)))  # as it travels in a checkpoint / manifest
    back = StreamingConfig.from_dict(d)
    assert back == config and isinstance(back.widths, tuple)
    a = random_model(config)
    b = StreamingResUNet(back).eval()
    b.load_state_dict(a.state_dict())
    x, emb = _signal(1, 8, config.hop), _embedding(1, config.embed_dim)
    with torch.no_grad():
        torch.testing.assert_close(a(x, emb), b(x, emb), rtol=0, atol=0)
    with pytest.raises(ValueError, match="unknown keys"):
        StreamingConfig.from_dict({**d, "bogus": 1})


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"skip": "sum"}, "skip"),
        ({"hop": 0}, "hop"),
        ({"widths": (4, 4, 4, 4, 4, 4, 4, 4, 4)}, "divisible"),
        ({"freq_kernel": 2}, "freq_kernel"),
    ],
)
def test_bad_config_is_rejected(overrides: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        tiny_config(**overrides)


def test_macs_match_hand_count() -> None:
    # One level (bottleneck only), no GRU: W = 16 -> 8 bins, 4 channels, 3x3 kernels.
    config = StreamingConfig(n_fft=16, hop=4, embed_dim=8, widths=(4,), gru_hidden=0)
    model = StreamingResUNet(config).eval()
    pre_conv = 1 * 4 * 8  # 1x1, 1 -> 4 channels, 8 bins
    block = 2 * (4 * 4 * 9 * 8)  # two 3x3 convs 4 -> 4 over 8 bins, identity shortcut
    after = 4 * 3 * 8  # 1x1, 4 -> 3
    dft = 2 * (2 * 9 * 16)  # STFT + iSTFT: 9 bins x (re, im) x 16 taps
    assert count_macs_per_hop(model) == pre_conv + block + after + dft
    with_gru = StreamingResUNet(StreamingConfig(n_fft=16, hop=4, embed_dim=8, widths=(4,)))
    gru = 8 * 3 * 64 * (4 + 64)  # 8 bands x 3 gates x H x (C + H)
    proj = 8 * 64 * 4  # Linear(64 -> 4) per band
    assert count_macs_per_hop(with_gru) == pre_conv + block + after + dft + gru + proj


def test_describe_default_config() -> None:
    text = describe()
    print(text)
    model = StreamingResUNet()
    params = sum(p.numel() for p in model.parameters())
    assert f"{params / 1e6:.3f} M params" in text
    assert f"{count_macs_per_hop(model) / 1e6:.1f} M MACs per hop" in text
    assert "latency 704 samples (22.0 ms)" in text
    assert model.family == "streaming"
