"""The window over a real engine in file-driven mode (the tiny delay bundle, no device).

The tiny bundle's output is `gain(query) * input` delayed, with gain 1 for "speech",
0.25 for "dog barking" and 0 for "silence", so the RMS ratio output/input of white noise
shows exactly which messages reached the engine.
"""

from __future__ import annotations

import pytest
from helpers.gui_checks import image_gray, output_ratio, wait_audio
from helpers.tiny_bundle import make_delay_bundle
from PyQt6.QtCore import Qt

from livesep.errors import AudioError
from livesep.gui.meters import FLOOR_DB
from livesep.gui.spectrogram import FLOOR_DB as SPEC_FLOOR_DB

SETTLE_S = 0.6  # seconds of audio after a change before measuring (fades last one hop)


def _settled_ratio(qtbot, controller) -> float:
    wait_audio(qtbot, controller, SETTLE_S)
    return output_ratio(controller, 0.5)


def test_window_builds_with_every_part(make_window, bundle):
    w = make_window(bundle=str(bundle.path))
    assert w.controller.bundle is not None and w.controller.bundle.name == "tiny-delay"
    assert "22.0 ms" in w.bundle_panel.summary_label.text()  # (512 - 160) / 16 kHz
    assert "sha256 verified" in w.manifest_view.toPlainText()
    assert w.audio_panel.input_combo.count() >= 1  # "System default" at least
    assert w.query_panel.preset_list.count() > 0
    assert not w.controller.running and w.audio_panel.start_button.text() == "Start"


def test_controls_send_the_right_messages(qtbot, make_window, bundle, noise_file):
    w = make_window(bundle=str(bundle.path), input_file=str(noise_file), query="speech")
    c, q = w.controller, w.query_panel
    qtbot.waitUntil(lambda: c.last_stats is not None and c.last_stats.query == "speech")
    assert _settled_ratio(qtbot, c) == pytest.approx(1.0, rel=0.03)

    q.query_edit.setText("dog barking")
    qtbot.keyClick(q.query_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: c.last_stats.query == "dog barking")
    assert _settled_ratio(qtbot, c) == pytest.approx(0.25, rel=0.03)
    assert q.history.items[0] == "dog barking"

    q.query_edit.setText("remove speech")  # a removal phrase removes; the mode stays
    qtbot.keyClick(q.query_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: c.last_stats.query == "remove speech")
    assert c.last_stats.mode == "extract" and q.mode() == "extract"
    assert _settled_ratio(qtbot, c) == pytest.approx(0.0, abs=0.03)  # mixture - speech
    q.query_edit.setText("dog barking")
    qtbot.keyClick(q.query_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: c.last_stats.query == "dog barking")

    qtbot.mouseClick(q.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: c.last_stats.mode == "remove")
    assert _settled_ratio(qtbot, c) == pytest.approx(0.75, rel=0.03)  # dry - target

    q.wet_slider.setValue(50)
    qtbot.waitUntil(lambda: c.last_stats.wet == 0.5)
    assert _settled_ratio(qtbot, c) == pytest.approx(0.875, rel=0.03)

    q.gain_slider.setValue(-6)
    qtbot.waitUntil(lambda: c.last_stats.gain_db == -6.0)
    assert _settled_ratio(qtbot, c) == pytest.approx(0.875 * 10 ** (-6 / 20), rel=0.03)

    qtbot.mouseClick(w.audio_panel.bypass_box, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: c.last_stats.bypass)
    assert _settled_ratio(qtbot, c) == pytest.approx(10 ** (-6 / 20), rel=0.03)
    assert c.last_error is None

    # the query box speaks `livesep live`'s control grammar
    for line in (":bypass off", ":mix 1", ":mode extract"):
        q.query_edit.setText(line)
        qtbot.keyClick(q.query_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: c.last_stats.mode == "extract" and not c.last_stats.bypass)
    assert q.wet_slider.value() == 100 and not w.audio_panel.bypass_box.isChecked()
    assert c.last_stats.query == "dog barking"  # no control line became a query
    q.query_edit.setText(":volume 11")
    qtbot.keyClick(q.query_edit, Qt.Key.Key_Return)
    assert "unknown command :volume" in (c.last_error or "")


