"""Training configuration: dataclasses loaded from YAML, with `key=value` overrides.

A config file mirrors `TrainConfig`: top-level run settings plus the groups `model`, `data`,
`mix`, `optim` and `loss`. Overrides use dotted keys (`optim.lr=3e-4`,
`model.config.widths=[16,32,64]`); values are parsed as YAML. Unknown keys are an error
naming them, so a typo never silently trains the wrong thing. The config travels inside
every checkpoint as a plain dict (`asdict`).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from livesep.errors import ConfigError

__all__ = [
    "ModelSpec",
    "DataConfig",
    "MixConfig",
    "OptimConfig",
    "LossConfig",
    "TrainConfig",
    "load_config",
    "config_from_dict",
    "apply_overrides",
    "config_to_dict",
]


@dataclass
class ModelSpec:
    """Which separator to train: `livesep.model.build_model(family, config)`."""

    family: str = "streaming"
    config: dict[str, Any] = field(default_factory=dict)  # the family's config dataclass


@dataclass
class DataConfig:
    """Corpus, segments and text embeddings."""

    corpus: str = "corpus"  # corpus directory (holds the manifest and the audio)
    manifest: str = "manifest.jsonl"  # relative to `corpus`
    sample_rate: int = 32000  # Hz; the corpus is resampled to this on load
    segment_s: float = 2.0  # seconds per training example
    min_clip_s: float = 0.1  # shorter clips are skipped
    text_encoder: str = "minilm"  # livesep.text.get_encoder name
    preload_max_gb: float = 8.0  # refuse to preload a corpus larger than this (float16)
    num_workers: int = 0  # DataLoader worker processes per rank


@dataclass
class MixConfig:
    """AudioSep's mixing recipe plus the augmentations a small CPU model needs."""

    ratio_min: float = 0.02  # clamp of the interferer/target amplitude ratio (AudioSep)
    ratio_max: float = 50.0
    gain_db_min: int = -10  # random interferer gain after energy matching, dB (AudioSep)
    gain_db_max: int = 10
    interferers_min: int = 1
    interferers_max: int = 3
    lowpass_prob: float = 0.3  # probability, per source, of a random band limit
    lowpass_min_hz: float = 1500.0  # lowest random cut-off
    level_db_min: float = -24.0  # random overall level of mixture and target, dB
    level_db_max: float = 0.0
    silence_prob: float = 0.05  # target absent: the model must output silence
    # Random colouring per source (a recording chain or a timbre never seen in training):
    # a spectral tilt plus one peak/notch, zero phase. 0 disables (and draws nothing).
    eq_prob: float = 0.0  # probability, per source
    eq_tilt_db: float = 1.5  # max |tilt|, dB per octave around 1 kHz
    eq_peak_db: float = 9.0  # max |gain| of the peak/notch, dB
    # Random speed change per source (resampling: pitch and formants move together, as a
    # different instrument, voice or animal of the same kind would). 0 disables (and draws
    # nothing).
    speed_prob: float = 0.0  # probability, per source
    speed_semitones: float = 2.0  # max |shift|, semitones (2.0: speed factor 0.89-1.12)
    # Twin examples: every mixture is queried twice in one batch, once for its target and
    # once for one of its interferers (dataset.MixtureDataset); needs an even batch size.
    paired: bool = False
    # Target classes are drawn with probability proportional to (train seconds of the
    # class) ** class_power: 0 is uniform over classes (phases 1-6); 0.5 visits a class with
    # 2 s of audio ~20x less often than one with 16 min, so a few clips are not replayed as
    # often as a whole instrument's renders. Interferers stay uniform over classes.
    class_power: float = 0.0


@dataclass
class OptimConfig:
    """AdamW (amsgrad) with linear warm-up then a decay."""

    lr: float = 1e-3
    weight_decay: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    amsgrad: bool = True
    warmup_steps: int = 500
    schedule: str = "cosine"  # cosine | step | constant (after warm-up)
    min_lr_ratio: float = 0.05  # cosine floor, as a fraction of lr
    decay_every: int = 10000  # step schedule: multiply by decay_gamma every this many steps
    decay_gamma: float = 0.5
    grad_clip: float = 1.0  # max global grad norm; 0 disables
    # The step at which warm-up and decay begin: 0 for a run from scratch; the start step of
    # a run begun with `init_from` (a fresh optimizer on trained weights warms up again).
    schedule_start: int = 0


