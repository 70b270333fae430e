"""Alignment building blocks against hand-computed answers."""

import numpy as np
import pytest

from poselab.core.errors import DataError
from poselab.metrics.alignment import (
    best_scale,
    choose_depth_reflection,
    global_rotation,
    procrustes_align,
    reflect_depth,
    root_align,
    similarity_transform,
)


def rot_z(deg: float) -> np.ndarray:
    a = np.deg2rad(deg)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1.0]])


def random_rotation(rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def test_root_align_puts_root_at_origin():
    x = np.array([[[1.0, 2, 3], [4, 6, 8]]])
    np.testing.assert_allclose(root_align(x), [[[0, 0, 0], [3, 4, 5]]])
    np.testing.assert_allclose(root_align(x, root=1), [[[-3, -4, -5], [0, 0, 0]]])


def test_similarity_transform_recovers_known_parameters():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 10, 3))
    rots = np.stack([random_rotation(rng) for _ in range(5)])
    s_true = np.array([0.5, 1.0, 2.0, 3.0, 10.0])
    t_true = rng.normal(size=(5, 3)) * 100
    y = s_true[:, None, None] * np.einsum("nik,njk->nji", rots, x) + t_true[:, None]
    s, r, t = similarity_transform(x, y)
    np.testing.assert_allclose(s, s_true, rtol=1e-10)
    np.testing.assert_allclose(r, rots, atol=1e-10)
    np.testing.assert_allclose(t, t_true, atol=1e-8)
    np.testing.assert_allclose(procrustes_align(x, y), y, atol=1e-8)


def test_similarity_transform_refuses_reflection_unless_allowed():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 8, 3))
    mirrored = x * np.array([1, 1, -1.0])
    _, r, _ = similarity_transform(x, mirrored)
    assert np.linalg.det(r[0]) == pytest.approx(1.0)
    s, r, _ = similarity_transform(x, mirrored, allow_reflection=True)
    np.testing.assert_allclose(r[0], np.diag([1, 1, -1.0]), atol=1e-10)
    assert s[0] == pytest.approx(1.0)


def test_similarity_transform_fits_on_masked_joints_only():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1, 6, 3))
    y = 2.0 * x + 1.0
    y[0, 5] += 50.0  # an outlier that the mask excludes
    mask = np.array([[True] * 5 + [False]])
    s, r, t = similarity_transform(x, y, mask=mask)
    assert s[0] == pytest.approx(2.0)
    np.testing.assert_allclose(r[0], np.eye(3), atol=1e-10)
    np.testing.assert_allclose(t[0], [1, 1, 1], atol=1e-10)


def test_best_scale_hand_computed():
    x = np.array([[[1.0, 0, 0], [0, 1, 0]]])
    y = np.array([[[2.0, 0, 0], [0, 4, 0]]])
    # <x,y> = 2 + 4 = 6, <x,x> = 2  ->  3
    assert best_scale(x, y)[0] == pytest.approx(3.0)


def test_global_rotation_recovers_one_rotation_for_a_sequence():
    rng = np.random.default_rng(3)
    seq = rng.normal(size=(20, 7, 3))
    r = rot_z(30) @ random_rotation(rng)
    rotated = np.einsum("ik,fpk->fpi", r, seq)
    for method in ("akhter", "procrustes"):
        np.testing.assert_allclose(global_rotation(rotated, seq, method=method), r, atol=1e-10)
    with pytest.raises(ValueError):
        global_rotation(rotated, seq, method="nope")


def test_global_rotation_reflection_flag():
    rng = np.random.default_rng(4)
    seq = rng.normal(size=(10, 7, 3))
    mirrored = seq * np.array([1, 1, -1.0])
    assert np.linalg.det(global_rotation(mirrored, seq)) == pytest.approx(-1.0)
    assert np.linalg.det(global_rotation(mirrored, seq, allow_reflection=False)) == \
        pytest.approx(1.0)


def test_reflect_depth_mirrors_about_the_root_depth():
    x = np.array([[[0.0, 0, 10], [1, 2, 13]]])
    np.testing.assert_allclose(reflect_depth(x, -1), [[[0, 0, 10], [1, 2, 7]]])
    np.testing.assert_allclose(reflect_depth(x, +1), x)


def test_choose_depth_reflection_is_one_sign_for_the_set():
    rng = np.random.default_rng(5)
    gt = rng.normal(size=(30, 6, 3))
    pred = reflect_depth(gt, -1)
    pred[:3] = gt[:3]  # a few samples already right: the set still flips as a whole

    def err(a, b):
        return float(np.abs(root_align(a) - root_align(b)).mean())

    assert choose_depth_reflection(pred, gt, err) == -1
    assert choose_depth_reflection(gt, gt, err) == 1


def test_shape_errors_are_data_errors():
    with pytest.raises(DataError, match="same shape"):
        similarity_transform(np.zeros((2, 3, 3)), np.zeros((2, 4, 3)))
    with pytest.raises(DataError, match="NaN"):
        best_scale(np.full((1, 2, 3), np.nan), np.zeros((1, 2, 3)))
    with pytest.raises(DataError, match="mask"):
        similarity_transform(np.ones((2, 3, 3)), np.ones((2, 3, 3)), mask=np.ones((3, 3), bool))
