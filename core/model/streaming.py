"""StreamingResUNet: AudioSep's ResUNet made causal in time and sized for CPU real time.

Same design as ResUNet30 (magnitude BatchNorm, pre-conv, residual conv blocks with
BatchNorm + FiLM beta + LeakyReLU, frequency pooling, transposed-conv decoder with skips,
magnitude mask + phase rotation), with three changes that make it streamable:

- the STFT is causal (`livesep.stft.CausalSTFT`: frame t ends at sample (t + 1) * hop);
- every convolution sees only the past in time (its `time_kernel - 1` frames of padding
  stand before the signal); pooling and upsampling act on frequency only, never on time;
- the bottleneck may carry a band-wise GRU (one GRU shared across frequency bands, each
  band with its own hidden state), which gives unbounded causal time context cheaply.

Two ways to run the same network, with identical results:
- `forward(mixture[B, T], embedding[B, D]) -> [B, T]`: whole clip, aligned (training);
- `step(audio[B, k*hop], cond[B, C], states) -> (out[B, k*hop], states')`: one block of k
  hops with explicit state (streaming, ONNX export). `out` is the whole-clip output delayed
  by `latency = n_fft - hop` samples.

Tensor layout inside the U-Net: [B, C, T, F] (frames x frequency bins).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from livesep.stft import CausalISTFT, CausalSTFT, causal_latency

__all__ = ["StreamingConfig", "StreamingResUNet", "describe", "count_macs_per_hop"]

BN_MOMENTUM = 0.01  # as AudioSep
MAG_EPS = 1e-10  # floor on |X|^2 before the square root (the feature path only)
ROT_EPS = 1e-8  # clamp of the mask-phase norm before normalising it to unit length


@dataclass
class StreamingConfig:
    """Hyperparameters of a StreamingResUNet; travels inside checkpoints as `asdict`."""

    sample_rate: int = 32000  # Hz
    n_fft: int = 1024  # samples, STFT window = DFT size (32 ms at 32 kHz)
    hop: int = 320  # samples (10 ms at 32 kHz)
    embed_dim: int = 384  # text embedding size (MiniLM 384, CLAP 512)
    # Channels per U-Net level, top (full frequency resolution) to bottleneck; each level but
    # the bottleneck halves the frequency bins.
    widths: tuple[int, ...] = (16, 32, 64, 96, 128)
    time_kernel: int = 3  # frames seen by each conv (causal: the current and past ones)
    freq_kernel: int = 3  # bins, symmetric
    skip: str = "add"  # "add" | "concat": how decoder levels take the encoder skips
    gru_hidden: int = 64  # band-wise bottleneck GRU size; 0 = no GRU
    leaky_slope: float = 0.01
    compress: str = "log1p"  # "log1p" | "none": magnitude feature before the input BatchNorm

    def __post_init__(self) -> None:
        # JSON round trips turn tuples into lists.
        self.widths = tuple(int(w) for w in self.widths)
        if self.skip not in ("add", "concat"):
            raise ValueError(f"StreamingConfig.skip must be 'add' or 'concat', got {self.skip!r}")
        if self.compress not in ("log1p", "none"):
            raise ValueError(
                f"StreamingConfig.compress must be 'log1p' or 'none', got {self.compress!r}"
            )
        if not 0 < self.hop <= self.n_fft:
            raise ValueError(
                f"StreamingConfig needs 0 < hop <= n_fft, got {self.hop}, {self.n_fft}"
            )
        if self.time_kernel < 1 or self.freq_kernel % 2 != 1:
            raise ValueError("StreamingConfig needs time_kernel >= 1 and an odd freq_kernel")
        if not self.widths:
            raise ValueError("StreamingConfig.widths must name at least one level")
        pooled = 2 ** (len(self.widths) - 1)  # one frequency pooling per level but the last
        if self.n_bins % pooled != 0:
            raise ValueError(
                f"StreamingConfig: {self.n_bins} bins (n_fft // 2) not divisible by {pooled} "
                f"(2 ** {len(self.widths) - 1} poolings)"
            )

    @property
    def n_bins(self) -> int:
        """Frequency bins through the U-Net: n_fft // 2 (the Nyquist bin is dropped)."""
        return self.n_fft // 2

    @property
    def latency(self) -> int:
        """Algorithmic latency in samples: the causal STFT -> iSTFT chain's W - hop."""
        return causal_latency(self.n_fft, self.hop)

    @classmethod
    def from_dict(cls, d: dict) -> StreamingConfig:
        """Inverse of `asdict`; unknown keys are an error (a checkpoint from another model)."""
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"StreamingConfig: unknown keys {sorted(unknown)}")
        return cls(**d)


