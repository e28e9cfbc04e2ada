"""Every test runs with the speech expert off (LIVESEP_NO_EXPERT=1), as `--no-expert`.

The tiny test bundle answers the query "speech" with a known gain; with the `speech` extra
installed, the hosts would send that query to DeepFilterNet3 instead. Tests of the expert
(tests/core/test_expert.py) turn it back on with `monkeypatch.delenv`.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_speech_expert(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVESEP_NO_EXPERT", "1")
