"""The hostile-input suite's shared tiny bundle (torch-free, closed-form graphs)."""

from __future__ import annotations

import pytest
from helpers.hostile import make_hostile_bundle


@pytest.fixture(scope="package")
def bundle(tmp_path_factory):
    return make_hostile_bundle(tmp_path_factory.mktemp("hostile-bundle"))
