"""Outputs under faults: batch plans, names, disk full, signals, leftovers, live file mode."""

from __future__ import annotations

import csv
import errno
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from helpers.hostile import (
    ESCAPE_QUERY,
    RATE,
    env,
    noise_wav,
    one_line_errors,
    snapshot,
    temps,
)

from livesep import atomic
from livesep.audio import AtomicWriter, read_audio
from livesep.cli import main
from livesep.errors import AudioError, LivesepError


def _separate(bundle, *args: str) -> list[str]:
    return ["separate", *args, "--bundle", str(bundle.path), "--quiet"]


def _jobs(path, rows) -> str:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["input", "query", "output"])
        w.writerows(rows)
    return str(path)


# -- batch planning --------------------------------------------------------------------


def test_batch_refuses_a_job_that_writes_another_jobs_input(bundle, tmp_path, capsys):
    a, b = noise_wav(tmp_path / "a.wav"), noise_wav(tmp_path / "b.wav", seed=1)
    before = snapshot(tmp_path)
    jobs = _jobs(tmp_path / "jobs.csv", [[a, "speech", b], [b, "speech", tmp_path / "c.wav"]])
    after_csv = snapshot(tmp_path)
    assert main([*_separate(bundle, "--batch", jobs), "--overwrite"]) == 1
    err = capsys.readouterr().err
    assert "job 1 writes" in err and "job 2's input" in err and len(err.splitlines()) == 1
    assert snapshot(tmp_path) == after_csv and set(before) < set(after_csv)  # nothing written


def test_batch_refuses_two_jobs_with_one_output(bundle, tmp_path, capsys):
    a, b = noise_wav(tmp_path / "a.wav"), noise_wav(tmp_path / "b.wav", seed=1)
    out = tmp_path / "same.wav"
    jobs = _jobs(tmp_path / "jobs.csv", [[a, "speech", out], [b, "speech", out]])
    assert main([*_separate(bundle, "--batch", jobs), "--overwrite"]) == 1
    assert "jobs 1 and 2 both write" in capsys.readouterr().err
    assert not out.exists()


def test_queries_that_slug_alike_get_distinct_names(bundle, tmp_path):
    src = noise_wav(tmp_path / "a.wav")
    out = tmp_path / "out"
    argv = _separate(bundle, str(src), "-q", "speech!!!", "-q", "speech???", "-q", "¿¿", "-q",
                     "??", "--out-dir", str(out))  # fmt: skip
    assert main(argv) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["a.query-2.wav", "a.query.wav", "a.speech-2.wav", "a.speech.wav"]


def test_query_and_path_escapes_are_not_echoed_raw(bundle, tmp_path, capsys):
    src = noise_wav(tmp_path / "a.wav")
    missing = tmp_path / f"{ESCAPE_QUERY}.wav"
    argv = ["separate", str(src), str(missing), "-q", ESCAPE_QUERY, "-q", "speech", "--out-dir",
            str(tmp_path / "out"), "--bundle", str(bundle.path), "--quiet"]  # fmt: skip
    assert main(argv) == 1  # the missing input fails as its own job
    capsys.readouterr()
    argv.remove("--quiet")  # now the "reads as" lines and the progress bar print
    argv.append("--overwrite")
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "reads as" in captured.err and "job 2 failed" in captured.err
    for text in (captured.err, captured.out):
        clean = text.replace("\x1b[A", "")  # tqdm's own cursor-up between bars
        assert "\x1b" not in clean and "\x07" not in clean and "\x9b" not in clean


# -- names -------------------------------------------------------------------------------


def test_long_output_names(bundle, tmp_path, capsys):
    src = noise_wav(tmp_path / "a.wav")
    longest = tmp_path / ("x" * 251 + ".wav")  # 255 bytes: fits, the temp name is short
    assert main(_separate(bundle, str(src), "-q", "speech", "-o", str(longest))) == 0
    assert read_audio(longest)[0].shape == read_audio(src)[0].shape
    too_long = tmp_path / ("y" * 252 + ".wav")  # 256 bytes
    assert main(_separate(bundle, str(src), "-q", "speech", "-o", str(too_long))) == 1
    err = capsys.readouterr().err
    assert "file name too long (256 bytes, at most 255)" in err and "Traceback" not in err
    assert temps(tmp_path) == []


# -- the temporary file ------------------------------------------------------------------


def test_a_planted_link_at_the_temp_name_is_never_followed(tmp_path, monkeypatch):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    name = ".livesep-tmp-1-00000000.wav"
    (tmp_path / name).symlink_to(victim)
    monkeypatch.setattr(atomic, "temp_name", lambda suffix="": name)
    monkeypatch.setattr(atomic, "clean_once", lambda folder: None)  # keep the planted link
    with pytest.raises(AudioError, match="cannot write"):
        AtomicWriter(tmp_path / "out.wav", RATE, 1)
    assert victim.read_text() == "precious" and not (tmp_path / "out.wav").exists()


