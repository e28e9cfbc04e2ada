"""Type-check the `livesep` namespace with mypy.

The folders map onto one namespace (pyproject `package-dir`), which mypy cannot follow
through an editable install. This builds a tree of symbolic links shaped like the installed
package in a private temporary folder (so concurrent runs don't collide) and checks
`-p livesep` there.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WINGS = ("realtime", "export", "gui", "training")


def build_tree(tree: Path) -> None:
    pkg = tree / "livesep"
    pkg.mkdir(parents=True)
    for item in (ROOT / "core").iterdir():
        if item.name != "__pycache__" and item.name not in WINGS:
            (pkg / item.name).symlink_to(item)
    for wing in WINGS:
        (pkg / wing).symlink_to(ROOT / wing)


def main() -> int:
    tree = Path(tempfile.mkdtemp(prefix="livesep-typecheck-"))
    try:
        build_tree(tree)
        cmd = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
        cache = ["--cache-dir", str(ROOT / ".mypy_cache")]
        return subprocess.call([*cmd, *cache, "-p", "livesep"], cwd=tree)
    finally:
        shutil.rmtree(tree, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
