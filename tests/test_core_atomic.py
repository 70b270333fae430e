"""Atomic writes: all-or-nothing, and ordinary file permissions (not mkstemp's 0o600)."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from poselab.core import atomic
from poselab.core.atomic import atomic_open, atomic_savez, atomic_write_text


def test_new_file_gets_umask_permissions_and_existing_mode_is_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "_UMASK", 0o022)
    path = tmp_path / "a.json"
    atomic_write_text(path, "{}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    os.chmod(path, 0o640)
    atomic_write_text(path, "[]")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and path.read_text() == "[]"


def test_failure_inside_the_block_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "poses.npz"
    atomic_savez(path, x=np.arange(3))
    with pytest.raises(RuntimeError), atomic_open(path, "wb") as fh:
        fh.write(b"partial")
        raise RuntimeError("killed mid-write")
    with np.load(path) as z:
        np.testing.assert_array_equal(z["x"], [0, 1, 2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["poses.npz"]
