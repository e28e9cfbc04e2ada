"""Debian packages as data: fetch, unpack and run them without installing anything.

`PackageStore(cache)` downloads a package with `apt-get download` (no root needed) into
`cache/debs`, unpacks only the files the corpus can use (audio, soundfonts, or one zip) into
`cache/pkg/<name>`, and runs tools such as espeak-ng or fluidsynth from `cache/tools` with
their libraries on `LD_LIBRARY_PATH`. A package that is already installed is used in
place when it cannot be downloaded; a tool on `PATH` is used as it is.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from livesep.training.corpus_sources import CorpusError

AUDIO_SUFFIXES = (".ogg", ".oga", ".wav", ".flac", ".mp3", ".sf2")
_ARCH_LIB = "usr/lib/x86_64-linux-gnu"


def apt_available() -> bool:
    """Whether `apt-get` and `dpkg-deb` exist (Debian-like systems)."""
    return shutil.which("apt-get") is not None and shutil.which("dpkg-deb") is not None


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise CorpusError(f"cannot run {cmd[0]}: {exc}") from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise CorpusError(f"`{' '.join(cmd)}` failed: {last}")
    return done.stdout


def installed_version(package: str) -> str | None:
    """The installed version of `package`, or None."""
    if shutil.which("dpkg-query") is None:
        return None
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}\t${Version}", package],
        capture_output=True,
        text=True,
        check=False,
    )
    status, _, version = done.stdout.partition("\t")
    return version if done.returncode == 0 and status.endswith("installed") else None


@dataclass(frozen=True)
class Unpacked:
    """Files of one package: `root / path` for each `path` in `files` (sorted)."""

    name: str
    version: str
    root: Path
    files: tuple[str, ...]


class PackageStore:
    """Downloads and unpacks Debian packages under one cache folder."""

    def __init__(self, cache: Path) -> None:
        self.cache = Path(cache)
        self.debs = self.cache / "debs"
        self.tools_root = self.cache / "tools"

    # -- packages ---------------------------------------------------------------------
    def deb(self, package: str) -> Path:
        """The package's .deb in the cache, downloading it when missing."""
        self.debs.mkdir(parents=True, exist_ok=True)
        found = sorted(self.debs.glob(f"{package}_*.deb"))
        if found:
            return found[-1]
        if not apt_available():
            raise CorpusError(f"package {package} is not in {self.debs} and apt-get is missing")
        _run(["apt-get", "download", "-q", package], cwd=self.debs)
        found = sorted(self.debs.glob(f"{package}_*.deb"))
        if not found:
            raise CorpusError(f"apt-get download {package} left no .deb in {self.debs}")
        return found[-1]

    def unpack(
        self,
        package: str,
        archive: str | None = None,
        prefix: str = "",
        extra: tuple[str, ...] = (),
    ) -> Unpacked:
        """Audio files of `package` (or the members of its zip `archive` under `prefix`).

        `extra` suffixes are unpacked and listed too (a drum kit's `.xml` and `.aiff`).

        Raises:
            CorpusError: the package can be neither downloaded nor found installed.
        """
        suffixes = AUDIO_SUFFIXES + extra
        try:
            deb = self.deb(package)
        except CorpusError:
            version = installed_version(package)
            if version is None:
                raise
            return self._installed(package, version, archive, prefix, suffixes)
        version = _run(["dpkg-deb", "-f", str(deb), "Version"]).strip()
        root = self.cache / "pkg" / package
        done = root / ".unpacked"
        marker = version + (f" +{','.join(extra)}" if extra else "")
        if not (done.exists() and done.read_text() == marker):
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            wanted = [archive] if archive else None
            _extract_deb(deb, root, wanted, suffixes=suffixes)
            if archive:
                zip_path = root / archive
                _extract_zip(zip_path, root / (archive + ".d"), prefix)
                zip_path.unlink()  # 0ad's public.zip is 3 GB; keep only its audio
            done.write_text(marker)
        base = root / (archive + ".d") if archive else root
        return Unpacked(package, version, base, _list_files(base, suffixes))

    def _installed(
        self,
        package: str,
        version: str,
        archive: str | None,
        prefix: str,
        suffixes: tuple[str, ...] = AUDIO_SUFFIXES,
    ) -> Unpacked:
        if archive:
            root = self.cache / "pkg" / package
            base = root / (archive + ".d")
            done = root / ".unpacked"
            if not (done.exists() and done.read_text() == version):
                shutil.rmtree(root, ignore_errors=True)
                _extract_zip(Path("/") / archive, base, prefix)
                done.write_text(version)
            return Unpacked(package, version, base, _list_files(base))
        listed = _run(["dpkg", "-L", package]).splitlines()
        files = sorted(
            p.lstrip("/") for p in listed if p.lower().endswith(suffixes) and Path(p).is_file()
        )
        return Unpacked(package, version, Path("/"), tuple(files))

    # -- tools ------------------------------------------------------------------------
    def tool(self, binary: str, package: str) -> tuple[list[str], dict[str, str], str]:
        """How to run `binary`: (argv prefix, environment, version of its package).

        Uses the binary on PATH when there is one; otherwise unpacks `package` and every
        dependency that is not installed into `cache/tools` (no root install).
        """
        env = dict(os.environ)
        system = shutil.which(binary)
        if system is not None:
            return [system], env, installed_version(package) or "system"
        prefix = self.tools_root
        exe = prefix / "usr/bin" / binary
        marker = prefix / f".{package}.done"
        if not marker.exists():
            if not apt_available():
                raise CorpusError(f"{binary} is not installed and apt-get is missing")
            missing = _missing_dependencies(package)
            prefix.mkdir(parents=True, exist_ok=True)
            for name in missing:
                _extract_deb(self.deb(name), prefix, None, everything=True)
            marker.write_text(self._version(package))
        if not exe.exists():
            raise CorpusError(f"{binary} not found in package {package} ({exe})")
        libs = [str(prefix / _ARCH_LIB), str(prefix / _ARCH_LIB / "pulseaudio")]
        env["LD_LIBRARY_PATH"] = os.pathsep.join(libs + [env.get("LD_LIBRARY_PATH", "")])
        return [str(exe)], env, marker.read_text()

    def tool_data(self, relative: str) -> Path:
        """A data path shipped with an unpacked tool (e.g. espeak-ng-data), else the system's."""
        local = self.tools_root / relative
        return local if local.exists() else Path("/") / relative

    def _version(self, package: str) -> str:
        return _run(["dpkg-deb", "-f", str(self.deb(package)), "Version"]).strip()


