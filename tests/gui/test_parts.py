"""The GUI's numpy/plain-Python parts: presets, history, settings, levels, spectrogram."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from livesep.gui.devices import DeviceInfo, find_device, inputs, outputs
from livesep.gui.meters import FLOOR_DB, level_dbfs
from livesep.gui.presets import DEFAULT_PRESETS, HISTORY_SIZE, Presets, QueryHistory
from livesep.gui.settings import GuiState, open_settings, restore_state, save_state
from livesep.gui.spectrogram import MAX_ROWS, SpectrogramModel, frame_sizes
from livesep.gui.stats_panel import ROWS, format_stats
from livesep.gui.viewmodel import stream_channels, stream_rate


def test_history_most_recent_first_without_duplicates():
    h = QueryHistory()
    for text in ["speech", " dog barking ", "", "speech", "   "]:
        h.add(text)
    assert h.items == ["speech", "dog barking"]
    for i in range(2 * HISTORY_SIZE):
        h.add(f"q{i}")
    assert len(h.items) == HISTORY_SIZE and h.items[0] == f"q{2 * HISTORY_SIZE - 1}"


def test_presets_add_remove_reset():
    p = Presets()
    assert p.items == list(DEFAULT_PRESETS)
    assert p.add("cat meowing") and not p.add("cat meowing") and not p.add("  ")
    assert p.remove("speech") and not p.remove("speech")
    assert p.items[-1] == "cat meowing" and "speech" not in p.items
    assert Presets([]).items == []  # an emptied list stays empty (not the defaults)
    p.reset()
    assert p.items == list(DEFAULT_PRESETS)


def test_settings_round_trip_through_ini(tmp_path):
    path = str(tmp_path / "s.ini")
    state = GuiState(
        bundle="/b",
        input_device="JACK: system",
        query="dog barking",
        history=["dog barking", "speech"],
        presets=[],
        mode="remove",
        wet=0.25,
        gain_db=-6.0,
        bypass=True,
    )
    save_state(open_settings(path), state)
    assert restore_state(open_settings(path)) == state
    assert restore_state(open_settings(str(tmp_path / "none.ini"))) == GuiState()


def test_settings_garbage_falls_back_to_valid_values(tmp_path):
    path = tmp_path / "s.ini"
    path.write_text("[state]\nwet=7\ngain_db=abc\nmode=sideways\npresets=not json\n")
    state = restore_state(open_settings(str(path)))
    assert state.wet == 1.0 and state.gain_db == 0.0 and state.mode == "extract"
    assert state.presets == list(DEFAULT_PRESETS)


def test_level_dbfs():
    t = np.arange(16000) / 16000
    sine = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    peak, rms = level_dbfs(sine)
    assert peak == pytest.approx(20 * np.log10(0.5), abs=0.01)
    assert rms == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.01)
    assert level_dbfs(np.zeros(100)) == (FLOOR_DB, FLOOR_DB)
    assert level_dbfs(np.zeros(0)) == (FLOOR_DB, FLOOR_DB)


@pytest.mark.parametrize("rate, n_fft, pool", [(16000, 512, 1), (48000, 2048, 4)])
def test_spectrogram_finds_a_full_scale_sine_at_its_frequency(rate, n_fft, pool):
    m = SpectrogramModel(rate)
    assert (m.n_fft, m.hop) == frame_sizes(rate) == (n_fft, n_fft // 2)
    assert m.pool == pool and m.n_rows == n_fft // 2 // pool <= MAX_ROWS
    t = np.arange(rate) / rate
    x = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    # Pushed in uneven pieces, as GUI ticks deliver it: frames continue across pushes.
    new = sum(m.push(piece) for piece in np.split(x, [100, 1234, 5000]))
    assert new == 1 + (rate - m.n_fft) // m.hop == m.frames_total
    column = m.image[:, -1]  # [rows], the newest frame
    row_hz = pool * rate / n_fft  # Hz per row
    assert column.argmax() * row_hz == pytest.approx(1000, abs=row_hz)
    # Full scale -> 0 dB, less Hann scalloping (<= 1.42 dB between bins: 1 kHz is bin 42.7
    # at 48 kHz / 2048).
    assert -1.5 <= column.max() <= 0.1
    assert np.all(m.image[:, : m.n_cols - new] == m.image.min())  # older columns untouched
    assert m.image.flags.c_contiguous  # pyqtgraph draws it without a copy


def test_spectrogram_bounds_work_after_a_stall():
    m = SpectrogramModel(16000)
    assert m.push(np.zeros(10 * 16000, np.float32)) <= 64  # newest frames only
    assert len(m.pending) < m.n_fft


def _stats(**kw):
    base = dict(
        provider="CPUExecutionProvider",
        device_rate=48000,
        model_rate=32000,
        period_frames=480,
        input_underflows=1,
        input_overflows=0,
        output_underflows=2,
        output_overflows=0,
        fallback_frames=96,
        late_hops=3,
        resyncs=1,
        hops=1000,
        rtf_median=0.12,
        rtf_p99=0.31,
        algorithmic_ms=22.0,
        resample_ms=1.5,
        buffering_ms=10.0,
        device_latency_ms=20.0,
        latency_ms=52.0,
    )
    base.update(kw)
    return SimpleNamespace(**base)


def test_format_stats_shows_the_numbers():
    text = format_stats(_stats())
    assert set(text) == set(ROWS)
    assert text["Latency"].startswith("52.0 ms") and "model 22.0" in text["Latency"]
    assert "resample 1.5" in text["Latency"]
    assert text["Load"] == "12 % median, 31 % p99"
    assert text["Dropouts"].startswith("3 ") and "fallback 96" in text["Dropouts"]
    assert text["Late hops"].startswith("3 ")
    assert text["Provider"] == "CPUExecutionProvider"
    assert set(format_stats(None).values()) == {"—"}


def _dev(index, name, api="JACK Audio Connection Kit", rate=48000.0, ins=2, outs=2):
    return DeviceInfo(index, name, api, rate, ins, outs)


def test_device_lookup_and_stream_parameters():
    devs = [_dev(0, "system"), _dev(1, "USB Mic", "ALSA", 44100.0, 1, 0)]
    assert [d.index for d in inputs(devs)] == [0, 1]
    assert [d.index for d in outputs(devs)] == [0]
    assert find_device(devs, "1") == devs[1]
    assert find_device(devs, "ALSA: USB Mic") == devs[1]
    assert find_device(devs, "usb") == devs[1]
    assert find_device(devs, "nothing") is None and find_device(devs, "") is None
    assert "48000 Hz" in devs[0].label and "2 in / 2 out" in devs[0].label
    assert stream_rate(devs[1], devs[0]) == 48000  # the output's rate wins
    assert stream_rate(devs[1], None) == 44100 and stream_rate(None, None) is None
    assert stream_channels(devs[0], devs[0]) == 2
    assert stream_channels(devs[1], devs[0]) == 1
    assert stream_channels(None, None) == 1
