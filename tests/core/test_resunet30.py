"""ResUNet30: checkpoint layout of the released AudioSep separator and its forward behaviour."""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterator

import pytest
import torch
from helpers.resunet30 import TINY, randomize, reference_entries, reference_film_meta

from livesep.errors import AudioError, QueryError
from livesep.model import FiLM, ResUNet30, ResUNet30Config
from livesep.model.dft import FrozenISTFT, FrozenSTFT
from livesep.model.film import film_meta

SR = 32000  # Hz
HOP = 320  # samples
N_FFT = 2048  # samples
WAVE_TOL = 1e-5


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def model() -> ResUNet30:
    """The full-size model, random weights and statistics, eval mode; built once."""
    torch.manual_seed(0)
    m = randomize(ResUNet30())
    assert isinstance(m, ResUNet30)
    return m


def _signal(length: int, batch: int = 1, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return 0.3 * torch.randn(batch, length, generator=gen)  # [B, T]


def _embedding(batch: int = 1, dim: int = 512, seed: int = 1) -> torch.Tensor:
    e = torch.randn(batch, dim, generator=torch.Generator().manual_seed(seed))
    return e / e.norm(dim=-1, keepdim=True)  # [B, D], L2-normalised like CLAP


def _torch_stft(x: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    window = torch.hann_window(n_fft, dtype=torch.float64)
    return torch.stft(x.double(), n_fft, hop, window=window, return_complex=True)  # [B, F, N]


# --- layout ------------------------------------------------------------------------------


def test_state_dict_equals_released_checkpoint(model: ResUNet30) -> None:
    ours = [
        (key, list(value.shape), str(value.dtype).removeprefix("torch."))
        for key, value in model.state_dict().items()
    ]
    reference = reference_entries()
    assert len(reference) == 332
    assert ours == reference  # names, order, shapes and dtypes


def test_film_meta_and_key_names(model: ResUNet30) -> None:
    assert film_meta(model.base) == reference_film_meta()
    assert model.film.meta == reference_film_meta()
    layer = model.film.get_submodule("decoder_block3->conv_block2->beta1")
    assert isinstance(layer, torch.nn.Linear) and layer.weight.shape == (512, 512)


def test_parameter_counts(model: ResUNet30) -> None:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    # Everything in the checkpoint except the DFT matrices and BatchNorm statistics.
    expected = sum(
        math.prod(shape)
        for key, shape, _ in reference_entries()
        if not key.startswith(("base.stft.", "base.istft."))
        and not key.endswith(("running_mean", "running_var", "num_batches_tracked"))
    )
    assert trainable == expected
    assert 26.4e6 < trainable < 26.5e6  # AUDIOSEP.md: 26.4 M trainable
    film = sum(p.numel() for p in model.film.parameters())
    assert 5.05e6 < film < 5.07e6  # AUDIOSEP.md: FiLM 5.06 M
    for frozen in (model.base.stft, model.base.istft):
        assert not any(p.requires_grad for p in frozen.parameters())


def test_family_and_config(model: ResUNet30) -> None:
    assert ResUNet30.family == "resunet30"
    assert model.config == ResUNet30Config()
    cfg = model.config
    assert (cfg.sample_rate, cfg.n_fft, cfg.hop, cfg.condition_size) == (SR, N_FFT, HOP, 512)
    assert cfg.time_factor == 32


# --- the frozen DFT matrices ------------------------------------------------------------


def test_stft_matrices_compute_torch_stft(model: ResUNet30) -> None:
    x = _signal(SR // 4 + 123, batch=2)
    real, imag = model.base.stft(x)  # [B, N, F]
    ref = _torch_stft(x, N_FFT, HOP).transpose(1, 2)  # [B, N, F]
    assert real.shape == ref.shape
    err = (torch.complex(real.double(), imag.double()) - ref).abs().max()
    assert err <= 1e-5 * ref.abs().max()
    # And the magnitude the network sees is |torch.stft| (above the 1e-10 power floor).
    mag = torch.clamp(real**2 + imag**2, min=1e-10).sqrt()
    assert (mag.double() - ref.abs()).abs().max() <= 1e-5 * ref.abs().max()


def test_istft_matrices_invert(model: ResUNet30) -> None:
    length = SR // 4 + 123
    x = _signal(length, batch=2)
    spec = _torch_stft(x, N_FFT, HOP).transpose(1, 2)  # [B, N, F]
    y = model.base.istft(spec.real.float(), spec.imag.float(), length)
    assert y.shape == x.shape
    assert (y - x).abs().max() <= WAVE_TOL
    window = torch.hann_window(N_FFT)
    assert torch.allclose(model.base.istft.ola_window, window**2, atol=1e-7)


def test_loaded_dft_values_are_the_ones_used() -> None:
    n_fft, hop = 256, 64
    x = _signal(1000)
    stft = FrozenSTFT(n_fft, hop)
    real, imag = stft(x)
    state = {key: 2 * value for key, value in stft.state_dict().items()}
    stft.load_state_dict(state)
    real2, imag2 = stft(x)
    assert torch.allclose(real2, 2 * real) and torch.allclose(imag2, 2 * imag)
    istft = FrozenISTFT(n_fft, hop)
    y = istft(real, imag, 1000)
    istft.load_state_dict({key: 3 * value for key, value in istft.state_dict().items()})
    # conv weights x3 and the squared-window normaliser x3 cancel out...
    assert torch.allclose(istft(real, imag, 1000), y, atol=1e-6)
    istft.ola_window.mul_(2)
    # ...until only the normaliser changes.
    assert torch.allclose(istft(real, imag, 1000), y / 2, atol=1e-6)


# --- forward ----------------------------------------------------------------------------


@pytest.mark.parametrize("length", [int(0.3 * SR) + 17, int(1.5 * SR) - 1])
def test_forward_keeps_length_and_is_finite(model: ResUNet30, length: int) -> None:
    assert length % HOP != 0
    with torch.no_grad():
        y = model(_signal(length), _embedding())
    assert y.shape == (1, length)
    assert torch.isfinite(y).all()
    assert y.abs().max() > 0


def test_eval_forward_is_deterministic_and_batch_independent(model: ResUNet30) -> None:
    x = _signal(int(0.3 * SR) + 5, batch=2)
    e = _embedding(batch=2)
    with torch.no_grad():
        y = model(x, e)
        again = model(x, e)
        single = model(x[1:], e[1:])
    assert torch.equal(y, again)
    assert torch.allclose(y[1:], single, atol=1e-5)


def test_query_changes_the_output(model: ResUNet30) -> None:
    x = _signal(int(0.3 * SR))
    with torch.no_grad():
        a = model(x, _embedding(seed=1))
        b = model(x, _embedding(seed=2))
    assert (a - b).abs().max() > 1e-3 * a.abs().max()


def _with_after_conv_bias(model: ResUNet30, bias: tuple[float, float, float]) -> ResUNet30:
    """A copy whose U-Net output is the constant `bias` (mask logit, rotation re, im)."""
    m = copy.deepcopy(model)
    with torch.no_grad():
        m.base.after_conv.weight.zero_()
        m.base.after_conv.bias.copy_(torch.tensor(bias))
    return m


def _without_nyquist(x: torch.Tensor) -> torch.Tensor:
    """x with its STFT's Nyquist bin zeroed, as the model always outputs it."""
    spec = _torch_stft(x, N_FFT, HOP)
    spec[:, -1] = 0
    window = torch.hann_window(N_FFT, dtype=torch.float64)
    return torch.istft(spec, N_FFT, HOP, window=window, length=x.shape[-1]).float()


def test_full_mask_and_zero_rotation_pass_the_mixture(model: ResUNet30) -> None:
    identity = _with_after_conv_bias(model, (30.0, 5.0, 0.0))  # mask 1, rotation angle 0
    x = _signal(int(0.3 * SR) + 17)
    with torch.no_grad():
        y = identity(x, _embedding())
    assert (y - _without_nyquist(x)).abs().max() <= 1e-4 * x.abs().max()


def test_zero_mask_silences(model: ResUNet30) -> None:
    silent = _with_after_conv_bias(model, (-30.0, 5.0, 0.0))  # sigmoid(-30) ~ 1e-13
    x = _signal(int(0.3 * SR))
    with torch.no_grad():
        y = silent(x, _embedding())
    assert y.abs().max() <= 1e-8


def test_rotation_adds_to_the_mixture_phase(model: ResUNet30) -> None:
    # Rotation vector (0, 1): +90 degrees on every bin, so cos(wt) comes out as -sin(wt).
    quarter = _with_after_conv_bias(model, (30.0, 0.0, 5.0))
    t = torch.arange(int(0.4 * SR)) / SR
    freq = 1000.0  # Hz
    x = torch.cos(2 * math.pi * freq * t)[None]  # [1, T]
    with torch.no_grad():
        y = quarter(x, _embedding())
    inner = slice(N_FFT, -N_FFT)  # away from the reflect-padded edges
    expected = -torch.sin(2 * math.pi * freq * t)[None]
    assert (y[:, inner] - expected[:, inner]).abs().max() <= 1e-3


def test_bad_inputs_are_refused(model: ResUNet30) -> None:
    with pytest.raises(AudioError, match="batch, samples"):
        model(torch.zeros(1000 + N_FFT), _embedding())
    with pytest.raises(AudioError, match="too short"):
        model(torch.zeros(1, N_FFT // 2), _embedding())
    with pytest.raises(QueryError, match="512"):
        model(_signal(SR // 10), _embedding(dim=384))


# --- a tiny configuration: training behaviour -------------------------------------------


def test_tiny_config_structure() -> None:
    m = ResUNet30(TINY)
    assert m.config.time_factor == 2
    assert set(m.film.meta) == {
        "encoder_block1",
        "encoder_block2",
        "conv_block7a",
        "decoder_block1",
        "decoder_block2",
    }
    x = _signal(TINY.hop * 10 + 3, batch=2)
    with torch.no_grad():
        y = randomize(m)(x, _embedding(batch=2, dim=TINY.condition_size))
    assert y.shape == x.shape


def test_gradients_reach_trainable_weights_only() -> None:
    torch.manual_seed(0)
    m = ResUNet30(TINY).train()
    x = _signal(TINY.hop * 12 + 3, batch=2)
    e = _embedding(batch=2, dim=TINY.condition_size)
    (m(x, e) - x).abs().mean().backward()
    grads = {name: p.grad for name, p in m.named_parameters()}
    for name in ("base.stft.conv_real.weight", "base.istft.conv_imag.weight"):
        assert grads[name] is None  # frozen DFT matrices
    # The decoders' bn2 and FiLM beta2 are dead in the official design: used nowhere.
    dead = {
        n
        for n in grads
        if re.match(r"base\.decoder_block\d\.bn2\.|film\.decoder_block\d->beta2\.", n)
    }
    assert len(dead) == 2 * 4  # two decoder blocks x (bn2 weight, bias, beta2 weight, bias)
    assert all(grads[n] is None for n in dead)
    live = [n for n, p in m.named_parameters() if p.requires_grad and n not in dead]
    assert all(grads[n] is not None and torch.isfinite(grads[n]).all() for n in live)
    assert grads["base.pre_conv.weight"].abs().sum() > 0
    assert grads["film.encoder_block1->conv_block1->beta1.weight"].abs().sum() > 0


def test_film_outputs_follow_meta() -> None:
    film = FiLM({"a": {"beta1": 3, "b": {"beta2": 5}}}, condition_size=4)
    out = film(torch.randn(2, 4))
    assert out["a"]["beta1"].shape == (2, 3, 1, 1)
    assert out["a"]["b"]["beta2"].shape == (2, 5, 1, 1)
    assert sorted(film.state_dict()) == [
        "a->b->beta2.bias",
        "a->b->beta2.weight",
        "a->beta1.bias",
        "a->beta1.weight",
    ]


def test_invalid_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="one entry per encoder block"):
        ResUNet30Config(channels=(4, 8), pooling=((2, 2),))
    with pytest.raises(ValueError, match="do not divide"):
        ResUNet30Config(n_fft=200, channels=(4,), pooling=((2, 16),))