def _missing_dependencies(package: str) -> list[str]:
    """The package and its dependencies that are not installed, as apt resolves them."""
    out = _run(["apt-get", "install", "--simulate", "--no-install-recommends", package])
    names = re.findall(r"^Inst (\S+)", out, flags=re.MULTILINE)
    return names or [package]


def _extract_deb(
    deb: Path,
    dest: Path,
    wanted: list[str] | None,
    everything: bool = False,
    suffixes: tuple[str, ...] = AUDIO_SUFFIXES,
) -> None:
    """Unpack files of a .deb: `wanted` paths, else files with `suffixes` (or everything)."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
        for member in tar:
            name = member.name.removeprefix("./")
            if member.isdir() or not name:
                continue
            if wanted is not None:
                keep = name in wanted
            else:
                keep = everything or name.lower().endswith(suffixes)
            if not keep:
                continue
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if member.issym() or member.islnk():
                link = member.linkname
                if member.islnk():
                    link = os.path.relpath(dest / link.removeprefix("./"), target.parent)
                if target.is_symlink() or target.exists():
                    target.unlink()
                target.symlink_to(link)
                continue
            source = tar.extractfile(member)
            if source is None:
                continue
            with open(target, "wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
            target.chmod(member.mode & 0o777 | 0o600)
    if proc.wait() != 0:
        raise CorpusError(f"dpkg-deb --fsys-tarfile {deb} failed")


def _extract_zip(zip_path: Path, dest: Path, prefix: str) -> None:
    if not zip_path.exists():
        raise CorpusError(f"{zip_path} is missing from its package")
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            name = info.filename
            if name.startswith(prefix) and name.lower().endswith(AUDIO_SUFFIXES):
                archive.extract(info, dest)


def _list_files(base: Path, suffixes: tuple[str, ...] = AUDIO_SUFFIXES) -> tuple[str, ...]:
    files = sorted(
        str(p.relative_to(base)) for p in base.rglob("*") if p.is_file() or p.is_symlink()
    )
    return tuple(f for f in files if f.lower().endswith(suffixes))