class _States:
    """Reads a flat state list in order and collects the new states in the same order.

    Every stateful layer calls `take()` once per run, so the flat order is fixed by the
    (static) order in which the layers run.
    """

    def __init__(self, states: list[torch.Tensor]) -> None:
        self._it: Iterator[torch.Tensor] = iter(states)
        self.out: list[torch.Tensor] = []

    def take(self) -> torch.Tensor:
        return next(self._it)

    def put(self, state: torch.Tensor) -> None:
        self.out.append(state)


class _Film:
    """Slices a layer's FiLM beta out of the flat condition vector."""

    def __init__(self, cond: torch.Tensor) -> None:
        self.cond = cond  # [B, C_total]

    def beta(self, offset: int, width: int) -> torch.Tensor:
        return self.cond[:, offset : offset + width, None, None]  # [B, width, 1, 1]


class CausalConv2d(nn.Module):
    """Conv2d over [B, C, T, F]: past-only in time, 'same' in frequency, no bias.

    The conv caches its last `time_kernel - 1` input frames; a whole clip starts from a
    zero cache, which is exactly zero padding on the past side.
    """

    def __init__(
        self, c_in: int, c_out: int, bins: int, time_kernel: int, freq_kernel: int
    ) -> None:
        super().__init__()
        self.context = time_kernel - 1  # frames
        self.state_shape = (c_in, self.context, bins)  # the cache, without batch
        self.conv = nn.Conv2d(
            c_in, c_out, (time_kernel, freq_kernel), padding=(0, freq_kernel // 2), bias=False
        )

    def forward(self, x: torch.Tensor, states: _States) -> torch.Tensor:
        if self.context == 0:
            return self.conv(x)
        x = torch.cat([states.take(), x], dim=2)  # [B, C_in, ctx + T, F]
        states.put(x[:, :, -self.context :])  # [B, C_in, ctx, F]
        return self.conv(x)  # [B, C_out, T, F]


class _FilmAct(nn.Module):
    """BatchNorm + FiLM additive beta + LeakyReLU (AudioSep's pre-activation)."""

    def __init__(self, channels: int, slope: float, film_offset: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, momentum=BN_MOMENTUM)
        self.slope = slope
        self.channels = channels
        self.film_offset = film_offset

    def forward(self, x: torch.Tensor, film: _Film) -> torch.Tensor:
        x = self.bn(x) + film.beta(self.film_offset, self.channels)  # [B, C, T, F]
        return F.leaky_relu(x, self.slope)


class ConvBlock(nn.Module):
    """Residual block: (BN + beta + act -> causal conv) twice, plus a 1x1 shortcut."""

    def __init__(
        self, c_in: int, c_out: int, bins: int, cfg: StreamingConfig, layout: _CondLayout
    ) -> None:
        super().__init__()
        kt, kf = cfg.time_kernel, cfg.freq_kernel
        self.act1 = _FilmAct(c_in, cfg.leaky_slope, layout.add(c_in))
        self.conv1 = CausalConv2d(c_in, c_out, bins, kt, kf)
        self.act2 = _FilmAct(c_out, cfg.leaky_slope, layout.add(c_out))
        self.conv2 = CausalConv2d(c_out, c_out, bins, kt, kf)
        self.shortcut = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, film: _Film, states: _States) -> torch.Tensor:
        h = self.conv1(self.act1(x, film), states)  # [B, C_out, T, F]
        h = self.conv2(self.act2(h, film), states)  # [B, C_out, T, F]
        return self.shortcut(x) + h


