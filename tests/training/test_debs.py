"""Package store: unpacking a .deb from the cache, with and without extra suffixes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from livesep.training.debs import PackageStore

pytestmark = pytest.mark.skipif(
    shutil.which("dpkg-deb") is None, reason="dpkg-deb missing: the store unpacks Debian packages"
)


def _make_deb(cache: Path, name: str, version: str, files: dict[str, bytes]) -> None:
    """A minimal .deb in the store's cache (found there, so nothing is downloaded)."""
    tree = cache / "build" / name
    (tree / "DEBIAN").mkdir(parents=True)
    control = f"Package: {name}\nVersion: {version}\nArchitecture: all\n"
    control += "Maintainer: test <t@example.org>\nDescription: test\n"
    (tree / "DEBIAN" / "control").write_text(control)
    for path, data in files.items():
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_bytes(data)
    (cache / "debs").mkdir(parents=True, exist_ok=True)
    deb = cache / "debs" / f"{name}_{version}_all.deb"
    subprocess.run(["dpkg-deb", "--build", str(tree), str(deb)], check=True, capture_output=True)


def test_unpack_lists_audio_then_extra_suffixes_on_request(tmp_path: Path) -> None:
    files = {
        "usr/share/kit/a.wav": b"RIFF0",
        "usr/share/kit/b.FLAC": b"fLaC0",
        "usr/share/kit/drumkit.xml": b"<drumkit/>",
        "usr/share/doc/kit/README": b"text",
    }
    _make_deb(tmp_path, "kit-data", "1.2-3", files)
    store = PackageStore(tmp_path)

    plain = store.unpack("kit-data")
    assert plain.version == "1.2-3"
    assert plain.files == ("usr/share/kit/a.wav", "usr/share/kit/b.FLAC")
    assert not (plain.root / "usr/share/kit/drumkit.xml").exists()

    # A new suffix set re-unpacks (the marker names it); the files are really there.
    extra = store.unpack("kit-data", extra=(".xml",))
    assert "usr/share/kit/drumkit.xml" in extra.files and len(extra.files) == 3
    assert (extra.root / "usr/share/kit/drumkit.xml").read_bytes() == b"<drumkit/>"
    assert (extra.root / ".unpacked").read_text() == "1.2-3 +.xml"

    # The same request again is served from the unpacked tree.
    marker = extra.root / ".unpacked"
    stamp = marker.stat().st_mtime_ns
    assert store.unpack("kit-data", extra=(".xml",)).files == extra.files
    assert marker.stat().st_mtime_ns == stamp

    # Back to the plain request: a fresh tree without the extra files.
    again = store.unpack("kit-data")
    assert again.files == plain.files
    assert not (again.root / "usr/share/kit/drumkit.xml").exists()
    assert not (again.root / "usr/share/doc/kit/README").exists()
