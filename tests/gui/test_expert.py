"""The speech expert in the window: the path shown, the off switch, a missing extra."""

from __future__ import annotations

import pytest
from helpers.gui_checks import output_ratio, wait_audio

from livesep import expert

SETTLE_S = 0.6  # seconds of audio after a change (a lane switch takes ~60 ms)


@pytest.mark.skipif(not expert.available(), reason="the speech extra is missing")
def test_a_speech_query_shows_the_expert_and_the_switch_turns_it_off(
    qtbot, make_window, bundle, noise_file
):
    w = make_window(
        bundle=str(bundle.path), input_file=str(noise_file), query="speech", expert=True
    )
    c, q = w.controller, w.query_panel
    qtbot.waitUntil(
        lambda: c.last_stats is not None and c.last_stats.path == "expert", timeout=15000
    )
    qtbot.waitUntil(lambda: "speech expert (DeepFilterNet3)" in q.path_label.text())
    assert q.expert_box.isEnabled() and q.expert_box.isChecked()
    wait_audio(qtbot, c, SETTLE_S)
    assert output_ratio(c) < 0.2  # DeepFilterNet3 removes white noise ("speech")
    q.expert_box.click()  # off: the model plays "speech" (the tiny bundle's gain 1)
    qtbot.waitUntil(lambda: c.last_stats.path == "model", timeout=15000)
    qtbot.waitUntil(lambda: q.path_label.text() == "Path: model")
    wait_audio(qtbot, c, SETTLE_S)
    assert output_ratio(c) == pytest.approx(1.0, rel=0.05)
    assert w.current_state().expert is False  # remembered in the settings
    assert w.stats_panel.text()["Latency"].split("(")[1].startswith("model")


def test_without_the_extra_the_switch_is_disabled_and_says_what_it_adds(
    qtbot, make_window, bundle, noise_file, monkeypatch
):
    monkeypatch.setattr(expert, "available", lambda: False)
    w = make_window(
        bundle=str(bundle.path), input_file=str(noise_file), query="speech", expert=True
    )
    c, q = w.controller, w.query_panel
    assert not q.expert_box.isEnabled() and "livesep[speech]" in q.expert_box.toolTip()
    qtbot.waitUntil(lambda: c.last_stats is not None and c.last_stats.query == "speech")
    qtbot.waitUntil(lambda: "not installed" in q.path_label.text())
    assert "livesep[speech]" in q.path_label.toolTip()
    wait_audio(qtbot, c, SETTLE_S)
    assert output_ratio(c) == pytest.approx(1.0, rel=0.05)  # live works as before
