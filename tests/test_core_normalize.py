import numpy as np

from poselab.core.camera import orthonormalize_camera, rotation_from_camera
from poselab.core.normalize import (
    bbox_normalization,
    crop_to_normalized,
    denormalize_keypoints,
    normalize_keypoints,
    normalized_to_crop,
)


def test_bbox_normalisation_hand_computed_and_inverse():
    kp = np.array([[[10, 20], [30, 60], [999, 999]]], np.float32)
    vis = np.array([[2, 1, 0]])
    c, s = bbox_normalization(kp, vis)
    assert c.tolist() == [[20, 40]] and s.tolist() == [40]
    n = normalize_keypoints(kp, c, s, vis)
    assert np.allclose(n[0, :2], [[-0.25, -0.5], [0.25, 0.5]]) and n[0, 2].tolist() == [0, 0]
    assert np.allclose(denormalize_keypoints(n, c, s)[0, :2], kp[0, :2])


def test_crop_mapping_round_trip():
    n = np.array([[-0.5, 0.5], [0, 0]], np.float32)
    u = normalized_to_crop(n, 128)
    assert np.allclose(u[1], [64, 64]) and np.allclose(u[0, 0], (0.5 - 0.5 / 1.2) * 128)
    assert np.allclose(crop_to_normalized(u, 128), n)


def test_rotation_from_camera_matches_weak_perspective():
    rng = np.random.default_rng(1)
    M = orthonormalize_camera(rng.normal(size=(3, 2)))
    S = rng.normal(size=(5, 3))
    R = rotation_from_camera(M)
    assert np.allclose(R @ R.T, np.eye(3)) and np.isclose(np.linalg.det(R), 1)
    assert np.allclose((R @ S.T).T[:, :2], S @ M)
