"""Type-check the `livesep` namespace with mypy.

The folders map onto one namespace (pyproject `package-dir`), which mypy cannot follow
through an editable install. This builds a tree of symbolic links shaped like the installed
package under build/typecheck and checks `-p livesep` there.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WINGS = ("realtime", "export", "gui", "training")


def build_tree() -> Path:
    tree = ROOT / "build" / "typecheck"
    shutil.rmtree(tree, ignore_errors=True)
    pkg = tree / "livesep"
    pkg.mkdir(parents=True)
    for item in (ROOT / "core").iterdir():
        if item.name != "__pycache__" and item.name not in WINGS:
            (pkg / item.name).symlink_to(item)
    for wing in WINGS:
        (pkg / wing).symlink_to(ROOT / wing)
    return tree


def main() -> int:
    tree = build_tree()
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
    return subprocess.call([*cmd, "-p", "livesep"], cwd=tree)


if __name__ == "__main__":
    sys.exit(main())