def test_meters_spectrograms_and_stats_update(qtbot, make_window, bundle, noise_file, tmp_path):
    w = make_window(bundle=str(bundle.path), input_file=str(noise_file), query="silence")
    c = w.controller
    assert w.audio_panel.start_button.text() == "Stop"
    wait_audio(qtbot, c, 1.0)
    qtbot.waitUntil(lambda: w.input_spec.model.frames_total > 20)
    # Noise at RMS 0.1 = -20 dBFS in; the "silence" query gives nothing out.
    assert w.input_meter.rms_db == pytest.approx(-20.0, abs=1.5)
    assert w.output_meter.rms_db == FLOOR_DB
    assert w.input_spec.model.image[:, -1].mean() > SPEC_FLOOR_DB + 20
    assert w.output_spec.model.image[:, -1].max() == SPEC_FLOOR_DB
    stats = w.stats_panel.text()
    assert stats["Provider"] == "CPUExecutionProvider"
    assert stats["Latency"].startswith(f"{c.last_stats.latency_ms:.1f} ms")
    assert "16000 Hz device" in stats["Stream"]
    shot = tmp_path / "shot.png"
    from livesep.gui.app import save_screenshot

    save_screenshot(w, shot)
    gray = image_gray(shot)
    assert gray.shape[1] == w.width() and gray.std() > 20  # not a blank grab

    qtbot.mouseClick(w.audio_panel.start_button, Qt.MouseButton.LeftButton)  # Stop
    assert not c.running and w.audio_panel.start_button.text() == "Start"
    assert w.input_meter.rms_db == FLOOR_DB and w.stats_panel.text()["Provider"] == "—"