LOSS_KINDS = ("l1", "snr")  # livesep.training.losses.waveform_loss


@dataclass
class LossConfig:
    """The waveform loss (`livesep.training.losses`)."""

    kind: str = "l1"  # l1 (AudioSep) | snr (thresholded negative SNR in dB per example)
    snr_max_db: float = 30.0  # snr: an example's SNR counts up to this much (dB)


@dataclass
class TrainConfig:
    """Everything one training run needs; saved in every checkpoint."""

    model: ModelSpec = field(default_factory=ModelSpec)
    data: DataConfig = field(default_factory=DataConfig)
    mix: MixConfig = field(default_factory=MixConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    out_dir: str = "runs/default"
    # Start a new run from this checkpoint's model weights and step, with a fresh optimizer
    # (its schedule restarts at optim.schedule_start, which must be that step); "" = none.
    # `--resume` continues the run in out_dir and ignores it.
    init_from: str = ""
    steps: int = 100000
    batch_size: int = 8  # per process
    seed: int = 0
    # bf16 autocast: true | false | "auto" (on where the hardware has bf16 units: GPUs that
    # support it, CPUs with AVX512-BF16/AMX; without them CPU bf16 is 5-15x slower)
    bf16: bool | str = "auto"
    channels_last: bool = True
    threads: int = 0  # torch intra-op threads; 0 keeps torch's default
    device: str = "auto"  # auto | cpu | cuda
    log_every: int = 10  # steps between TensorBoard scalars
    val_every: int = 1000  # steps between validations; 0 disables
    val_items_per_class: int = 4  # fixed validation mixtures per class (val and zeroshot)
    ckpt_every: int = 500  # steps between checkpoints (last.pt)
    keep_every: int = 0  # also keep step_NNNNNN.pt every this many steps; 0 disables


def config_to_dict(cfg: TrainConfig) -> dict[str, Any]:
    """Plain nested dict (YAML- and checkpoint-safe)."""
    return dataclasses.asdict(cfg)


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """Check/convert one leaf value against its annotation."""
    origin = typing.get_origin(hint)
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads `1e-3` as a string
            try:
                return float(value)
            except ValueError:
                pass
    elif hint is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    elif origin is dict or hint is dict:
        if isinstance(value, dict):
            return dict(value)
    elif isinstance(hint, types.UnionType):
        return value
    else:
        return value
    raise ConfigError(
        f"config key {key}: expected {getattr(hint, '__name__', hint)}, got {value!r}"
    )


def _from_dict(cls: type, raw: dict[str, Any], prefix: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"config key {prefix.rstrip('.') or '<root>'}: expected a mapping")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        listed = ", ".join(prefix + str(k) for k in unknown)
        raise ConfigError(f"unknown config key(s): {listed}")
    kwargs = {}
    for name, value in raw.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            kwargs[name] = _from_dict(hint, value, f"{prefix}{name}.")  # type: ignore[arg-type]
        else:
            kwargs[name] = _coerce(value, hint, prefix + name)
    return cls(**kwargs)


def _unknown_keys(cls: type, raw: Any, prefix: str) -> list[str]:
    """Every key of `raw` (recursively) that `cls` does not declare, dotted."""
    if not isinstance(raw, dict):
        return []
    hints = typing.get_type_hints(cls)
    unknown = []
    for key, value in raw.items():
        if key not in hints:
            unknown.append(prefix + str(key))
        elif dataclasses.is_dataclass(hints[key]):
            unknown += _unknown_keys(hints[key], value, f"{prefix}{key}.")
    return unknown


def config_from_dict(raw: dict[str, Any]) -> TrainConfig:
    """Build a `TrainConfig` from a nested dict; missing keys keep their defaults.

    Raises:
        ConfigError: unknown keys (all named) or a value of the wrong type.
    """
    unknown = sorted(_unknown_keys(TrainConfig, raw, ""))
    if unknown:
        raise ConfigError(f"unknown config key(s): {', '.join(unknown)}")
    cfg = _from_dict(TrainConfig, raw, "")
    _validate(cfg)
    return cfg


def _validate(cfg: TrainConfig) -> None:
    m = cfg.mix
    if not 1 <= m.interferers_min <= m.interferers_max:
        raise ConfigError("config key mix.interferers_min/max: need 1 <= min <= max")
    if not 0.0 < m.ratio_min <= m.ratio_max:
        raise ConfigError("config key mix.ratio_min/max: need 0 < min <= max")
    for key in ("lowpass_prob", "silence_prob", "eq_prob", "speed_prob"):
        if not 0.0 <= getattr(m, key) <= 1.0:
            raise ConfigError(f"config key mix.{key}: must be a probability in [0, 1]")
    if m.eq_tilt_db < 0 or m.eq_peak_db < 0:
        raise ConfigError("config keys mix.eq_tilt_db and mix.eq_peak_db must be >= 0")
    if not 0.0 <= m.speed_semitones <= 12.0:
        raise ConfigError("config key mix.speed_semitones: must be in [0, 12]")
    if not 0.0 <= cfg.mix.class_power <= 2.0:
        raise ConfigError("config key mix.class_power: must be in [0, 2] (0: uniform over classes)")
    if cfg.optim.schedule not in ("cosine", "step", "constant"):
        raise ConfigError(
            f"config key optim.schedule: {cfg.optim.schedule!r} is not cosine, step or constant"
        )
    if cfg.loss.kind not in LOSS_KINDS:
        raise ConfigError(
            f"config key loss.kind: {cfg.loss.kind!r} is not one of {', '.join(LOSS_KINDS)}"
        )
    if cfg.loss.snr_max_db <= 0:
        raise ConfigError("config key loss.snr_max_db must be > 0")
    if cfg.steps < 1 or cfg.batch_size < 1:
        raise ConfigError("config keys steps and batch_size must be >= 1")
    if not 0 <= cfg.optim.schedule_start < cfg.steps:
        raise ConfigError(
            f"config key optim.schedule_start: {cfg.optim.schedule_start} must be in "
            f"[0, steps={cfg.steps})"
        )
    if m.paired and cfg.batch_size % 2:
        raise ConfigError(
            f"config key mix.paired: twins share a batch only with an even batch_size "
            f"(got {cfg.batch_size})"
        )
    if cfg.data.segment_s <= 0:
        raise ConfigError("config key data.segment_s must be > 0")
    if cfg.bf16 not in (True, False, "auto"):
        raise ConfigError(f"config key bf16: {cfg.bf16!r} is not true, false or auto")
    if cfg.device not in ("auto", "cpu", "cuda"):
        raise ConfigError(f"config key device: {cfg.device!r} is not auto, cpu or cuda")


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `dotted.key=value` overrides (values parsed as YAML) to a nested dict copy.

    Raises:
        ConfigError: an override without `=` or with an empty key.
    """
    out = _deep_copy(raw)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r}: expected dotted.key=value")
        parts = key.strip().split(".")
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {item!r}: {part} is not a group")
            node = child
        node[parts[-1]] = yaml.safe_load(text) if text.strip() else ""
    return out


def _deep_copy(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in raw.items()}


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> TrainConfig:
    """Read a YAML config (or the defaults when `path` is None) and apply overrides.

    Raises:
        ConfigError: missing/unreadable file, invalid YAML, unknown key or wrong type.
    """
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfigError(f"config {path}: cannot read ({exc.strerror})") from exc
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(
                f"config {path}: invalid YAML ({' '.join(str(exc).split())})"
            ) from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"config {path}: top level must be a mapping")
        raw = loaded or {}
    return config_from_dict(apply_overrides(raw, overrides or []))
