"""Generated sounds: speech from synthesisers, instruments via fluidsynth or TiMidity++, numpy
synthesis.

Everything is seeded: the same seed and tool versions give the same files. Renderers write
WAV files into a work folder and return `(path, description)` pairs; the corpus builder
decodes and processes them like recordings.
"""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from livesep.training.corpus_sources import CorpusError

# -- text to read ---------------------------------------------------------------------
_SUBJECTS = (
    "The old fisherman",
    "My neighbour",
    "A young teacher",
    "The river guide",
    "Our doctor",
    "The baker down the street",
    "Every student",
    "The pilot",
    "A tired traveller",
    "The museum guard",
    "Her brother",
    "The gardener",
    "A curious child",
    "The night nurse",
    "The bus driver",
    "Nobody in the village",
    "The new manager",
    "An elderly couple",
)
_VERBS = (
    "carried",
    "painted",
    "forgot",
    "repaired",
    "found",
    "described",
    "sold",
    "borrowed",
    "counted",
    "delivered",
    "photographed",
    "cleaned",
    "opened",
    "measured",
    "hid",
)
_OBJECTS = (
    "a heavy wooden box",
    "the blue bicycle",
    "three loaves of bread",
    "an old map",
    "the broken window",
    "a letter from Spain",
    "the kitchen table",
    "a basket of apples",
    "the garden fence",
    "forty chairs",
    "a small brass key",
    "the yellow umbrella",
    "a violin case",
    "the front door",
    "a bag of flour",
    "the tallest ladder",
)
_TAILS = (
    "before the sun came up",
    "on a rainy Tuesday",
    "without saying a word",
    "after the long meeting",
    "while everyone was asleep",
    "near the railway station",
    "for the third time this week",
    "just before lunch",
    "in the middle of winter",
    "as quickly as possible",
    "at the end of the market",
    "with great care",
)
_EXTRA = (
    "Could you tell me where the nearest post office is?",
    "I think the weather will change again tomorrow afternoon.",
    "Please remember to close the windows before you leave.",
    "We have been waiting here for almost an hour.",
    "The numbers were seven, twelve, and twenty nine.",
    "That is the most beautiful garden I have ever seen.",
    "Turn left at the bridge and follow the river for two miles.",
    "Nobody expected the concert to sell out so quickly.",
)


def sentence(rng: np.random.Generator) -> str:
    """One English sentence from a small grammar (or a fixed everyday sentence)."""
    if rng.random() < 0.2:
        return str(rng.choice(_EXTRA))
    parts = [rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_OBJECTS), rng.choice(_TAILS)]
    return " ".join(str(p) for p in parts) + "."


def utterance(rng: np.random.Generator) -> str:
    """One to three sentences: about 2-9 s of speech."""
    return " ".join(sentence(rng) for _ in range(int(rng.integers(1, 4))))


def render_espeak(
    argv: list[str],
    env: dict[str, str],
    data_dir: Path | None,
    voice: str,
    text: str,
    rng: np.random.Generator,
    out: Path,
) -> None:
    """Speak `text` with espeak-ng at a seeded rate and pitch into `out` (WAV)."""
    cmd = argv + [
        "-v",
        voice,
        "-s",
        str(int(rng.integers(130, 191))),
        "-p",
        str(int(rng.integers(25, 76))),
        "-w",
        str(out),
    ]
    if data_dir is not None:
        cmd += ["--path", str(data_dir)]
    _check(cmd + [text], env, out)


def render_flite(argv: list[str], env: dict[str, str], voice: str, text: str, out: Path) -> None:
    """Speak `text` with one of flite's built-in voices into `out` (WAV)."""
    _check(argv + ["-voice", voice, "-t", text, "-o", str(out)], env, out)


def _check(cmd: list[str], env: dict[str, str], out: Path) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not out.exists():
        raise CorpusError(f"`{Path(cmd[0]).name}` failed for {out.name}: {done.stderr.strip()}")


# -- melodies and MIDI ----------------------------------------------------------------
Note = tuple[int, float, float]  # (MIDI pitch, onset in beats, duration in beats)

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
# Pitch ranges (MIDI) that sound natural per instrument class; melodies are moved there.
RANGES = {
    "violin": (67, 88),
    "cello": (43, 64),
    "flute": (72, 93),
    "clarinet": (55, 79),
    "saxophone": (56, 76),
    "trumpet": (60, 79),
    "trombone": (45, 67),
    "bass guitar": (28, 50),
    "electric guitar": (52, 76),
    "xylophone": (72, 96),
    "banjo": (60, 79),
}


