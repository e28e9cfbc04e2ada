"""Run Python code in a fresh interpreter where torch and the text models on it cannot load.

`BLOCKER` makes `import torch` (and sentence_transformers, transformers) raise ImportError,
as on a base install that never had them; the code then reports what it imported. Used to
prove the runtime paths need no torch even on a machine (the dev venv) that has it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BLOCKED = ("torch", "sentence_transformers", "transformers")

BLOCKER = f"""
import importlib.abc, sys
class _Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {BLOCKED!r}:
            raise ImportError(f'{{name}} is not installed (blocked by the test)')
        return None
sys.meta_path.insert(0, _Blocked())
"""

REPORT = f"""
loaded = sorted(m for m in sys.modules if m.split('.')[0] in {BLOCKED!r} + ('livesep',)
                and (m.split('.')[0] != 'livesep' or m.startswith(('livesep.export',
                'livesep.training', 'livesep.model'))))
print('LOADED', ','.join(loaded))
"""


def run_without_torch(
    code: str, cwd: Path, python: str = sys.executable, timeout: float = 300
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run `code` with torch blocked; returns the process and the heavy modules it loaded
    (torch, sentence_transformers, transformers, livesep.export/training/model)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVESEP_")}
    proc = subprocess.run(
        [python, "-c", BLOCKER + code + REPORT],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("LOADED")]
    loaded = lines[-1].removeprefix("LOADED").strip().split(",") if lines else ["?"]
    return proc, [m for m in loaded if m]
