"""`livesep live --virtual-mic` against a real, headless PipeWire started by the test.

The CLI plays a noise file in real time through the tiny delay bundle (output = input
delayed) into the source node "livesep"; `pw-record` records from the node like any app
recording a microphone, and the recording must be the file's noise (correlation), on both
channels (mono goes to both).
"""

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers.pipewire_server import PipeWireServer, available
from helpers.tiny_bundle import make_delay_bundle
from scipy.signal import butter, sosfilt

from livesep.realtime.routing import pipewire_jack_library
from livesep.realtime.virtual_mic import check_name, node_props

RATE = 48000  # Hz, PipeWire's default graph rate


def test_node_properties_and_name_checks():
    props = node_props("livesep", 48000, 256)
    assert "media.class=Audio/Source/Virtual " in props and 'node.name="livesep"' in props
    assert "node.latency=256/48000" in props
    assert check_name("my-mic_2") == "my-mic_2"
    for bad in ("", "a b", 'x"y', "a}", "x" * 65):
        with pytest.raises(Exception, match="virtual microphone name"):
            check_name(bad)


def find(ref: np.ndarray, rec: np.ndarray) -> tuple[int, float]:
    """(offset, correlation coefficient) of rec[T] found inside ref[T'] (T' > T)."""
    size = 1 << int(np.ceil(np.log2(ref.shape[0] + rec.shape[0])))
    xc = np.fft.irfft(np.fft.rfft(ref, size) * np.conj(np.fft.rfft(rec, size)), size)
    offset = int(np.argmax(xc[: ref.shape[0] - rec.shape[0]]))
    return offset, float(np.corrcoef(ref[offset : offset + rec.shape[0]], rec)[0, 1])


@pytest.mark.pipewire
@pytest.mark.skipif(
    not available() or pipewire_jack_library() is None,
    reason="needs pipewire pipewire-bin pipewire-jack wireplumber dbus-daemon",
)
def test_other_apps_record_livesep_output_from_the_virtual_mic(tmp_path):
    bundle = make_delay_bundle(tmp_path / "b")  # 16 kHz; "speech": output = input delayed
    seconds = 8.0
    rng = np.random.default_rng(3)
    noise = rng.standard_normal(int(seconds * RATE)) * 0.2
    noise = sosfilt(butter(8, 6000, fs=RATE, output="sos"), noise).astype(np.float32)
    sf.write(tmp_path / "in.wav", noise, RATE, subtype="FLOAT")
    livesep = str(Path(sys.executable).with_name("livesep"))
    cmd = [livesep, "live", "--virtual-mic", "--input-file", str(tmp_path / "in.wav")]
    cmd += ["--bundle", str(bundle.path), "--query", "speech", "--duration", str(seconds)]
    with PipeWireServer() as pw:
        live = subprocess.Popen(cmd, env=pw.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        rec_path = tmp_path / "rec.wav"
        try:
            deadline = time.monotonic() + 20
            while "livesep-engine" not in pw.run("pw-cli", "ls", "Node").stdout:
                assert live.poll() is None, live.stdout.read().decode()
                assert time.monotonic() < deadline, "the engine never joined the graph"
                time.sleep(0.2)
            nodes = pw.run("pw-dump").stdout
            assert '"media.class": "Audio/Source/Virtual"' in nodes  # apps list it as a microphone
            time.sleep(0.5)
            record = [
                "pw-record",
                "--target",
                "livesep",
                "--rate",
                str(RATE),
                "--channels",
                "2",
                "--format",
                "f32",
                str(rec_path),
            ]
            rec_proc = subprocess.Popen(record, env=pw.env)
            time.sleep(2.5)
            rec_proc.terminate()
            rec_proc.wait(timeout=5)
            out, _ = live.communicate(timeout=30)
        finally:
            if live.poll() is None:
                live.kill()
                live.wait()
        assert live.returncode == 0, out.decode()
    rec, rate = sf.read(rec_path, dtype="float32", always_2d=True)
    assert rate == RATE and rec.shape[1] == 2 and rec.shape[0] > RATE
    rec = rec[RATE:]  # [T, 2] past the start (the recorder may start before the file plays)
    assert np.abs(rec).max() > 0.05  # it carries sound
    np.testing.assert_array_equal(rec[:, 0], rec[:, 1])  # mono on both channels
    # The best of a few 0.2 s windows (a loaded box may drop a quantum in the graph).
    win = RATE // 5
    corr = max(find(noise, rec[i : i + win, 0])[1] for i in range(0, rec.shape[0] - win, win))
    assert corr > 0.95, f"the recording is not livesep's output (correlation {corr:.3f})"