def builtin_tune(rng: np.random.Generator, polyphonic: bool, beats: float = 16.0) -> list[Note]:
    """A seeded melody: a random walk on a major or minor scale, plus a bass/chord voice."""
    scale = _MAJOR if rng.random() < 0.6 else _MINOR
    tonic = 60 + int(rng.integers(-5, 6))
    degree, t, notes = 7, 0.0, []
    while t < beats:
        dur = float(rng.choice([0.5, 0.5, 1.0, 1.0, 1.0, 1.5, 2.0]))
        degree = int(np.clip(degree + rng.choice([-2, -1, -1, 0, 1, 1, 2, 3, -3]), 0, 14))
        pitch = tonic + 12 * (degree // 7) + scale[degree % 7] - 12
        notes.append((pitch + 12, t, dur))
        t += dur
    if polyphonic:
        for bar in range(int(beats // 2)):
            root = int(rng.choice([0, 3, 4, 5]))
            for step in (0, 2, 4):
                d = root + step
                notes.append((tonic - 12 + 12 * (d // 7) + scale[d % 7], 2.0 * bar, 2.0))
    return notes


def chorale_tunes(
    count: int, seed: int, cache: Path | None = None
) -> list[tuple[str, list[list[Note]]]]:
    """`count` Bach chorales from music21's corpus as (name, parts), chosen by `seed`.

    Parsing a chorale takes ~1 s; the note lists are cached as JSON under `cache` (per
    music21 version) when it is given.
    """
    try:
        import music21
        from music21 import corpus
    except ImportError as exc:
        raise CorpusError("music21 is needed for chorale melodies: pip install music21") from exc
    paths = sorted(corpus.getComposer("bach"), key=lambda p: Path(p).name)
    rng = np.random.default_rng([seed, 21])
    chosen = [paths[i] for i in rng.permutation(len(paths))[: 3 * count]]
    folder = cache / f"bach-{music21.__version__}" if cache is not None else None
    tunes: list[tuple[str, list[list[Note]]]] = []
    for path in chosen:
        if len(tunes) == count:
            break
        stored = folder / (Path(path).name + ".json") if folder is not None else None
        if stored is not None and stored.exists():
            parts = [
                [(int(p), float(t), float(d)) for p, t, d in part]
                for part in json.loads(stored.read_text())
            ]
        else:
            parts = _parse_parts(corpus.parse(path))
            if stored is not None:
                stored.parent.mkdir(parents=True, exist_ok=True)
                stored.write_text(json.dumps(parts))
        if len(parts) >= 2:
            tunes.append((Path(path).stem, parts))
    return tunes


def _parse_parts(score: Any) -> list[list[Note]]:
    parts = []
    for part in score.parts:
        notes = [
            (int(n.pitch.midi), float(n.offset), float(n.quarterLength))
            for n in part.flatten().notes
            if n.isNote and n.quarterLength > 0
        ]
        if notes:
            parts.append(notes)
    return parts


def fit_range(notes: list[Note], cls: str) -> list[Note]:
    """Transpose by octaves so the median pitch sits in the middle of the class's range."""
    low, high = RANGES.get(cls, (48, 84))
    median = float(np.median([p for p, _, _ in notes]))
    shift = 12 * round(((low + high) / 2 - median) / 12)
    return [(p + shift, t, d) for p, t, d in notes]


def drum_pattern(rng: np.random.Generator, bars: int = 4) -> list[Note]:
    """A seeded rock/funk-style kit pattern in GM drum notes (kick 36, snare 38, hats 42)."""
    kick = [0.0] + [float(x) for x in rng.choice([1.5, 2.0, 2.5, 3.5], size=2, replace=False)]
    snare = [1.0, 3.0] + ([3.75] if rng.random() < 0.3 else [])
    hat_step = float(rng.choice([0.5, 0.25]))
    hat = 46 if rng.random() < 0.2 else 42
    notes: list[Note] = []
    for bar in range(bars):
        base = 4.0 * bar
        notes += [(36, base + k, 0.25) for k in kick]
        notes += [(38, base + s, 0.25) for s in snare]
        notes += [(hat, base + h, 0.2) for h in np.arange(0.0, 4.0, hat_step)]
        if bar == bars - 1:
            notes += [
                (int(rng.choice([45, 47, 50])), base + 3.0 + 0.25 * i, 0.25) for i in range(4)
            ]
    notes.append((49, 0.0, 1.0))  # crash on the one
    return notes


def _vlq(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def write_midi(path: Path, notes: list[Note], program: int, bpm: float, velocity: int) -> None:
    """A one-track standard MIDI file.

    `program` 0-127 is a General MIDI preset; -1 - kit plays `notes` on the drum channel
    with drum kit `kit` (0: the standard kit, sent as no program change).
    """
    ticks = 480  # per beat
    channel = 9 if program < 0 else 0
    events: list[tuple[int, int, bytes]] = []  # (tick, order, message); note-offs first
    for pitch, onset, dur in notes:
        on, off = round(onset * ticks), round((onset + dur) * ticks)
        pitch = int(np.clip(pitch, 0, 127))
        events.append((on, 1, bytes([0x90 | channel, pitch, velocity])))
        events.append((max(off, on + 1), 0, bytes([0x80 | channel, pitch, 0])))
    tempo = round(60e6 / bpm)  # microseconds per beat
    track = _vlq(0) + b"\xff\x51\x03" + tempo.to_bytes(3, "big")
    if program >= 0 or program < -1:
        track += _vlq(0) + bytes([0xC0 | channel, program if program >= 0 else -1 - program])
    now = 0
    for tick, _, message in sorted(events):
        track += _vlq(tick - now) + message
        now = tick
    track += _vlq(ticks) + b"\xff\x2f\x00"  # a beat of release before the end
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, ticks)
    path.write_bytes(header + b"MTrk" + struct.pack(">I", len(track)) + track)


def render_midi(
    argv: list[str], env: dict[str, str], sf2: Path, midi: Path, out: Path, rate: int
) -> None:
    """Render `midi` through the soundfont `sf2` with fluidsynth (no audio device)."""
    cmd = argv + ["-ni", "-q", "-g", "0.6", "-r", str(rate), "-F", str(out), str(sf2), str(midi)]
    _check(cmd, env, out)


def timidity_config(cfg: Path, root: Path, out: Path) -> tuple[set[int], bool]:
    """Copy the TiMidity++ patch set config `cfg` to `out` with its `dir` lines under `root`.

    A package's config names absolute folders (`dir /usr/share/midi/freepats`); unpacked
    into a cache they live under `root`. Returns the GM programs of tone bank 0 and whether
    drum set 0 maps any note, so a caller can refuse a preset the set lacks (TiMidity++
    plays a missing program as silence).

    Raises:
        CorpusError: `cfg` is missing or names an unsupported directive (`source`).
    """
    if not cfg.exists():
        raise CorpusError(f"TiMidity++ config {cfg} is missing")
    lines, programs, drums = [], set(), False
    section = ""
    for line in cfg.read_text().splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            lines.append(line)
            continue
        if words[0] == "dir":
            lines.append(f"dir {root / words[1].lstrip('/')}")
            continue
        if words[0] == "source":
            raise CorpusError(f"{cfg}: `source` lines are not supported ({line.strip()})")
        if words[0] in ("bank", "drumset"):
            section = f"{words[0]} {words[1]}"
        elif words[0].isdigit() and section == "bank 0":
            programs.add(int(words[0]))
        elif words[0].isdigit() and section == "drumset 0":
            drums = True
        lines.append(line)
    out.write_text("\n".join(lines) + "\n")
    return programs, drums


def render_midi_timidity(
    argv: list[str], env: dict[str, str], cfg: Path, midi: Path, out: Path, rate: int
) -> None:
    """Render `midi` through the TiMidity++ patch set of `cfg` (mono WAV, no audio device)."""
    cmd = argv + ["-c", str(cfg), "-Ow", "--output-mono", "-s", str(rate), "-o", str(out)]
    _check(cmd + [str(midi)], env, out)


# -- numpy synthesis ------------------------------------------------------------------
def synth_sound(cls: str, rng: np.random.Generator, rate: int) -> np.ndarray:
    """A few seconds of a generated class: beeps, noise bursts, clicks or chirps.

    Returns:
        float32 [T] mono audio at `rate`.
    """
    seconds = float(rng.uniform(2.0, 4.0))
    n = int(seconds * rate)
    t = np.arange(n) / rate  # [T] s
    x = np.zeros(n)
    if cls == "beeps":
        f0 = rng.uniform(400.0, 2000.0)  # Hz
        gate = (np.floor(t * rng.uniform(2.0, 6.0)) % 2 == 0).astype(float)
        x = np.sin(2 * np.pi * f0 * t) * gate
    elif cls == "noise bursts":
        gate = (np.floor(t * rng.uniform(1.5, 4.0)) % 2 == 0).astype(float)
        x = rng.standard_normal(n) * gate * 0.3
    elif cls == "clicks":
        period = int(rate / rng.uniform(3.0, 12.0))  # samples between clicks
        x[::period] = 1.0
        x = np.convolve(x, np.exp(-np.arange(64) / 8.0))[:n]
    elif cls == "chirps":
        f0, f1 = rng.uniform(200.0, 800.0), rng.uniform(1500.0, 6000.0)  # Hz
        sweep = 0.5  # s per sweep
        phase_t = t % sweep
        freq = f0 * (f1 / f0) ** (phase_t / sweep)
        x = np.sin(2 * np.pi * np.cumsum(freq) / rate)
    else:
        raise CorpusError(f"no synthesiser for class {cls!r}")
    return (0.5 * x).astype(np.float32)
