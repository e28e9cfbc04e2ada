"""Audio I/O: round trips per format, validation errors, atomic writes, resampling."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from livesep.audio import (
    AtomicWriter,
    AudioReader,
    StreamResampler,
    as_channels_first,
    read_audio,
    resample,
    to_channels,
    write_audio,
)
from livesep.errors import AudioError
from livesep.fsmode import FILE_MODE


def _noise(channels: int, frames: int, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal((channels, frames))).astype(
        np.float32
    )


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3"])
def test_write_read_round_trip(tmp_path, ext):
    x = _noise(2, 8000)
    path = write_audio(tmp_path / f"x.{ext}", x, 16000)
    y, sr = read_audio(path)
    assert sr == 16000 and y.dtype == np.float32 and y.shape[0] == 2
    if ext == "wav":  # float WAV is exact
        np.testing.assert_array_equal(y, x)
    elif ext == "flac":  # 24-bit
        np.testing.assert_allclose(y, x, atol=2**-22)
    else:  # lossy codecs: same channels, about the same length (encoder padding)
        assert abs(y.shape[1] - x.shape[1]) < 3000


def test_reader_blocks_concatenate_to_whole(tmp_path):
    x = _noise(3, 10_001)
    write_audio(tmp_path / "x.wav", x, 22050)
    with AudioReader(tmp_path / "x.wav") as reader:
        assert (reader.channels, reader.sample_rate, reader.frames) == (3, 22050, 10_001)
        blocks = list(reader.blocks(size=4096))
    assert [b.shape[1] for b in blocks] == [4096, 4096, 1809]
    np.testing.assert_array_equal(np.concatenate(blocks, axis=1), x)


def test_bad_files_name_file_and_cause(tmp_path):
    with pytest.raises(AudioError, match=r"missing\.wav: file not found"):
        read_audio(tmp_path / "missing.wav")
    (tmp_path / "text.wav").write_text("not audio at all")
    with pytest.raises(AudioError, match=r"text\.wav: not a readable audio file"):
        read_audio(tmp_path / "text.wav")
    sf.write(tmp_path / "empty.wav", np.zeros((0, 1), np.float32), 16000)
    with pytest.raises(AudioError, match=r"empty\.wav: empty audio"):
        read_audio(tmp_path / "empty.wav")
    sf.write(tmp_path / "low.wav", np.zeros((100, 1), np.float32), 4000)
    with pytest.raises(AudioError, match=r"low\.wav: sample rate 4000 Hz is below the 8000 Hz"):
        read_audio(tmp_path / "low.wav")
    bad = np.zeros((100_000, 1), np.float32)
    bad[90_000] = np.nan  # in a late block: found while streaming
    sf.write(tmp_path / "nan.wav", bad, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"nan\.wav: contains NaN or Inf"):
        read_audio(tmp_path / "nan.wav")
    with pytest.raises(AudioError, match="not a file"):
        read_audio(tmp_path)


def test_array_validation():
    assert as_channels_first(np.zeros(10), 16000).shape == (1, 10)
    with pytest.raises(AudioError, match="empty audio"):
        as_channels_first(np.zeros((1, 0)), 16000)
    with pytest.raises(AudioError, match="NaN or Inf"):
        as_channels_first(np.array([0.0, np.inf]), 16000)
    with pytest.raises(AudioError, match="below the 8000 Hz"):
        as_channels_first(np.zeros(10), 7999)
    with pytest.raises(AudioError, match=r"\[T\] or \[C, T\]"):
        as_channels_first(np.zeros((1, 2, 3)), 16000)


def test_write_refuses_existing_and_input(tmp_path):
    path = write_audio(tmp_path / "x.wav", _noise(1, 100), 16000)
    before = path.read_bytes()
    with pytest.raises(AudioError, match="output exists"):
        write_audio(path, _noise(1, 50), 16000)
    with pytest.raises(AudioError, match="would overwrite the input"):
        write_audio(path, _noise(1, 50), 16000, overwrite=True, protect=[path])
    assert path.read_bytes() == before
    write_audio(path, _noise(1, 50, seed=3), 16000, overwrite=True)
    assert read_audio(path)[0].shape == (1, 50)
    with pytest.raises(AudioError, match="unsupported output extension"):
        write_audio(tmp_path / "x.xyz", _noise(1, 50), 16000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.wav"]  # no temp files left


@pytest.mark.skipif(FILE_MODE == 0o600, reason="under umask 077 the umask mode is mkstemp's")
def test_written_file_gets_the_umask_mode_not_mkstemps_0600(tmp_path):
    path = write_audio(tmp_path / "x.wav", _noise(1, 800), 16000)
    assert path.stat().st_mode & 0o777 == FILE_MODE


def test_atomic_writer_leaves_nothing_on_failure(tmp_path):
    out = tmp_path / "out.wav"
    with pytest.raises(RuntimeError, match="boom"), AtomicWriter(out, 16000, 1) as writer:
        writer.write(_noise(1, 1000))
        assert writer.tmp.exists() and not out.exists()
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_stream_resampler_equals_whole_signal():
    x = _noise(2, 30_000)
    whole = resample(x, 44100, 16000)
    stream = StreamResampler(44100, 16000, 2)
    parts = [stream.push(x[:, i : i + 7001]) for i in range(0, x.shape[1], 7001)]
    joined = np.concatenate([*parts, stream.flush()], axis=1)
    np.testing.assert_array_equal(joined, whole)
    assert whole.shape[1] == round(30_000 * 16000 / 44100)


def test_resample_round_trip_of_band_limited_signal():
    t = np.arange(48000) / 48000
    x = np.sin(2 * np.pi * 440 * t).astype(np.float32)[None]  # [1, T], far below 8 kHz
    y = resample(resample(x, 48000, 16000), 16000, 48000)
    assert y.shape == x.shape
    np.testing.assert_allclose(y[:, 1000:-1000], x[:, 1000:-1000], atol=1e-4)
    assert resample(x, 48000, 48000) is x


def test_to_channels():
    x = _noise(1, 10)
    np.testing.assert_array_equal(to_channels(x, 2), np.concatenate([x, x]))
    st = _noise(2, 10)
    np.testing.assert_allclose(to_channels(st, 1), st.mean(axis=0, keepdims=True))
    with pytest.raises(AudioError, match="cannot map 6 channels to 2"):
        to_channels(_noise(6, 10), 2)
