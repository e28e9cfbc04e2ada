"""Drum patterns played with the recorded hits of Hydrogen drum kits.

A Hydrogen kit is a folder with `drumkit.xml` and its samples. Each instrument has a name
("Pearl Kick", "Sabian Hat Closed", "Tom Low"), a volume and either one sample file or
velocity layers (a sample per velocity range). A pattern from `renderers.drum_pattern`
names General MIDI drum notes; each note is played by the instrument whose name fits its
role (kick, snare, closed or open hi-hat, low/mid/high tom, crash), with a seeded velocity
that picks the layer and scales the hit, and a few milliseconds of seeded timing jitter.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from livesep.training.corpus_sources import CorpusError
from livesep.training.renderers import Note

__all__ = ["Layer", "Instrument", "Kit", "read_kit", "assign_roles", "render_pattern"]

# GM drum note -> name patterns in order of preference: every word of a pattern must start
# a word of the lower-cased instrument name ("tom" fits "Tom Low", not "Kick Stomp").
# Names with an EXCLUDED word (a rim shot, a choked or pedalled hat) are taken only when no
# other instrument fits.
ROLES: dict[int, tuple[tuple[str, ...], ...]] = {
    36: (("kick",), ("bass drum",), ("bassdrum",), ("bd",)),
    38: (("snare",), ("sd",)),
    42: (
        *((hat, "closed") for hat in ("hat", "hihat", "hh")),
        *((hat, "clsd") for hat in ("hat", "hihat", "hh")),
        ("hat",),
        ("hihat",),
        ("hh",),
    ),
    46: (*((hat, "open") for hat in ("hat", "hihat", "hh")), ("hat",), ("hihat",), ("hh",)),
    45: (("tom", "floor"), ("tom", "low"), ("tom", "3"), ("tom",)),
    47: (("tom", "mid"), ("tom", "2"), ("tom",)),
    50: (("tom", "high"), ("tom", "hi"), ("tom", "1"), ("tom",)),
    49: (("crash",), ("splash",), ("cymbal",), ("ride",)),
}
EXCLUDED = ("rim", "side", "stick", "roll", "flam", "choke", "swish", "pedal", "bell", "ghost")
REQUIRED = (36, 38, 42)  # a kit without kick, snare and hi-hat plays no pattern
JITTER_S = 0.004  # timing jitter per hit, s
TAIL_S = 1.0  # after the last onset, s


@dataclass(frozen=True)
class Layer:
    file: Path
    vmin: float  # velocity range 0-1
    vmax: float
    gain: float


@dataclass(frozen=True)
class Instrument:
    name: str
    volume: float  # the instrument's volume x gain
    layers: tuple[Layer, ...]


@dataclass(frozen=True)
class Kit:
    name: str
    folder: Path
    instruments: tuple[Instrument, ...]


def _float(node: ET.Element, tag: str, default: float) -> float:
    text = node.findtext(tag)
    try:
        return float(text) if text is not None and text.strip() else default
    except ValueError:
        return default


def read_kit(folder: Path) -> Kit:
    """Parse `folder/drumkit.xml`: instruments with a sample that exists.

    Raises:
        CorpusError: no drumkit.xml, or not XML.
    """
    xml = folder / "drumkit.xml"
    try:
        root = ET.parse(xml).getroot()
    except (OSError, ET.ParseError) as err:
        raise CorpusError(f"{xml}: not a Hydrogen drum kit ({err})") from err
    for node in root.iter():  # newer kits put every tag in Hydrogen's namespace
        node.tag = node.tag.rpartition("}")[2]
    instruments = []
    for node in root.iter("instrument"):
        name = (node.findtext("name") or "").strip()
        layers = [
            Layer(
                folder / (layer.findtext("filename") or "").strip(),
                _float(layer, "min", 0.0),
                _float(layer, "max", 1.0),
                _float(layer, "gain", 1.0),
            )
            for layer in node.iter("layer")
        ]
        if not layers and (node.findtext("filename") or "").strip():  # the older format
            layers = [Layer(folder / node.findtext("filename", "").strip(), 0.0, 1.0, 1.0)]
        layers = [layer for layer in layers if layer.file.is_file()]
        if name and layers:
            volume = _float(node, "volume", 1.0) * _float(node, "gain", 1.0)
            instruments.append(Instrument(name, volume, tuple(layers)))
    return Kit((root.findtext("name") or folder.name).strip(), folder, tuple(instruments))


def _fits(name: str, words: tuple[str, ...]) -> bool:
    """Every word starts a word of `name` (a letter may not precede it)."""
    return all(re.search(rf"(?<![a-z]){re.escape(word)}", name) for word in words)


def assign_roles(kit: Kit) -> dict[int, Instrument]:
    """GM drum note -> the kit's instrument for it (notes with no fitting instrument absent).

    Preference: an instrument not yet given a role and without an EXCLUDED word, then one
    with such a word, then one already used (a kit with one tom plays all three toms).
    The two hi-hat notes may always share an instrument.

    Raises:
        CorpusError: the kit lacks a kick, a snare or a hi-hat.
    """
    roles: dict[int, Instrument] = {}
    used: set[str] = set()
    plain = [i for i in kit.instruments if not any(x in i.name.lower() for x in EXCLUDED)]
    for note, patterns in ROLES.items():
        shared = note in (42, 46)
        tiers = [
            [i for i in plain if shared or i.name not in used],
            [i for i in kit.instruments if shared or i.name not in used],
            list(kit.instruments),
        ]
        for pool in tiers:
            found = next(
                (i for words in patterns for i in pool if _fits(i.name.lower(), words)), None
            )
            if found is not None:
                roles[note] = found
                used.add(found.name)
                break
    missing = [n for n in REQUIRED if n not in roles]
    if missing:
        raise CorpusError(f"kit {kit.name}: no instrument for GM drum note(s) {missing}")
    return roles


def _layer(instrument: Instrument, velocity: float) -> Layer:
    inside = [x for x in instrument.layers if x.vmin <= velocity <= x.vmax]
    if inside:
        return inside[0]
    return min(instrument.layers, key=lambda x: min(abs(velocity - x.vmin), abs(velocity - x.vmax)))


def _velocity(note: int, onset: float, rng: np.random.Generator) -> float:
    """Accents on the beat for the hats, a strong kick and snare, seeded variation."""
    if note in (42, 46):
        base = 0.8 if abs(onset - round(onset)) < 1e-6 else 0.55
    elif note in (36, 38):
        base = 0.9
    else:
        base = 0.8
    return float(np.clip(base + rng.uniform(-0.12, 0.12), 0.05, 1.0))


def render_pattern(
    kit: Kit,
    roles: dict[int, Instrument],
    notes: list[Note],
    bpm: float,
    rng: np.random.Generator,
    rate: int,
    load: Callable[[Path], np.ndarray],
) -> np.ndarray:
    """Mix the kit's hits for `notes` (onsets in beats at `bpm`).

    Args:
        load: a sample file -> mono float32 at `rate` (the caller caches decoding).

    Returns:
        float32 [T] mono audio at `rate`, peak-normalised to 0.9 (the corpus sets the level).
    """
    beat = 60.0 / bpm  # s
    played = [(p, on) for p, on, _ in notes if p in roles]
    if not played:
        raise CorpusError(f"kit {kit.name}: the pattern has no note the kit can play")
    end = max(on for _, on in played) * beat + TAIL_S
    out = np.zeros(int(end * rate) + 1, np.float64)  # [T]
    for pitch, onset in sorted(played, key=lambda n: n[1]):
        instrument = roles[pitch]
        velocity = _velocity(pitch, onset, rng)
        layer = _layer(instrument, velocity)
        hit = load(layer.file)  # [H]
        start = max(0, int(round((onset * beat + rng.uniform(-JITTER_S, JITTER_S)) * rate)))
        n = min(len(hit), len(out) - start)
        out[start : start + n] += hit[:n] * velocity * layer.gain * instrument.volume
    peak = float(np.max(np.abs(out)))
    if peak <= 0.0:
        raise CorpusError(f"kit {kit.name}: the pattern rendered silence")
    return (0.9 * out / peak).astype(np.float32)
