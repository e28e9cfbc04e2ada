"""Bundles: absurd figures refused by the loader (and so by `verify`), and pinning a whole
bundle by its digest wherever one is loaded from the command line."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
from helpers.hostile import make_hostile_bundle, noise_wav, one_line_errors

from livesep.bundle import MANIFEST, bundle_digest, load_bundle, sha256_file
from livesep.cli import main
from livesep.errors import BundleError


def _copy(bundle, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(bundle.path, dst)
    return dst


def _edit_manifest(path, **changes) -> None:
    m = json.loads((path / MANIFEST).read_text())
    m.update(changes)
    (path / MANIFEST).write_text(json.dumps(m))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"latency_samples": 10**12}, "'latency_samples' is 1000000000000, outside 0..80000"),
        ({"sample_rate": 1}, "'sample_rate' is 1, outside 8000..192000"),
        ({"sample_rate": 10**9}, "'sample_rate' is 1000000000, outside"),
        ({"hop": 2**31}, "'hop' is 2147483648, outside"),
        ({"channels": 100000}, "'channels' is 100000, outside 1..64"),
        ({"block_hops": 10**7}, "'block_hops' is 10000000, outside"),
        ({"states": [{"name": "s00", "shape": [1 << 20, 1 << 10]}]}, "states hold over"),
    ],
)
def test_bad_figures_fail_verify_with_one_line(bundle, tmp_path, capsys, changes, message):
    path = _copy(bundle, tmp_path)
    _edit_manifest(path, **changes)
    assert main(["bundle", "verify", str(path)]) == 1
    err = capsys.readouterr().err
    one_line_errors(err)
    assert message in err and len(err.strip().splitlines()) == 1


def test_the_digest_is_a_sha256sum_listing_of_the_bundle(bundle):
    names = sorted([MANIFEST, *bundle.files], key=lambda n: n.encode())
    listing = "".join(f"{sha256_file(bundle.path / n)}  {n}\n" for n in names)
    assert bundle.digest == hashlib.sha256(listing.encode()).hexdigest()
    assert bundle_digest(bundle.path) == bundle.digest


def _tamper(path) -> None:
    """Change a file and rewrite its hash in the manifest, as an attacker would."""
    emb = path / "embeddings.json"
    data = json.loads(emb.read_text())
    data["texts"]["speech"][0] = 0.5  # a different gain for "speech"
    emb.write_text(json.dumps(data))
    m = json.loads((path / MANIFEST).read_text())
    m["files"]["embeddings.json"] = sha256_file(emb)
    (path / MANIFEST).write_text(json.dumps(m))


def test_verify_expect_pins_against_tampering(bundle, tmp_path, capsys):
    path = _copy(bundle, tmp_path)
    assert main(["bundle", "verify", str(path), "--expect", bundle.digest.upper()]) == 0
    assert f"digest {bundle.digest} (digest as expected)" in capsys.readouterr().out
    _tamper(path)
    assert main(["bundle", "verify", str(path)]) == 0  # in-bundle hashes: consistent
    assert main(["bundle", "verify", str(path), "--expect", bundle.digest]) == 1
    err = capsys.readouterr().err
    assert "does not match the expected" in err and len(err.strip().splitlines()) == 1
    assert main(["bundle", "verify", str(path), "--expect", "abc"]) == 1
    assert "not a 64-digit hex sha256" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tampered(tmp_path_factory):
    path = make_hostile_bundle(tmp_path_factory.mktemp("tampered")).path
    _tamper(path)
    return path


def test_every_cli_loader_takes_expect_digest(bundle, tampered, tmp_path, capsys):
    src = noise_wav(tmp_path / "in.wav")
    out = tmp_path / "out.wav"
    pin = ["--expect-digest", bundle.digest]
    runs = [
        ["separate", str(src), "-q", "speech", "-o", str(out), "--quiet"],
        ["live", "--query", "speech", "--input-file", str(src), "--output-file", str(out)],
        ["evaluate", "--bench", str(tmp_path / "no-bench")],
    ]
    for argv in runs:
        assert main([*argv, "--bundle", str(tampered), *pin]) == 1
        err = capsys.readouterr().err
        assert "does not match the expected" in err, argv[0]
        assert not out.exists()
    for argv in runs[:2]:
        assert main([*argv, "--bundle", str(bundle.path), *pin]) == 0
        out.unlink()


def test_gui_pins_every_bundle_it_loads(qtbot, bundle, tampered, tmp_path):
    from livesep.gui.app import LaunchOptions, build_window

    opts = LaunchOptions(
        bundle=str(tampered), settings=str(tmp_path / "s.ini"), expect_digest=bundle.digest
    )
    window = build_window(opts)
    qtbot.addWidget(window)
    assert window.controller.bundle is None
    assert "does not match the expected" in (window.controller.last_error or "")
    assert window.controller.load_bundle(bundle.path)  # the pinned one loads
    window.controller.shutdown()


def test_load_bundle_expect_digest(bundle, tampered):
    assert load_bundle(bundle.path, expect_digest=bundle.digest).digest == bundle.digest
    with pytest.raises(BundleError, match="does not match"):
        load_bundle(tampered, expect_digest=bundle.digest)
