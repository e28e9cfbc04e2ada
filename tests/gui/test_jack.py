"""The GUI on a real audio server: JACK's dummy backend, started by the test."""

from __future__ import annotations

import pytest
from helpers.gui_checks import wait_audio
from PyQt6.QtCore import Qt

from livesep.realtime import jack

pytestmark = [
    pytest.mark.jack,
    pytest.mark.skipif(not jack.available(), reason="jackd not installed (apt-get install jackd2)"),
]

RATE = 48000  # Hz, the server's rate; the tiny bundle runs at 16 kHz (the engine resamples)
PERIOD = 480  # frames: 10 ms periods


def test_device_stream_on_jack(qtbot, make_window, bundle):
    with jack.JackServer(RATE, PERIOD):
        w = make_window(bundle=str(bundle.path), input_device="system", output_device="system")
        c = w.controller
        assert c.running, c.last_error
        labels = [
            w.audio_panel.input_combo.itemText(i) for i in range(w.audio_panel.input_combo.count())
        ]
        assert any("JACK" in text and "48000 Hz" in text for text in labels)
        assert w.audio_panel.selected_input().name == "system"
        wait_audio(qtbot, c, 0.5)
        qtbot.waitUntil(lambda: c.last_stats is not None and c.last_stats.hops > 20)
        stats = c.last_stats
        assert (stats.device_rate, stats.model_rate, stats.period_frames) == (RATE, 16000, PERIOD)
        assert stats.latency_ms > stats.algorithmic_ms  # buffering and device latency add
        assert w.stats_panel.text()["Stream"].startswith("48000 Hz device, 16000 Hz model")
        assert w.input_spec.model.sample_rate == RATE and w.input_spec.model.frames_total > 0

        qtbot.mouseClick(w.query_panel.remove_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: c.last_stats.mode == "remove")

        qtbot.mouseClick(w.audio_panel.start_button, Qt.MouseButton.LeftButton)  # Stop
        assert not c.running and w.audio_panel.refresh_button.isEnabled()
        qtbot.mouseClick(w.audio_panel.start_button, Qt.MouseButton.LeftButton)  # restart
        assert c.running
        wait_audio(qtbot, c, 0.2)
        assert c.last_stats.mode == "remove"  # the new engine got the user's controls
        w.close()
        assert not c.running