def test_settings_persist_across_a_restart(qtbot, make_window, bundle, tmp_path):
    w = make_window(bundle=str(bundle.path))
    q = w.query_panel
    q.query_edit.setText("dog barking")
    qtbot.keyClick(q.query_edit, Qt.Key.Key_Return)
    q.query_edit.setText("cat meowing")
    qtbot.mouseClick(q.add_preset_button, Qt.MouseButton.LeftButton)
    q.preset_list.setCurrentRow(q.presets.items.index("siren"))
    qtbot.mouseClick(q.remove_preset_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(q.remove_button, Qt.MouseButton.LeftButton)
    q.wet_slider.setValue(30)
    q.gain_slider.setValue(-5)
    qtbot.mouseClick(w.audio_panel.bypass_box, Qt.MouseButton.LeftButton)
    w.audio_panel.file_edit.setText(str(tmp_path / "x.wav"))
    default_size = (w.width(), w.height())
    w.resize(700, 500)  # clamped to the window's minimum height; within the 800 x 600 screen
    size = (w.width(), w.height())
    assert size != default_size
    w.manifest_dock.close()
    w.close()

    w2 = make_window()  # same ini, no command-line options
    q2 = w2.query_panel
    assert w2.controller.bundle is not None and w2.controller.bundle.path == bundle.path
    assert q2.query_text() == "cat meowing"
    assert q2.history.items == ["dog barking"]
    assert "cat meowing" in q2.presets.items and "siren" not in q2.presets.items
    assert [q2.preset_list.item(i).text() for i in range(q2.preset_list.count())] == (
        q2.presets.items
    )
    assert q2.mode() == "remove" and q2.remove_button.isChecked()
    assert q2.wet() == 0.3 and q2.gain_db() == -5.0
    assert w2.audio_panel.bypass_box.isChecked()
    assert w2.audio_panel.input_file() == str(tmp_path / "x.wav")
    c2 = w2.controller
    assert (c2.mode, c2.wet, c2.gain_db, c2.bypass) == ("remove", 0.3, -5.0, True)
    assert (w2.width(), w2.height()) == size  # saveGeometry
    assert w2.manifest_dock.isHidden() and not w2.stats_dock.isHidden()  # saveState


def test_invalid_bundle_shows_an_error_and_the_app_keeps_running(
    qtbot, make_window, bundle, noise_file, tmp_path
):
    broken = make_delay_bundle(tmp_path, name="broken")
    with open(broken.path / "step.onnx", "ab") as f:
        f.write(b"\0")  # checksum no longer matches
    w = make_window(bundle=str(bundle.path))
    w.bundle_panel.path_edit.setText(str(broken.path))
    qtbot.keyClick(w.bundle_panel.path_edit, Qt.Key.Key_Return)
    assert w.error_box.isVisible() and "sha256 mismatch" in w.error_box.text()
    assert "step.onnx" in w.status.currentMessage()
    assert w.controller.bundle.path == bundle.path  # the good bundle stays loaded
    assert w.bundle_panel.summary_label.text().startswith("tiny-delay:")
    w.controller.load_bundle(tmp_path / "no-such-bundle")
    assert "not found" in w.error_box.text()

    w.error_box.close()
    w.audio_panel.file_edit.setText(str(noise_file))
    qtbot.mouseClick(w.audio_panel.start_button, Qt.MouseButton.LeftButton)
    assert w.controller.running
    wait_audio(qtbot, w.controller, 0.2)


def test_a_lost_stream_is_reported_and_can_be_restarted(qtbot, make_window, bundle, noise_file):
    w = make_window(bundle=str(bundle.path), input_file=str(noise_file))
    c = w.controller
    wait_audio(qtbot, c, 0.1)

    def vanish(*args, **kwargs):
        raise AudioError("device vanished")

    c.engine.process = vanish  # the next block fails as a vanished device would
    qtbot.waitUntil(lambda: not c.running)
    assert "device vanished" in w.error_box.text() and "restart" in w.error_box.text()
    assert w.audio_panel.start_button.text() == "Start"

    qtbot.mouseClick(w.audio_panel.start_button, Qt.MouseButton.LeftButton)
    assert c.running
    wait_audio(qtbot, c, 0.2)


def test_first_run_loads_the_default_bundle_and_shows_whole_fields(
    qtbot, make_window, bundle, monkeypatch
):
    monkeypatch.setenv("LIVESEP_BUNDLE", str(bundle.path))  # what models/default would be
    query = "a man speaking loudly in a crowded room"
    w = make_window(query=query)
    assert w.controller.bundle is not None and w.controller.bundle.path == bundle.path
    edit = w.query_panel.query_edit
    assert edit.text() == query
    assert edit.width() >= edit.fontMetrics().horizontalAdvance(query)  # nothing cut off
    assert edit.toolTip() == query


def test_start_without_devices_or_bundle_is_an_error_not_a_crash(make_window, bundle, monkeypatch):
    monkeypatch.setenv("LIVESEP_BUNDLE", str(bundle.path / "nowhere"))  # no default either
    w = make_window()
    assert not w.start_stream() and "no model bundle" in w.error_box.text()
    w.controller.load_bundle(bundle.path)
    w.audio_panel.file_edit.setText(str(bundle.path / "missing.wav"))
    assert not w.start_stream() and "file not found" in w.error_box.text()
    assert not w.controller.running and w.audio_panel.start_button.text() == "Start"


def test_preset_double_click_and_empty_query(qtbot, make_window, bundle):
    w = make_window(bundle=str(bundle.path))
    q = w.query_panel
    row = q.presets.items.index("dog barking")
    item = q.preset_list.item(row)
    rect = q.preset_list.visualItemRect(item)
    with qtbot.waitSignal(q.query_submitted) as sent:
        # A real double-click: press, release, then the double-click press and its release.
        view, left, pos = q.preset_list.viewport(), Qt.MouseButton.LeftButton, rect.center()
        qtbot.mouseClick(view, left, pos=pos)
        qtbot.mouseDClick(view, left, pos=pos)
        qtbot.mouseRelease(view, left, pos=pos)
    assert sent.args == ["dog barking"] and w.controller.query == "dog barking"
    q.query_edit.setText("   ")
    qtbot.keyClick(q.query_edit, Qt.Key.Key_Return)
    assert "empty query" in w.error_box.text() and w.controller.query == "dog barking"


def test_unknown_device_name_is_reported_and_the_app_keeps_running(make_window, bundle):
    w = make_window(bundle=str(bundle.path), input_device="no such microphone")
    assert "'no such microphone' not found" in w.error_box.text()
    assert not w.controller.running  # not silently started on another device
    assert w.audio_panel.start_button.isEnabled() and w.audio_panel.selected_input() is None


def test_query_box_shows_what_the_model_does_not_know(qtbot, make_window, tmp_path, noise_file):
    bank = {"rain": [1.0] + [0.0] * 383}
    cached = {"rain": bank["rain"], "keyboard typing": [0.0, 1.0] + [0.0] * 382}
    b = make_delay_bundle(tmp_path / "bank", query_bank=bank, embeddings=cached)
    w = make_window(bundle=str(b.path), input_file=str(noise_file), query="keyboard typing")
    c, q = w.controller, w.query_panel
    qtbot.waitUntil(lambda: "does not know" in q.warning_label.text())
    assert q.warning_label.isVisibleTo(w) and '"keyboard typing"' in q.warning_label.text()
    q.query_edit.setText("rain")
    qtbot.keyClick(q.query_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not q.warning_label.isVisibleTo(w))
    assert c.last_stats.query == "rain"


def test_learned_query_picker_runs_the_stored_vector(
    qtbot, make_window, bundle, noise_file, tmp_path, monkeypatch
):
    import numpy as np

    from livesep.learned import LearnedQuery, QueryStore

    monkeypatch.setenv("LIVESEP_QUERIES_DIR", str(tmp_path / "queries"))
    w = make_window(bundle=str(bundle.path), input_file=str(noise_file), query="speech")
    c, q = w.controller, w.query_panel
    vector = np.zeros(384, np.float32)
    vector[9] = 0.5  # the tiny bundle's gain = squared norm = 0.25
    QueryStore().save(LearnedQuery("half", vector, bundle.digest, bundle.name))
    QueryStore().save(LearnedQuery("elsewhere", vector, "0" * 64, "another bundle"))
    qtbot.waitUntil(lambda: q.learned_picker.bundle_digest == bundle.digest)
    q.learned_picker.refresh()  # another bundle's query is not offered
    assert [q.learned_picker.itemText(i) for i in range(q.learned_picker.count())] == [
        "learned…",
        "@half",
    ]
    qtbot.waitUntil(lambda: c.last_stats is not None and c.last_stats.query == "speech")
    q.learned_picker.activated.emit(1)
    qtbot.waitUntil(lambda: c.last_stats.query == "@half")
    assert q.query_text() == "@half" and q.learned_picker.currentIndex() == 0
    assert _settled_ratio(qtbot, c) == pytest.approx(0.25, rel=0.03)
