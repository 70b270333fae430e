"""render_collection: an ordinary image collection that reads back with exact 2D/3D agreement."""

from __future__ import annotations

import numpy as np
import pytest

from poselab.core import Cancelled, CancelToken, DataError, drain
from poselab.core.camera import project_perspective
from poselab.io import open_folder
from poselab.synth.collection import render_collection
from poselab.synth.demo import load_demo_poses


@pytest.fixture(scope="module")
def poses():
    return load_demo_poses(8)


def test_written_collection_reads_back_with_exact_projection(poses, tmp_path):
    out = tmp_path / "synth"
    written = drain(render_collection(poses.keypoints_3d, poses.intrinsics, poses.skeleton,
                                      out, size=64, seed=5))
    back = open_folder(out)
    assert len(back) == 8 and back.has_3d and back.units_3d == "mm"
    assert back.skeleton.name == "h36m17"
    assert back.has_images and all(p.is_file() for p in back.image_paths)
    assert (back.image_sizes == 64).all()
    # projecting the stored 3D with the stored crop intrinsics gives the stored 2D landmarks
    proj = project_perspective(back.keypoints_3d.astype(np.float64),
                               back.intrinsics.astype(np.float64))
    np.testing.assert_allclose(proj, back.keypoints_2d, atol=1e-3)
    np.testing.assert_array_equal(back.visibility, written.visibility)
    np.testing.assert_allclose(back.keypoints_3d, poses.keypoints_3d, atol=1e-3)
    assert set(np.unique(back.visibility)) <= {1, 2}
    # nothing left beside the collection
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synth"]


def test_same_seed_same_images_for_any_worker_count(poses, tmp_path):
    a = drain(render_collection(poses.keypoints_3d, poses.intrinsics, poses.skeleton,
                                tmp_path / "a", size=48, seed=1, chunk=3))
    b = drain(render_collection(poses.keypoints_3d, poses.intrinsics, poses.skeleton,
                                tmp_path / "b", size=48, seed=1, workers=2, chunk=3))
    c = drain(render_collection(poses.keypoints_3d[:2], poses.intrinsics[:2], poses.skeleton,
                                tmp_path / "c", size=48, seed=2))
    for pa, pb in zip(a.image_paths, b.image_paths, strict=True):
        assert pa.read_bytes() == pb.read_bytes()
    assert a.image_paths[0].read_bytes() != c.image_paths[0].read_bytes()
    np.testing.assert_array_equal(a.keypoints_2d, b.keypoints_2d)


def test_cancel_leaves_nothing(poses, tmp_path):
    token = CancelToken()
    job = render_collection(poses.keypoints_3d, poses.intrinsics, poses.skeleton,
                            tmp_path / "x", size=32, cancel=token, chunk=2)
    next(job)
    token.cancel()
    with pytest.raises(Cancelled):
        drain(job)
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_and_rejects_bad_poses(poses, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(DataError, match="not empty"):
        drain(render_collection(poses.keypoints_3d, poses.intrinsics, poses.skeleton,
                                tmp_path / "full"))
    assert (tmp_path / "full" / "keep.txt").is_file()
    behind = poses.keypoints_3d.copy()
    behind[3, :, 2] *= -1
    with pytest.raises(DataError, match="pose 3"):
        drain(render_collection(behind, poses.intrinsics, poses.skeleton, tmp_path / "y"))


def test_degenerate_pose_is_a_data_error_from_worker_processes(poses, tmp_path):
    X = poses.keypoints_3d.copy()
    X[5] = X[5, :1]  # every joint at the hip: nothing to crop
    for workers in (1, 2):
        with pytest.raises(DataError, match="pose 5"):
            drain(render_collection(X, poses.intrinsics, poses.skeleton, tmp_path / "z",
                                    size=32, workers=workers, chunk=2))
        assert list(tmp_path.iterdir()) == []
