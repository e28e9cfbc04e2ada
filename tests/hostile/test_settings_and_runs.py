"""Files that could carry code or lose work: GUI settings, training run folders, caches."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from helpers.hostile import REPO, run_python

from livesep.cli import main
from livesep.errors import ConfigError

# Writes an ini whose state/query is a pickled object that creates argv[2] when unpickled,
# the way PyQt's QSettings stores a Python object (@Variant(... PyQt_PyObject ...)).
MAKE_PAYLOAD = """
import sys
from PyQt6.QtCore import QSettings
class Payload:
    def __reduce__(self):
        return (open, (sys.argv[2], "w"))
s = QSettings(sys.argv[1], QSettings.Format.IniFormat)
s.setValue("state/query", Payload())
s.setValue("window/geometry", Payload())
s.setValue("state/wet", 0.5)
s.sync()
"""
READ_WITH_QSETTINGS = """
import sys
from PyQt6.QtCore import QSettings
QSettings(sys.argv[1], QSettings.Format.IniFormat).value("state/query")
"""


@pytest.fixture
def payload_ini(tmp_path):
    ini, marker = tmp_path / "evil.ini", tmp_path / "PWNED"
    proc = run_python(MAKE_PAYLOAD, str(ini), str(marker))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "@Variant(" in ini.read_text() and not marker.exists()
    return ini, marker


def test_the_payload_is_live_under_qsettings(payload_ini):
    """The control: reading this file with QSettings runs the payload."""
    ini, marker = payload_ini
    assert run_python(READ_WITH_QSETTINGS, str(ini)).returncode == 0
    assert marker.exists()


def test_gui_settings_payload_does_not_run(qtbot, payload_ini):
    from livesep.gui.app import LaunchOptions, build_window
    from livesep.gui.settings import open_settings, restore_state

    ini, marker = payload_ini
    settings = open_settings(str(ini))
    assert sorted(settings.refused) == ["state/query", "window/geometry"]
    state = restore_state(settings)
    assert state.query == "speech" and state.wet == 0.5  # the default; the plain value kept
    window = build_window(LaunchOptions(settings=str(ini)))
    qtbot.addWidget(window)
    assert "ignored 2 entries holding serialized objects" in window.error_box.text()
    window.close()  # saves the settings: the payload is gone from the file
    window.controller.shutdown()
    assert not marker.exists()
    assert "@Variant" not in ini.read_text() and "wet=0.5" in ini.read_text()


def test_gui_cli_with_payload_settings_runs_nothing(payload_ini, tmp_path):
    ini, marker = payload_ini
    code = "import sys; from livesep.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = run_python(code, "gui", "--settings", str(ini), "--quit-after", "0")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not marker.exists()


def test_garbled_settings_are_a_clear_error(tmp_path):
    from livesep.errors import LivesepError
    from livesep.gui.settings import MAX_BYTES, open_settings

    bad = tmp_path / "bad.ini"
    bad.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(LivesepError, match="not a settings ini file"):
        open_settings(str(bad))
    bad.write_bytes(b"[state]\n" + b"x" * (MAX_BYTES + 1))
    with pytest.raises(LivesepError, match="larger than"):
        open_settings(str(bad))


# -- training run folders -----------------------------------------------------------------

TINY = str(REPO / "configs" / "tiny.yaml")


def test_train_refuses_an_existing_run_without_resume_or_overwrite(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "last.pt").write_bytes(b"step 300, hours of work")
    argv = ["train", "--config", TINY, f"out_dir={run}", "--no-progress"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "already holds a run (last.pt)" in err and "--resume" in err and "--overwrite" in err
    assert main([*argv, "--resume", "--overwrite"]) == 1
    assert "pick one" in capsys.readouterr().err
    assert (run / "last.pt").read_bytes() == b"step 300, hours of work"


def test_overwrite_clears_the_run_but_not_init_from_inside_it(tmp_path):
    from livesep.training.config import load_config
    from livesep.training.train import check_run_folder, clear_run_folder

    run = tmp_path / "run"
    (run / "tb").mkdir(parents=True)
    for name in ("last.pt", "step_0000100.pt", "log.jsonl", "embeddings.npz"):
        (run / name).write_bytes(b"x")
    cfg = load_config(TINY, [f"out_dir={run}", f"init_from={run / 'last.pt'}"])
    with pytest.raises(ConfigError, match="init_from"):
        check_run_folder(cfg, resume=False, overwrite=True)
    clear_run_folder(run)
    assert sorted(p.name for p in run.iterdir()) == ["embeddings.npz"]  # the cache stays


class _Marker:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_object_array_caches_are_a_one_line_error_and_never_unpickled(tmp_path):
    from livesep.training.dataset import read_caption_cache

    marker = tmp_path / "PWNED"
    cache = tmp_path / "embeddings.npz"
    texts = np.empty(1, dtype=object)
    texts[0] = _Marker(str(marker))
    np.savez(cache, encoder=np.array("minilm"), texts=texts, vectors=np.zeros((1, 4)))
    assert pickle.dumps(texts)  # a real pickle payload is inside
    with pytest.raises(ConfigError) as info:
        read_caption_cache(cache, "minilm")
    assert str(cache) in str(info.value) and "delete it to rebuild" in str(info.value)
    assert len(str(info.value).splitlines()) == 1 and not marker.exists()
