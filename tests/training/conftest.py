"""Shared fixtures for the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.synth_corpus import make_corpus


@pytest.fixture(scope="session")
def synth_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic corpus (written once per session)."""
    return make_corpus(tmp_path_factory.mktemp("synth_corpus"))
