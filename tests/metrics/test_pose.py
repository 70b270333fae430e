"""MPJPE family and the paper-000 protocol: hand-computed cases."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from poselab.core import Skeleton, get_skeleton
from poselab.core.errors import DataError
from poselab.metrics import (
    bone_length_scale,
    mean_bone_length,
    mpjpe,
    n_mpjpe,
    pa_mpjpe,
    paper000_errors,
    reflect_depth,
)

CHAIN = Skeleton.from_edges([(0, 1), (1, 2), (2, 3)], name="chain4")


@pytest.fixture
def poses():
    rng = np.random.default_rng(0)
    return rng.normal(size=(8, 17, 3)) * 200.0 + np.array([0, 0, 5000.0])


def test_mpjpe_hand_computed():
    gt = np.array([[[0.0, 0, 0], [1, 0, 0], [0, 1, 0]]])
    pred = gt + np.array([[[5.0, 5, 5], [8, 9, 5], [5, 5, 5]]])  # root offset (5,5,5)
    # after root alignment the errors are 0, |(3,4,0)| = 5, 0
    assert mpjpe(pred, gt) == pytest.approx(5 / 3)
    np.testing.assert_allclose(mpjpe(pred, gt, reduce=False), [5 / 3])
    mask = np.array([[True, True, False]])
    assert mpjpe(pred, gt, mask=mask) == pytest.approx(2.5)


def test_mpjpe_reduce_and_per_sample_agree(poses):
    pred = poses + np.random.default_rng(1).normal(size=poses.shape) * 10
    per = mpjpe(pred, poses, reduce=False)
    assert per.shape == (8,)
    assert per.mean() == pytest.approx(mpjpe(pred, poses))


def test_pa_mpjpe_zero_for_scaled_rotated_shifted_copy(poses):
    rng = np.random.default_rng(2)
    rots = Rotation.random(len(poses), random_state=rng).as_matrix()
    moved = np.stack([1.7 * p @ r.T + rng.normal(size=3) * 300
                      for p, r in zip(poses, rots, strict=True)])
    assert pa_mpjpe(moved, poses) < 1e-8
    assert mpjpe(moved, poses) > 50  # the other protocols do see the change


def test_pa_mpjpe_not_zero_for_mirrored_copy(poses):
    mirrored = poses * np.array([-1.0, 1, 1])
    err = pa_mpjpe(mirrored, poses)
    assert err > 50, err  # joints ~ 300 mm from the centre: a mirror cannot be undone
    depth_mirrored = reflect_depth(poses, -1)
    assert pa_mpjpe(depth_mirrored, poses) > 50


def test_pa_mpjpe_matches_brute_force_least_squares():
    from scipy.optimize import least_squares
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(4)
    gt = rng.normal(size=(1, 9, 3))
    rot = Rotation.random(random_state=rng).as_matrix()
    pred = 0.6 * gt @ rot.T + rng.normal(size=(1, 9, 3)) * 0.3 + 2.0

    def residual(v):  # v = (log s, rotation vector, t)
        r = Rotation.from_rotvec(v[1:4]).as_matrix()
        return (np.exp(v[0]) * pred[0] @ r.T + v[4:] - gt[0]).ravel()

    best = min((least_squares(residual, np.r_[0.0, rng.normal(size=3), np.zeros(3)])
                for _ in range(5)), key=lambda r: r.cost)
    expected = np.linalg.norm(residual(best.x).reshape(-1, 3), axis=1).mean()
    assert pa_mpjpe(pred, gt) == pytest.approx(expected, rel=1e-6)


def test_n_mpjpe_hand_computed():
    gt = np.array([[[0.0, 0, 0], [2, 0, 0], [0, 2, 0]]])
    pred = gt * 0.5
    assert n_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-12)
    assert mpjpe(pred, gt) == pytest.approx(2 / 3)  # errors 0, 1, 1


def test_bone_length_scale_and_mean_bone_length():
    x = np.array([[[0.0, 0, 0], [1, 0, 0], [1, 2, 0], [1, 2, 3]]])
    assert mean_bone_length(x, CHAIN)[0] == pytest.approx(2.0)
    assert bone_length_scale(x, 5 * x, CHAIN)[0] == pytest.approx(5.0)
    mask = np.array([[True, True, True, False]])  # the 3-long bone drops out
    assert mean_bone_length(x, CHAIN, mask=mask)[0] == pytest.approx(1.5)
    with pytest.raises(DataError, match="joints"):
        mean_bone_length(x, get_skeleton("h36m17"))


def test_paper000_hand_computed():
    gt = np.array([[[0.0, 0, 10], [2, 0, 10], [2, 2, 10], [2, 2, 12]]])  # bones 2, 2, 2
    pred = np.array([[[0.0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 0]]])  # bones 1, 1, 0 -> 2/3
    res = paper000_errors(pred, gt, CHAIN, reflection="none")
    # scale 2 / (2/3) = 3: pred -> (0,0,0) (3,0,0) (3,3,0) (3,3,0); gt root-aligned
    # (0,0,0) (2,0,0) (2,2,0) (2,2,2): errors 0, 1, sqrt2, sqrt6; depth 0, 0, 0, 2
    assert res["mpjpe"] == pytest.approx((1 + np.sqrt(2) + np.sqrt(6)) / 4)
    assert res["depth_error"] == pytest.approx(0.5)
    assert res["reflection"] == 1
    per = paper000_errors(pred, gt, CHAIN, reflection="none", reduce=False)
    assert per["mpjpe"].shape == (1,)


def test_paper000_chooses_one_reflection_for_the_set(poses):
    sk = get_skeleton("h36m17")
    mirrored = reflect_depth(poses, -1) * 0.01  # mirrored and in another unit
    res = paper000_errors(mirrored, poses, sk)
    assert res["reflection"] == -1
    assert res["mpjpe"] < 1e-8 and res["depth_error"] < 1e-8 and res["pa_mpjpe"] < 1e-8
    kept = paper000_errors(mirrored, poses, sk, reflection="none")
    assert kept["reflection"] == 1 and kept["depth_error"] > 50
    assert paper000_errors(mirrored, poses, sk, reflection=-1)["mpjpe"] < 1e-8
    with pytest.raises(ValueError):
        paper000_errors(mirrored, poses, sk, reflection="sample")


def test_paper000_scale_invariant(poses):
    sk = get_skeleton("h36m17")
    pred = poses + np.random.default_rng(3).normal(size=poses.shape) * 20
    a = paper000_errors(pred, poses, sk, reflection="none")
    b = paper000_errors(pred * 0.003, poses, sk, reflection="none")
    for k in ("mpjpe", "pa_mpjpe", "depth_error"):
        assert a[k] == pytest.approx(b[k], rel=1e-9)
