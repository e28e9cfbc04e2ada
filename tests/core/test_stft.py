"""livesep.stft: parity with torch.stft/istft, perfect reconstruction, causal framing."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest
import torch
from torch import nn

from livesep.stft import (
    ISTFT,
    STFT,
    CausalFrameISTFT,
    CausalISTFT,
    CausalSTFT,
    causal_latency,
    causal_num_frames,
)

# (n_fft, hop) in samples: the AudioSep setting, the streaming defaults and smaller ones.
SETTINGS = [(2048, 320), (1024, 320), (512, 160), (256, 80)]
SPEC_TOL = 1e-5  # relative to the spectrum's largest magnitude
WAVE_TOL = 1e-5  # absolute, for signals of unit scale


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@functools.cache
def _make(cls: type[nn.Module], n_fft: int, hop: int) -> nn.Module:
    """Modules are stateless: build each (class, n_fft, hop) once (the DFT kernels cost)."""
    return cls(n_fft, hop)


def _signal(length: int, batch: int = 2, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, length, generator=gen) * 0.5  # [B, T]


def _torch_stft(x: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    window = torch.hann_window(n_fft, dtype=torch.float64)
    return torch.stft(
        x.double(), n_fft, hop, window=window, center=True, pad_mode="reflect", return_complex=True
    )  # [B, F, N]


@pytest.mark.parametrize(("n_fft", "hop"), SETTINGS)
def test_stft_matches_torch(n_fft: int, hop: int) -> None:
    x = _signal(3 * n_fft + 37)
    real, imag = _make(STFT, n_fft, hop)(x)
    ref = _torch_stft(x, n_fft, hop)
    assert real.shape == ref.shape
    err = (torch.complex(real.double(), imag.double()) - ref).abs().max()
    assert err <= SPEC_TOL * ref.abs().max()


@pytest.mark.parametrize(("n_fft", "hop"), SETTINGS)
def test_istft_matches_torch_on_modified_spectrum(n_fft: int, hop: int) -> None:
    # A masked spectrum is not the STFT of any signal: both must do the same windowed
    # overlap-add and window-square normalisation, not just invert consistent spectra.
    length = 3 * n_fft + 37
    spec = _torch_stft(_signal(length), n_fft, hop)
    spec = spec * torch.rand(spec.shape, generator=torch.Generator().manual_seed(1))
    window = torch.hann_window(n_fft, dtype=torch.float64)
    ref = torch.istft(spec, n_fft, hop, window=window, center=True, length=length)
    y = _make(ISTFT, n_fft, hop)(spec.real.float(), spec.imag.float(), length)
    assert y.shape == ref.shape
    assert (y.double() - ref).abs().max() <= WAVE_TOL


@pytest.mark.parametrize(("n_fft", "hop"), SETTINGS)
def test_stft_istft_perfect_reconstruction(n_fft: int, hop: int) -> None:
    for length in (n_fft + 1, 4 * n_fft + hop // 3):
        x = _signal(length)
        real, imag = _make(STFT, n_fft, hop)(x)
        y = _make(ISTFT, n_fft, hop)(real, imag, length)
        assert y.shape == x.shape
        assert (y - x).abs().max() <= WAVE_TOL


@pytest.mark.parametrize(("n_fft", "hop"), SETTINGS)
def test_causal_whole_clip_reconstructs(n_fft: int, hop: int) -> None:
    length = 3 * n_fft + 11
    x = _signal(length)
    real, imag = _make(CausalSTFT, n_fft, hop)(x)
    assert real.shape[-1] == causal_num_frames(length, n_fft, hop)
    y = _make(CausalISTFT, n_fft, hop)(real, imag, length)
    assert (y - x).abs().max() <= WAVE_TOL


def _stream(real: torch.Tensor, imag: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """Run CausalFrameISTFT one frame at a time; returns the concatenated output [B, N*hop]."""
    frame_istft = _make(CausalFrameISTFT, n_fft, hop)
    ola = torch.zeros(real.shape[0], n_fft - hop)  # [B, W - hop]
    outs = []
    for t in range(real.shape[-1]):
        out, ola = frame_istft(real[..., t : t + 1], imag[..., t : t + 1], ola)
        outs.append(out)
    return torch.cat(outs, dim=-1)


@pytest.mark.parametrize(("n_fft", "hop"), SETTINGS)
def test_frame_istft_equals_whole_clip_after_latency(n_fft: int, hop: int) -> None:
    length = 2 * n_fft + 7 * hop + 5
    x = _signal(length)
    real, imag = _make(CausalSTFT, n_fft, hop)(x)
    # Modify the spectrum so that the comparison is not merely "both reconstruct x".
    gain = torch.rand(real.shape, generator=torch.Generator().manual_seed(2))
    real, imag = real * gain, imag * gain
    whole = _make(CausalISTFT, n_fft, hop)(real, imag, length)  # [B, T]
    streamed = _stream(real, imag, n_fft, hop)  # [B, N * hop]
    latency = causal_latency(n_fft, hop)
    assert latency == n_fft - hop
    assert streamed.shape[-1] >= latency + length
    assert (streamed[:, latency : latency + length] - whole).abs().max() <= WAVE_TOL


@pytest.mark.parametrize(("n_fft", "hop"), SETTINGS)
def test_causal_path_ignores_the_future(n_fft: int, hop: int) -> None:
    length = 3 * n_fft
    cut = (n_fft // hop + 2) * hop  # input changes from this sample on (a multiple of hop)
    x = _signal(length)
    x2 = x.clone()
    x2[:, cut:] = _signal(length - cut, seed=7)
    real, imag = _make(CausalSTFT, n_fft, hop)(x)
    real2, imag2 = _make(CausalSTFT, n_fft, hop)(x2)
    done = cut // hop  # frames 0..done-1 end at or before `cut`
    assert torch.equal(real[..., :done], real2[..., :done])
    assert torch.equal(imag[..., :done], imag2[..., :done])
    assert not torch.allclose(real[..., done], real2[..., done])
    # The stream's output up to `cut` (delayed input) is unchanged too.
    out = _stream(real, imag, n_fft, hop)
    out2 = _stream(real2, imag2, n_fft, hop)
    assert torch.equal(out[:, :cut], out2[:, :cut])


@pytest.mark.parametrize("hop", [0, -1, 300])
def test_bad_hop_is_refused(hop: int) -> None:
    for cls in (STFT, ISTFT, CausalSTFT, CausalISTFT, CausalFrameISTFT):
        with pytest.raises(ValueError, match="hop"):
            cls(256, hop)


def test_non_invertible_window_hop_is_refused() -> None:
    # Hann with hop = W has zero window-square sum at frame edges: cannot be inverted.
    with pytest.raises(ValueError, match="NOLA"):
        CausalISTFT(256, 256)
