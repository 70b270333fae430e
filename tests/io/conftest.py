"""Fixtures of the poselab.io tests (helpers live in ``io_fixtures``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from io_fixtures import random_collection

from poselab.core import PoseCollection


@pytest.fixture
def collection(tmp_path: Path) -> PoseCollection:
    """A 5-sample coco17 collection over 4 small JPEGs in ``tmp_path/images``."""
    return random_collection(tmp_path)
