"""Renderer: exact projection, occlusion visibility on crafted poses, determinism, errors."""

from __future__ import annotations

import numpy as np
import pytest

from poselab.core import DataError, get_skeleton
from poselab.core.camera import project_perspective
from poselab.synth.render import crop_intrinsics, render_pose

H36M = get_skeleton("h36m17")
K0 = np.array([[1000.0, 0, 500], [0, 1000, 500], [0, 0, 1]])
NAMES = list(H36M.joint_names)


def standing(right_arm_across: bool) -> np.ndarray:
    """A person facing the camera 3 m away (their left at +x, y down), mm."""
    P = {
        "Hip": (0, 0, 0), "RHip": (-92, 0, 0), "RKnee": (-95, 430, 0), "RFoot": (-95, 840, 0),
        "LHip": (92, 0, 0), "LKnee": (95, 430, 0), "LFoot": (95, 840, 0),
        "Spine": (0, -215, 0), "Thorax": (0, -330, 0), "Neck/Nose": (0, -505, -60),
        "Head": (0, -590, 0), "LShoulder": (200, -330, 0), "LElbow": (220, -60, 0),
        "LWrist": (230, 130, 0), "RShoulder": (-200, -330, 0), "RElbow": (-220, -60, 0),
        "RWrist": (-230, 130, 0),
    }
    if right_arm_across:  # forearm across the belly, well in front of the Spine joint
        P["RElbow"] = (-170, -180, -230)
        P["RWrist"] = (110, -220, -280)
    X = np.array([P[n] for n in NAMES], np.float64)
    return X + [0, 0, 3000]


def turn(X: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate the body about the vertical axis through its hip."""
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    R = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return (X - X[0]) @ R.T + X[0]


def vis_of(X, size=96):
    return dict(zip(NAMES, render_pose(X, K0, H36M, size, seed=0).visibility, strict=True))


def test_arm_in_front_of_torso_hides_the_spine_only():
    v = vis_of(standing(right_arm_across=True))
    assert v["Spine"] == 1
    assert all(v[n] == 2 for n in NAMES if n != "Spine"), v


def test_open_pose_facing_the_camera_is_all_visible():
    v = vis_of(standing(right_arm_across=False))
    assert set(v.values()) == {2}, v


def test_profile_view_hides_the_far_arm_and_keeps_the_near_one():
    # Turned so the person's left side faces the camera: the right arm is behind the torso.
    X = turn(standing(right_arm_across=False), 90)
    assert X[NAMES.index("RShoulder"), 2] > X[NAMES.index("LShoulder"), 2]
    v = vis_of(X)
    for n in ("RShoulder", "RElbow", "RWrist", "RKnee", "RFoot"):  # far arm and leg
        assert v[n] == 1, (n, v)
    for n in ("LShoulder", "LElbow", "LWrist", "LKnee", "LFoot", "Head"):  # near side
        assert v[n] == 2, (n, v)


def test_projection_with_crop_intrinsics_gives_the_landmarks_and_fills_the_crop():
    X = standing(True)
    r = render_pose(X, K0, H36M, 128, seed=1)
    np.testing.assert_allclose(
        project_perspective(X.astype(np.float32).astype(np.float64),
                            r.intrinsics.astype(np.float64)), r.keypoints_2d, atol=1e-4)
    # DESIGN §3 crop: the landmark box is centred and its larger side is 128 / 1.2 px
    lo, hi = r.keypoints_2d.min(0), r.keypoints_2d.max(0)
    assert abs((hi - lo).max() - 128 / 1.2) < 1e-3
    np.testing.assert_allclose((lo + hi) / 2, [64, 64], atol=1e-3)
    Kc = crop_intrinsics(X, K0, 128)
    np.testing.assert_array_equal(Kc, r.intrinsics)


def test_person_is_drawn_where_the_landmarks_are():
    X = standing(False)
    r = render_pose(X, K0, H36M, 128, seed=2)
    img = r.image.astype(float)
    # The hip (inside the pelvis) and the background corner look different; the image is
    # not blank and is deterministic for a seed.
    u, v = np.round(r.keypoints_2d[0]).astype(int)
    assert img.std() > 5
    again = render_pose(X, K0, H36M, 128, seed=2)
    np.testing.assert_array_equal(again.image, r.image)
    other = render_pose(X, K0, H36M, 128, seed=3)
    assert np.abs(other.image.astype(int) - r.image).mean() > 5
    assert 0 <= u < 128 and 0 <= v < 128


def test_nearer_person_looks_bigger_before_cropping():
    # Perspective size: the same pose twice as far away covers a quarter of the pixels in the
    # original camera, which the crop then normalises (so the crop intrinsics shrink by 2).
    X = standing(False)
    far = X + [0, 0, 3000]
    k_near = crop_intrinsics(X, K0, 128)
    k_far = crop_intrinsics(far, K0, 128)
    assert abs(k_far[0, 0] / k_near[0, 0] - 2.0) < 0.05


def test_any_skeleton_with_bones_renders():
    sk = get_skeleton("lsp14")
    rng = np.random.default_rng(0)
    X = rng.normal(0, 300, (14, 3)) + [0, 0, 4000]
    r = render_pose(X, K0, sk, 64, seed=0)
    assert r.image.shape == (64, 64, 3) and set(np.unique(r.visibility)) <= {1, 2}


def test_bad_input_raises_data_error():
    X = standing(False)
    with pytest.raises(DataError, match="in front of the camera"):
        render_pose(X - [0, 0, 3500], K0, H36M, 64)
    with pytest.raises(DataError, match="shape"):
        render_pose(X[:5], K0, H36M, 64)
