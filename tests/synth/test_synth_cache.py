"""render_subset: a subset of a mocap17-layout pose file is rendered once, then reused."""

from __future__ import annotations

import numpy as np
import pytest

from poselab.core.errors import DataError
from poselab.core.progress import drain
from poselab.synth.cache import render_subset, subset_dir


def test_subset_is_rendered_once_then_read_back(shared_data, tmp_path):
    poses = shared_data / "mocap17" / "h36m17_train35k.npz"
    idx = np.array([5, 900, 20000])
    records = []
    first = drain(render_subset(poses, idx, tmp_path, "train", size=64), records.append)
    assert records and len(first) == 3
    with np.load(poses) as z:
        np.testing.assert_allclose(first.keypoints_3d, z["keypoints_3d_cam"][idx], atol=1e-3)
    again = []
    second = drain(render_subset(poses, idx, tmp_path, "train", size=64), again.append)
    assert again == []  # reused: nothing rendered
    np.testing.assert_array_equal(second.keypoints_2d, first.keypoints_2d)
    assert second.source.parent == subset_dir(tmp_path, "train", idx, 64)
    assert subset_dir(tmp_path, "train", idx[:2], 64) != subset_dir(tmp_path, "train", idx, 64)


def test_pose_file_without_cameras_is_a_clear_error(tmp_path):
    path = tmp_path / "poses.npz"
    np.savez(path, keypoints_3d=np.zeros((2, 17, 3)))
    with pytest.raises(DataError, match="keypoints_3d_cam and K"):
        drain(render_subset(path, np.array([0]), tmp_path, "x"))