class DecoderBlock(nn.Module):
    """BN + beta + act -> transposed conv x2 in frequency -> skip add/concat -> ConvBlock."""

    def __init__(
        self, c_in: int, c_out: int, bins: int, cfg: StreamingConfig, layout: _CondLayout
    ) -> None:
        """`bins`: frequency bins after upsampling (the skip's)."""
        super().__init__()
        self.act = _FilmAct(c_in, cfg.leaky_slope, layout.add(c_in))
        self.up = nn.ConvTranspose2d(c_in, c_out, kernel_size=(1, 2), stride=(1, 2), bias=False)
        self.concat = cfg.skip == "concat"
        self.block = ConvBlock(2 * c_out if self.concat else c_out, c_out, bins, cfg, layout)

    def forward(
        self, x: torch.Tensor, skip: torch.Tensor, film: _Film, states: _States
    ) -> torch.Tensor:
        x = self.up(self.act(x, film))  # [B, C_out, T, 2F]
        x = torch.cat([x, skip], dim=1) if self.concat else x + skip  # [B, C_out(*2), T, 2F]
        return self.block(x, film, states)  # [B, C_out, T, 2F]


class BandGRU(nn.Module):
    """One GRU shared across frequency bands, each band with its own hidden state.

    Residual: x + proj(gru(x)). Whole clips use `nn.GRU`; steps unroll the same cell in
    plain tensor ops (exportable, no ONNX GRU/Loop op), with identical weights.
    """

    def __init__(self, channels: int, hidden: int, bands: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.state_shape = (bands, hidden)  # one hidden state per band, without batch
        self.gru = nn.GRU(channels, hidden, batch_first=True)
        self.proj = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor, states: _States, unrolled: bool) -> torch.Tensor:
        # Reshapes use -1 for the batch axis so an exported graph keeps it dynamic without
        # shape arithmetic.
        _, c, t, f = x.shape
        seq = x.permute(0, 3, 2, 1).reshape(-1, t, c)  # [B*F, T, C]
        h0 = states.take().reshape(-1, self.hidden)  # [B*F, H]
        if unrolled:
            y, h = self._unrolled(seq, h0)  # [B*F, T, H], [B*F, H]
        else:
            y, h_n = self.gru(seq, h0.unsqueeze(0))  # [B*F, T, H], [1, B*F, H]
            h = h_n[0]
        states.put(h.reshape(-1, f, self.hidden))  # [B, F, H]
        y = self.proj(y)  # [B*F, T, C]
        return x + y.reshape(-1, f, t, c).permute(0, 3, 2, 1)  # [B, C, T, F]

    def _unrolled(self, seq: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """PyTorch's GRU equations (gate order r, z, n), one frame at a time."""
        w_ih, w_hh, b_ih, b_hh = self.gru.all_weights[0]  # layer 0: [3H, C], [3H, H], [3H] x 2
        gi_all = F.linear(seq, w_ih, b_ih)  # [B*F, T, 3H]
        outs = []
        for i in range(seq.shape[1]):  # static: T = k frames per step
            gi = gi_all[:, i]  # [B*F, 3H]
            gh = F.linear(h, w_hh, b_hh)  # [B*F, 3H]
            i_r, i_z, i_n = gi.chunk(3, dim=1)
            h_r, h_z, h_n = gh.chunk(3, dim=1)
            r = torch.sigmoid(i_r + h_r)
            z = torch.sigmoid(i_z + h_z)
            n = torch.tanh(i_n + r * h_n)
            h = (1 - z) * n + z * h  # [B*F, H]
            outs.append(h)
        return torch.stack(outs, dim=1), h  # [B*F, T, H], [B*F, H]


class _CondLayout:
    """Hands out consecutive slices of the flat FiLM condition vector."""

    def __init__(self) -> None:
        self.size = 0

    def add(self, width: int) -> int:
        offset = self.size
        self.size += width
        return offset


class StreamingResUNet(nn.Module):
    """Causal ResUNet with FiLM text conditioning and an explicit streaming state.

    Attributes:
        config: the StreamingConfig it was built from.
        latency: algorithmic latency in samples (n_fft - hop).
        cond_dim: size of the flat FiLM condition vector `film(embedding)`.
    """

    family = "streaming"

    def __init__(self, config: StreamingConfig | None = None) -> None:
        super().__init__()
        cfg = StreamingConfig() if config is None else config
        self.config = cfg
        self.latency = cfg.latency  # samples
        self.stft = CausalSTFT(cfg.n_fft, cfg.hop)
        self.istft = CausalISTFT(cfg.n_fft, cfg.hop)
        self.bn0 = nn.BatchNorm2d(cfg.n_bins, momentum=BN_MOMENTUM)
        self.pre_conv = nn.Conv2d(1, cfg.widths[0], 1)

        # Levels: widths[:-1] are encoder/decoder levels (each followed by a frequency
        # pooling by 2), widths[-1] is the bottleneck. Modules are registered in the order
        # they run: `state_specs` relies on it.
        layout = _CondLayout()
        levels = cfg.widths[:-1]
        self.encoder = nn.ModuleList()
        c_prev = cfg.widths[0]
        for i, width in enumerate(levels):
            self.encoder.append(ConvBlock(c_prev, width, cfg.n_bins // 2**i, cfg, layout))
            c_prev = width
        bands = cfg.n_bins // 2 ** len(levels)  # frequency bands at the bottleneck
        self.bottleneck = ConvBlock(c_prev, cfg.widths[-1], bands, cfg, layout)
        c_prev = cfg.widths[-1]
        self.gru = BandGRU(c_prev, cfg.gru_hidden, bands) if cfg.gru_hidden > 0 else None
        self.decoder = nn.ModuleList()
        for i, width in reversed(list(enumerate(levels))):
            self.decoder.append(DecoderBlock(c_prev, width, cfg.n_bins // 2**i, cfg, layout))
            c_prev = width
        self.after_conv = nn.Conv2d(cfg.widths[0], 3, 1)
        self.cond_dim = layout.size
        self.film_proj = nn.Linear(cfg.embed_dim, self.cond_dim)
        self._init_weights()

    def _init_weights(self) -> None:
        # As AudioSep: Xavier-uniform convs and linears, zero biases, BatchNorm at identity.
        for m in self.modules():
            if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    # ----------------------------------------------------------------- conditioning
    def film(self, embedding: torch.Tensor) -> torch.Tensor:
        """All FiLM betas of the network at once.

        Args:
            embedding: [B, D] text embedding.

        Returns:
            cond: [B, cond_dim], run once per query by a streaming host.
        """
        return self.film_proj(embedding)  # [B, C]

    # ----------------------------------------------------------------- whole clip
    def forward(self, mixture: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        """Separate whole clips (training and offline use).

        Args:
            mixture: [B, T] waveform.
            embedding: [B, D] text embedding of the target.

        Returns:
            [B, T] estimate of the described source, aligned with the mixture.
        """
        cond = self.film(embedding)  # [B, C]
        real, imag = self.stft(mixture)  # [B, F+1, N] each
        states = _States(self.init_state(mixture.shape[0])[1:-1])
        real, imag = self._separate(real, imag, cond, states, unrolled=False)  # [B, F+1, N]
        return self.istft(real, imag, mixture.shape[-1])  # [B, T]

    # ----------------------------------------------------------------- streaming
    def state_specs(self) -> list[tuple[str, tuple[int, ...]]]:
        """Names and shapes (without batch) of the streaming state, in `step` order.

        STFT input tail [W - hop], then every causal conv's cache [C_in, time_kernel - 1, F]
        and the band GRU's hidden state [bands, H] in the order they run, then the iSTFT
        overlap-add tail [W - hop].
        """
        tail = (self.config.n_fft - self.config.hop,)
        shapes: list[tuple[int, ...]] = [tail]
        for m in self.modules():  # registration order = run order
            if isinstance(m, CausalConv2d) and m.context > 0 or isinstance(m, BandGRU):
                shapes.append(m.state_shape)
        shapes.append(tail)
        return [(f"s{i:02d}", shape) for i, shape in enumerate(shapes)]

    def init_state(self, batch: int) -> list[torch.Tensor]:
        """Zero streaming state for `batch` streams: a list of [batch, *shape] tensors."""
        p = self.film_proj.weight
        return [
            torch.zeros((batch, *shape), dtype=p.dtype, device=p.device)
            for _, shape in self.state_specs()
        ]

    def step(
        self, audio: torch.Tensor, cond: torch.Tensor, states: list[torch.Tensor]
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Process one block of k hops with carried state (export-friendly: no data-dependent
        control flow; k = audio length / hop is static).

        Args:
            audio: [B, k*hop] the next k hops of the input.
            cond: [B, cond_dim] from `film(embedding)`.
            states: the list from `init_state` or from the previous step.

        Returns:
            out: [B, k*hop] the whole-clip output delayed by `latency` samples.
            states': the new state list, same names/shapes/order.
        """
        cfg = self.config
        hop, win, n_freq = cfg.hop, cfg.n_fft, cfg.n_fft // 2 + 1
        k = int(audio.shape[-1]) // hop  # int(): a constant in traced/exported graphs
        # Causal framing: the previous W - hop samples, then k new hops -> k frames. The DFT
        # is a MatMul on the frames (a GEMM; ONNX Runtime's 1-channel Conv with a W-tap
        # kernel is several times slower), with the same window-folded kernels as CausalSTFT.
        buf = torch.cat([states[0], audio], dim=1)  # [B, W - hop + k*hop]
        frames = torch.stack([buf[:, i * hop : i * hop + win] for i in range(k)], dim=1)
        spec = F.linear(frames, self.stft.forward_kernel[:, 0])  # [B, k, 2(F+1)]
        spec = spec.transpose(1, 2)  # [B, 2(F+1), k]
        real, imag = spec[:, :n_freq], spec[:, n_freq:]  # [B, F+1, k] each
        net_states = _States(states[1:-1])
        real, imag = self._separate(real, imag, cond, net_states, unrolled=True)  # [B, F+1, k]
        # Inverse DFT per frame, then overlap-add of the k frames onto the carried tail; the
        # first k*hop samples are final.
        spec = torch.cat([real, imag], dim=1).transpose(1, 2)  # [B, k, 2(F+1)]
        frames = spec @ self.istft.inverse_kernel[:, 0]  # [B, k, W]
        acc = F.pad(states[-1], (0, k * hop))  # [B, (k-1)*hop + W]
        for i in range(k):  # static
            acc = acc + F.pad(frames[:, i], (i * hop, (k - 1 - i) * hop))
        out = acc[:, : k * hop] / self.istft.norm.repeat(k)  # [B, k*hop]
        new_states = [buf[:, k * hop :], *net_states.out, acc[:, k * hop :]]
        return out, new_states

    # ----------------------------------------------------------------- shared network
    def _separate(
        self,
        real: torch.Tensor,
        imag: torch.Tensor,
        cond: torch.Tensor,
        states: _States,
        unrolled: bool,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mask and rotate a causal spectrum. real, imag [B, F+1, N] -> same shapes."""
        mag = torch.sqrt(torch.clamp(real**2 + imag**2, min=MAG_EPS))  # [B, F+1, N]
        feat = torch.log1p(mag) if self.config.compress == "log1p" else mag
        feat = feat[:, :-1].unsqueeze(-1)  # [B, F, N, 1] (Nyquist dropped; bins as channels)
        feat = self.bn0(feat).permute(0, 3, 2, 1)  # [B, 1, N, F]
        mask = self._unet(feat, _Film(cond), states, unrolled)  # [B, 3, N, F]
        mask = F.pad(mask.permute(0, 1, 3, 2), (0, 0, 0, 1))  # [B, 3, F+1, N] (Nyquist: 0)
        gain = torch.sigmoid(mask[:, 0])  # [B, F+1, N]
        rot_r, rot_i = torch.tanh(mask[:, 1]), torch.tanh(mask[:, 2])  # [B, F+1, N]
        norm = torch.sqrt(torch.clamp(rot_r**2 + rot_i**2, min=ROT_EPS))
        rot_r, rot_i = rot_r / norm, rot_i / norm
        # relu(|X| * gain) with the mixture phase rotated by (rot_r, rot_i), written on the
        # complex value directly: |X| * e^{i phase} = real + i imag. The Nyquist bin gets
        # gain 0.5 from the zero logit; zero it as AudioSep does.
        out_r = gain * (real * rot_r - imag * rot_i)  # [B, F+1, N]
        out_i = gain * (real * rot_i + imag * rot_r)
        keep = torch.ones_like(out_r[:1, :, :1])  # [1, F+1, 1]
        keep[:, -1] = 0.0
        return out_r * keep, out_i * keep

    def _unet(self, x: torch.Tensor, film: _Film, states: _States, unrolled: bool) -> torch.Tensor:
        """[B, 1, N, F] normalised features -> [B, 3, N, F] mask logits."""
        x = self.pre_conv(x)  # [B, C0, N, F]
        skips = []
        for block in self.encoder:
            x = block(x, film, states)  # [B, C_i, N, F_i]
            skips.append(x)
            x = F.avg_pool2d(x, kernel_size=(1, 2))  # [B, C_i, N, F_i / 2] (frequency only)
        x = self.bottleneck(x, film, states)  # [B, C_L, N, F_L]
        if self.gru is not None:
            x = self.gru(x, states, unrolled)  # [B, C_L, N, F_L]
        for dec, skip in zip(self.decoder, reversed(skips), strict=True):
            x = dec(x, skip, film, states)  # [B, C_i, N, F_i]
        return self.after_conv(x)  # [B, 3, N, F]


# --------------------------------------------------------------------- cost figures
def count_macs_per_hop(model: StreamingResUNet) -> int:
    """Multiply-accumulates of one `step` with k = 1 (STFT, U-Net, GRU, iSTFT; not FiLM)."""
    cfg = model.config
    macs = 0

    def conv_hook(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal macs
        # Batch 1, one frame: every output element is one hop's work.
        if isinstance(m, nn.Conv2d):
            kh, kw = m.kernel_size
            macs += out.numel() * (m.in_channels // m.groups) * kh * kw
        elif isinstance(m, nn.ConvTranspose2d):
            kh, kw = m.kernel_size
            macs += inputs[0].numel() * m.out_channels * kh * kw // m.groups
        elif isinstance(m, nn.Linear):
            macs += out.numel() * m.in_features

    hooks = [
        m.register_forward_hook(conv_hook)
        for name, m in model.named_modules()
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear) and name != "film_proj"
    ]
    was_training = model.training
    model.eval()  # one frame of batch 1: train-mode BatchNorm would refuse it
    try:
        with torch.no_grad():
            cond = torch.zeros(1, model.cond_dim)
            model.step(torch.zeros(1, cfg.hop), cond, model.init_state(1))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    n_freq = cfg.n_fft // 2 + 1
    macs += 2 * (2 * n_freq * cfg.n_fft)  # STFT and iSTFT as convolutions, one frame each
    if model.gru is not None:
        c_in, hid = model.gru.gru.input_size, cfg.gru_hidden
        bands = cfg.n_bins // 2 ** (len(cfg.widths) - 1)
        macs += bands * 3 * hid * (c_in + hid)  # unrolled GRU cell (runs on F.linear)
    return macs


def describe(config: StreamingConfig | None = None) -> str:
    """One line of cost figures for a config (default: the default config)."""
    model = StreamingResUNet(config).eval()
    cfg = model.config
    params = sum(p.numel() for p in model.parameters())
    film = sum(p.numel() for p in model.film_proj.parameters())
    macs = count_macs_per_hop(model)
    ms = 1000 * cfg.latency / cfg.sample_rate
    return (
        f"StreamingResUNet {cfg.sample_rate} Hz n_fft={cfg.n_fft} hop={cfg.hop} "
        f"widths={'-'.join(map(str, cfg.widths))} skip={cfg.skip} gru={cfg.gru_hidden}: "
        f"{params / 1e6:.3f} M params ({(params - film) / 1e6:.3f} M U-Net, "
        f"{film / 1e6:.3f} M FiLM), {macs / 1e6:.1f} M MACs per hop, cond_dim={model.cond_dim}, "
        f"latency {cfg.latency} samples ({ms:.1f} ms)"
    )


if __name__ == "__main__":
    print(describe())
