"""Hydrogen drum kits: parsing both kit formats, roles by name, rendering, the corpus source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from livesep.training import corpus
from livesep.training.corpus_sources import CorpusError, DrumkitSource
from livesep.training.debs import Unpacked
from livesep.training.drumkits import assign_roles, read_kit, render_pattern

RATE = 16000  # Hz

NEW_FORMAT = """<?xml version="1.0" encoding="UTF-8"?>
<drumkit_info xmlns="http://www.hydrogen-music.org/drumkit">
 <name>Fake Kit</name>
 <instrumentList>
{instruments}
 </instrumentList>
</drumkit_info>
"""


def _layered(name: str, layers: list[tuple[str, float, float]], gain: float = 1.0) -> str:
    body = "".join(
        f"<layer><filename>{f}</filename><min>{lo}</min><max>{hi}</max><gain>1</gain></layer>"
        for f, lo, hi in layers
    )
    return (
        f"<instrument><name>{name}</name><volume>1</volume><gain>{gain}</gain>{body}</instrument>"
    )


def _hit(folder: Path, name: str, freq: float, amp: float = 0.5) -> None:
    t = np.arange(int(0.2 * RATE)) / RATE  # [H] s
    sf.write(folder / name, amp * np.sin(2 * np.pi * freq * t) * np.exp(-20 * t), RATE)


def fake_kit(folder: Path) -> Path:
    """A kit: a stomp, a rim shot, a two-layer kick, a snare, a closed hat, one tom."""
    folder.mkdir(parents=True)
    for name, freq in [
        ("kick_soft.wav", 60),
        ("kick_hard.wav", 70),
        ("snare.wav", 200),
        ("rim.wav", 900),
        ("hat.wav", 5000),
        ("tom.wav", 120),
        ("stomp.wav", 50),
    ]:
        _hit(folder, name, freq)
    instruments = [
        _layered("Foot Stomp", [("stomp.wav", 0, 1)]),
        _layered("Snare Rimshot", [("rim.wav", 0, 1)]),
        _layered("Big Kick", [("kick_soft.wav", 0, 0.5), ("kick_hard.wav", 0.5, 1)]),
        _layered("Snare", [("snare.wav", 0, 1)]),
        _layered("Hi-Hat Closed", [("hat.wav", 0, 1)], gain=0.5),
        _layered("Floor Tom", [("tom.wav", 0, 1)]),
        _layered("Lost", [("missing.wav", 0, 1)]),  # its sample is not there: dropped
    ]
    (folder / "drumkit.xml").write_text(NEW_FORMAT.format(instruments="\n".join(instruments)))
    return folder


def test_reads_the_namespaced_format_and_drops_missing_samples(tmp_path: Path) -> None:
    kit = read_kit(fake_kit(tmp_path / "kit"))
    assert kit.name == "Fake Kit"
    assert [i.name for i in kit.instruments] == [
        "Foot Stomp",
        "Snare Rimshot",
        "Big Kick",
        "Snare",
        "Hi-Hat Closed",
        "Floor Tom",
    ]
    kick = kit.instruments[2]
    assert [(x.file.name, x.vmin, x.vmax) for x in kick.layers] == [
        ("kick_soft.wav", 0.0, 0.5),
        ("kick_hard.wav", 0.5, 1.0),
    ]
    assert kit.instruments[4].volume == pytest.approx(0.5)  # volume x gain


def test_reads_the_older_one_sample_format(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    _hit(folder, "bd.flac", 60)
    (folder / "drumkit.xml").write_text(
        "<drumkit_info><name>Old</name><instrumentList><instrument><filename>bd.flac"
        "</filename><name>Kick</name><volume>0.7</volume></instrument></instrumentList>"
        "</drumkit_info>"
    )
    (kick,) = read_kit(folder).instruments
    assert kick.name == "Kick" and kick.volume == pytest.approx(0.7)
    assert [x.file.name for x in kick.layers] == ["bd.flac"]


def test_roles_by_name(tmp_path: Path) -> None:
    roles = {n: i.name for n, i in assign_roles(read_kit(fake_kit(tmp_path / "kit"))).items()}
    assert roles[36] == "Big Kick"
    assert roles[38] == "Snare"  # the rim shot only when no other snare exists
    assert roles[42] == roles[46] == "Hi-Hat Closed"  # no open hat: the closed one plays both
    assert roles[45] == roles[47] == roles[50] == "Floor Tom"  # one tom plays all three
    assert "Foot Stomp" not in roles.values()  # "tom" must start a word
    assert 49 not in roles  # no cymbal: crash notes are left out


def test_a_kit_without_a_snare_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "kit"
    folder.mkdir()
    _hit(folder, "k.wav", 60)
    (folder / "drumkit.xml").write_text(
        NEW_FORMAT.format(instruments=_layered("Kick", [("k.wav", 0, 1)]))
    )
    with pytest.raises(CorpusError, match=r"kit Fake Kit: .*\[38, 42\]"):
        assign_roles(read_kit(folder))
    (folder / "drumkit.xml").write_text("not xml")
    with pytest.raises(CorpusError, match="not a Hydrogen drum kit"):
        read_kit(folder)


def test_hits_land_on_their_onsets_with_the_velocity_layer(tmp_path: Path) -> None:
    kit = read_kit(fake_kit(tmp_path / "kit"))
    roles = assign_roles(kit)
    loaded: list[str] = []

    def load(path: Path) -> np.ndarray:
        loaded.append(path.name)
        return sf.read(path, dtype="float32")[0]

    notes = [(36, 0.0, 0.25), (38, 1.0, 0.25), (36, 2.0, 0.25), (77, 3.0, 0.25)]  # 77: no role
    bpm = 120.0  # a beat is 0.5 s
    out = render_pattern(kit, roles, notes, bpm, np.random.default_rng(0), RATE, load)
    assert out.dtype == np.float32 and np.max(np.abs(out)) == pytest.approx(0.9)
    assert len(out) == int((2.0 * 0.5 + 1.0) * RATE) + 1  # last playable onset + 1 s tail
    frame = int(0.005 * RATE)  # 5 ms of jitter at most
    for onset_s in (0.0, 0.5, 1.0):
        start = int(onset_s * RATE)
        assert np.max(np.abs(out[start : start + 4 * frame])) > 0.1
        if start:  # the 0.2 s hit before has died away: nothing early
            assert np.all(np.abs(out[start - 2 * frame : start - frame]) < 1e-3)
    assert "snare.wav" in loaded and "rim.wav" not in loaded and "stomp.wav" not in loaded
    assert {"kick_soft.wav", "kick_hard.wav"} & set(loaded)  # a layer by velocity
    again = render_pattern(kit, roles, notes, bpm, np.random.default_rng(0), RATE, load)
    np.testing.assert_array_equal(out, again)  # seeded


def test_velocity_picks_the_layer() -> None:
    from livesep.training.drumkits import Instrument, Layer, _layer

    soft, hard = Layer(Path("s"), 0.0, 0.5, 1.0), Layer(Path("h"), 0.5, 1.0, 1.0)
    drum = Instrument("Kick", 1.0, (soft, hard))
    assert _layer(drum, 0.3) is soft and _layer(drum, 0.9) is hard
    gap = Instrument("Kick", 1.0, (Layer(Path("a"), 0.0, 0.2, 1.0), Layer(Path("b"), 0.8, 1.0, 1)))
    assert _layer(gap, 0.7).file == Path("b")  # outside every range: the nearest


class _Store:
    def __init__(self, root: Path) -> None:
        self.root = root

    def unpack(self, package: str, extra: tuple[str, ...] = ()) -> Unpacked:
        assert ".xml" in extra  # the kit definitions must come out of the package too
        return Unpacked(package, "1.0-1", self.root, ())


def test_the_corpus_source_renders_seeded_patterns_per_kit(tmp_path: Path) -> None:
    fake_kit(tmp_path / "pkg" / "kits" / "Fake")
    source = DrumkitSource("fake-kits", "GPL-2", "kits", (("Fake", "CC0"),), count=3)
    work = tmp_path / "work"
    work.mkdir()
    report = corpus.BuildReport(records=[])
    items = corpus._collect_drumkit(source, _Store(tmp_path / "pkg"), work, 0, RATE, report)
    assert [i.path.split(" / ")[1] for i in items] == ["#000", "#001", "#002"]
    assert all(i.cls == "drums" and i.license == "CC0" and i.version == "1.0-1" for i in items)
    assert report.packages["fake-kits"]["files"] == 3
    first = sf.read(items[0].file)[0]
    assert not np.array_equal(first, sf.read(items[1].file)[0])  # other seeds, other patterns
    assert 6.0 < len(first) / RATE < 13.0  # four bars at 85-135 bpm and the tail
    again = corpus._collect_drumkit(source, _Store(tmp_path / "pkg"), work, 0, RATE, report)
    np.testing.assert_array_equal(first, sf.read(again[0].file)[0])
