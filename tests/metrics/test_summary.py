"""evaluate() picks the metric family from the ground truth; 2D-only measures."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from poselab.core import PoseCollection, Skeleton, get_skeleton
from poselab.core.errors import DataError
from poselab.metrics import (
    disagreement,
    e3d_akhter,
    e3d_frame,
    evaluate,
    paper000_errors,
    reprojection_error,
)

H36M = get_skeleton("h36m17")


@pytest.fixture
def gt():
    rng = np.random.default_rng(0)
    return rng.normal(size=(6, 17, 3)) * 200 + np.array([0, 0, 5000.0])


def collection(kp3d, units, skeleton=H36M, kp2d=None, vis=None):
    n, j, _ = kp3d.shape
    kp2d = kp3d[..., :2] if kp2d is None else kp2d
    return PoseCollection(skeleton, kp2d, visibility=vis, keypoints_3d=kp3d, units_3d=units)


def test_reprojection_error_hand_computed():
    pred = np.array([[[0.0, 0, 9], [3, 4, 9], [10, 10, 9]]])
    w = np.array([[[0.0, 0], [0, 0], [0, 0]]])
    vis = np.array([[2, 1, 0]])  # the third landmark is not observed
    assert reprojection_error(pred, w, vis) == pytest.approx(2.5)
    np.testing.assert_allclose(reprojection_error(pred, w, vis, reduce=False), [2.5])


def test_reprojection_error_scale_translation():
    w = np.array([[[10.0, 20], [30, 20], [30, 60]]])
    pred = np.concatenate([(w - 5) / 40, np.zeros((1, 3, 1))], axis=-1)  # normalised units
    assert reprojection_error(pred, w, align="scale_translation") == pytest.approx(0, abs=1e-9)
    assert reprojection_error(pred, w) > 10
    with pytest.raises(DataError):
        reprojection_error(pred, w, align="affine")


def test_disagreement_is_scale_free_and_sees_mirrors(gt):
    rng = np.random.default_rng(1)
    b = np.stack([0.01 * g @ Rotation.random(random_state=rng).as_matrix().T for g in gt])
    assert disagreement(gt, b, H36M) == pytest.approx(0, abs=1e-9)
    noisy = gt + rng.normal(size=gt.shape) * 20
    d1 = disagreement(gt, noisy, H36M)
    d2 = disagreement(gt * 3, noisy * 3, H36M)
    assert d1 == pytest.approx(d2) and d1 > 0.01
    assert disagreement(gt, gt * np.array([-1, 1, 1.0]), H36M) > 0.2
    assert disagreement(gt, noisy, H36M, reduce=False).shape == (6,)


def test_evaluate_pose_family(gt):
    pred = gt + np.random.default_rng(2).normal(size=gt.shape) * 30
    res = evaluate(pred, collection(gt, "mm"), pred_units="mm")
    assert res["family"] == "pose" and res["units"] == "mm"
    assert res["shown"] == ["mpjpe", "pa_mpjpe", "depth_error"]
    ref = paper000_errors(pred, gt, H36M)
    for k in ("mpjpe", "pa_mpjpe", "depth_error"):
        assert res["metrics"][k] == pytest.approx(ref[k])
        assert res["per_sample"][k].shape == (6,)
    assert res["metrics"]["reflection"] == ref["reflection"]
    assert "mpjpe_unscaled" in res["metrics"] and "n_mpjpe" in res["metrics"]
    # a bare array is taken to be millimetres, and then needs a skeleton
    assert evaluate(pred, gt, H36M)["family"] == "pose"
    with pytest.raises(DataError, match="skeleton"):
        evaluate(pred, gt)


def test_evaluate_nrsfm_family():
    rng = np.random.default_rng(3)
    seq = rng.normal(size=(10, 9, 3))
    sk = Skeleton.from_edges([(i, i + 1) for i in range(8)], name="chain9")
    hat = seq + rng.normal(size=seq.shape) * 0.05
    res = evaluate(hat, collection(seq, "units", skeleton=sk))
    assert res["family"] == "nrsfm" and res["shown"] == ["e3d_akhter", "e3d_frame"]
    assert res["metrics"]["e3d_akhter"] == pytest.approx(e3d_akhter(seq, hat))
    assert res["metrics"]["e3d_frame"] == pytest.approx(e3d_frame(seq, hat))
    assert res["per_sample"]["e3d_frame"].shape == (10,)


def test_evaluate_without_3d_reports_reprojection_only():
    rng = np.random.default_rng(4)
    w = rng.uniform(0, 500, size=(5, 17, 2))
    vis = np.full((5, 17), 2, np.uint8)
    vis[:, 3] = 0
    coll = PoseCollection(H36M, w, visibility=vis)
    pred = np.concatenate([w + 1.0, np.zeros((5, 17, 1))], axis=-1)
    res = evaluate(pred, coll)
    assert res["family"] == "reprojection" and res["units"] == "px"
    assert set(res["metrics"]) == {"reprojection_px"}
    assert res["metrics"]["reprojection_px"] == pytest.approx(np.sqrt(2))
    with pytest.raises(DataError, match="nothing to compare"):
        evaluate(pred, None)


def test_evaluate_nrsfm_one_reflection_for_the_set():
    rng = np.random.default_rng(5)
    seq = rng.normal(size=(12, 9, 3))
    sk = Skeleton.from_edges([(i, i + 1) for i in range(8)], name="chain9")
    mirrored = seq * np.array([1, 1, -1.0])
    res = evaluate(mirrored, collection(seq, "units", skeleton=sk))
    assert res["metrics"]["reflection"] == -1
    assert res["metrics"]["e3d_frame"] == pytest.approx(0, abs=1e-6)
    assert res["metrics"]["e3d_akhter"] == pytest.approx(0, abs=1e-6)  # Akhter's Y mirrors
    kept = evaluate(mirrored, collection(seq, "units", skeleton=sk), reflection="none")
    assert kept["metrics"]["reflection"] == 1 and kept["metrics"]["e3d_frame"] > 0.1