def test_disk_full_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    """ENOSPC simulated: the libsndfile write raises OSError(ENOSPC) (monkeypatched)."""
    import soundfile as sf

    def full(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(sf.SoundFile, "write", full)
    existing = tmp_path / "out.wav"
    existing.write_bytes(b"old")
    with AtomicWriter(existing, RATE, 1, overwrite=True) as w:
        with pytest.raises(AudioError, match=r"out.wav: cannot write \(no space left"):
            w.write(np.zeros((1, 100), np.float32))
    assert existing.read_bytes() == b"old" and temps(tmp_path) == []


# A batch under a real file-size limit (RLIMIT_FSIZE, as `ulimit -f` sets it): writes past
# it fail with EFBIG, which takes the same path as a full disk (a short write).
FSIZE_RUN = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
from livesep.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_file_size_limit_fails_one_job_and_the_batch_goes_on(bundle, tmp_path):
    big = noise_wav(tmp_path / "big.wav", seconds=4.0)  # 256 kB of float output
    small = noise_wav(tmp_path / "small.wav", seconds=0.5, seed=1)
    out = tmp_path / "out"
    rows = [[big, "speech", out / "big.out.wav"], [small, "speech", out / "small.out.wav"]]
    jobs = _jobs(tmp_path / "jobs.csv", rows)
    argv = _separate(bundle, "--batch", jobs)
    proc = subprocess.run(
        [sys.executable, "-c", FSIZE_RUN, *argv], env=env(), capture_output=True, text=True
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    one_line_errors(proc.stderr)
    assert "job 1 failed:" in proc.stderr and "big.out.wav: cannot write" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["small.out.wav"]  # no temp left
    assert read_audio(out / "small.out.wav")[0].shape == read_audio(small)[0].shape


# -- signals and leftovers ---------------------------------------------------------------

# `livesep separate` whose writer stalls after its first block and says so on stdout, so the
# test signals it mid-write without any timing.
STALLING_RUN = """
import sys, threading
from livesep import audio
from livesep.cli import main
write = audio.AtomicWriter.write
def stall(self, block):
    write(self, block)
    print("WRITING", flush=True)
    threading.Event().wait()
audio.AtomicWriter.write = stall
sys.exit(main(sys.argv[1:]))
"""


def _start_stalled(bundle, tmp_path):
    src = noise_wav(tmp_path / "in.wav", seconds=1.0)
    argv = _separate(bundle, str(src), "-q", "speech", "-o", str(tmp_path / "out.wav"))
    proc = subprocess.Popen(
        [sys.executable, "-c", STALLING_RUN, *argv],
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "WRITING"
    assert len(temps(tmp_path)) == 1  # the temp file exists mid-write
    return proc


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_remove_the_temp_file(bundle, tmp_path, signum):
    proc = _start_stalled(bundle, tmp_path)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum
    assert err.strip().endswith(f"terminated by {signal.Signals(signum).name}")
    one_line_errors(err)
    assert temps(tmp_path) == [] and not (tmp_path / "out.wav").exists()


def test_sigkill_leftovers_are_removed_by_the_next_run(bundle, tmp_path):
    proc = _start_stalled(bundle, tmp_path)
    proc.kill()
    proc.communicate(timeout=60)
    (left,) = temps(tmp_path)
    assert left.startswith(atomic.TEMP_PREFIX)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:  # a temp of a live process (another run writing) must survive
        other = tmp_path / f"{atomic.TEMP_PREFIX}{alive.pid}-0123abcd.wav"
        other.write_bytes(b"in progress")
        src = tmp_path / "in.wav"
        assert main(_separate(bundle, str(src), "-q", "speech", "-o", str(tmp_path / "2.wav"))) == 0
        assert temps(tmp_path) == [other.name]
    finally:
        alive.kill()
        alive.wait()


# -- live file mode ----------------------------------------------------------------------


def _live(bundle, src, dst, *extra: str) -> list[str]:
    return ["live", "--query", "speech", "--bundle", str(bundle.path), "--input-file", str(src),
            "--output-file", str(dst), *extra]  # fmt: skip


def test_live_file_mode_keeps_an_existing_output_without_overwrite(bundle, tmp_path, capsys):
    src = noise_wav(tmp_path / "in.wav")
    dst = tmp_path / "out.wav"
    dst.write_bytes(b"keep me")
    assert main(_live(bundle, src, dst)) == 1
    assert "out.wav: output exists" in capsys.readouterr().err
    assert dst.read_bytes() == b"keep me"
    assert main(_live(bundle, src, dst, "--overwrite")) == 0
    np.testing.assert_allclose(read_audio(dst)[0], read_audio(src)[0], atol=1e-6)
    assert temps(tmp_path) == []


def test_live_file_mode_validates_input_like_separate(bundle, tmp_path, capsys):
    from livesep.audio import write_audio

    nan = np.zeros((1, 4000), np.float32)
    nan[0, 100] = np.nan
    write_audio(tmp_path / "nan.wav", nan, RATE)
    write_audio(tmp_path / "low.wav", np.zeros((1, 4000), np.float32), 8000)
    (tmp_path / "low.wav").write_bytes(  # patch the header to 4 kHz
        _with_rate((tmp_path / "low.wav").read_bytes(), 4000)
    )
    for name, message in (("nan.wav", "NaN or Inf"), ("low.wav", "4000 Hz is below")):
        assert main(_live(bundle, tmp_path / name, tmp_path / f"{name}.out.wav")) == 1
        assert message in capsys.readouterr().err
        assert not (tmp_path / f"{name}.out.wav").exists()


def _with_rate(wav: bytes, rate: int) -> bytes:
    i = wav.index(b"fmt ") + 8
    channels = int.from_bytes(wav[i + 2 : i + 4], "little")
    align = int.from_bytes(wav[i + 12 : i + 14], "little")
    assert channels == 1
    head = wav[: i + 4] + rate.to_bytes(4, "little") + (rate * align).to_bytes(4, "little")
    return head + wav[i + 12 :]


def test_atomic_errors_are_one_line(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):  # root ignores permissions
            pytest.skip("running as root: a read-only folder is writable")
        with pytest.raises(LivesepError, match="permission denied"):
            atomic.write_text(ro / "x.txt", "x")
    finally:
        ro.chmod(0o700)
