"""Metric scale from one known length (poselab.core.metric_scale): exact recoveries."""

from __future__ import annotations

import numpy as np
import pytest

from poselab.core.errors import DataError
from poselab.core.metric_scale import (
    FRAME_ABSOLUTE,
    FRAME_CENTRED,
    KnownLength,
    scale_factors,
    to_metric,
)
from poselab.core.skeleton import Skeleton

SK = Skeleton("arm", ("shoulder", "elbow", "wrist"), ((0, 1), (1, 2)))


def _camera_poses(n=5, seed=0):
    """Poses in mm (upper arm 300, forearm 250) at depths 2–6 m, and their weak-perspective
    pixel-unit 3D with f = 1000 px, principal point (320, 240)."""
    rng = np.random.default_rng(seed)
    f, c = 1000.0, np.array([320.0, 240.0])
    X = np.zeros((n, 3, 3))
    for i in range(n):
        u, v = rng.normal(size=3), rng.normal(size=3)
        u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
        X[i, 1] = 300 * u
        X[i, 2] = X[i, 1] + 250 * v
    Zref = rng.uniform(2000, 6000, n)
    X = X - X.mean(1, keepdims=True) + np.stack([rng.uniform(-500, 500, n),
                                                 rng.uniform(-300, 300, n), Zref], 1)[:, None]
    k = f / Zref  # px per mm at the reference depth
    px = np.empty_like(X)
    px[..., :2] = X[..., :2] * k[:, None, None] + c
    px[..., 2] = (X[..., 2] - Zref[:, None]) * k[:, None]
    K = np.array([[f, 0, c[0]], [0, f, c[1]], [0, 0, 1]])
    return X, px, K, k


def test_known_bone_gives_exact_millimetres_with_and_without_intrinsics():
    X, px, K, k = _camera_poses()
    s = scale_factors(px, SK, KnownLength(300.0, ("shoulder", "elbow")))
    np.testing.assert_allclose(s, 1 / k, rtol=1e-9)
    mm, frame = to_metric(px, s, K)
    assert frame == FRAME_ABSOLUTE
    np.testing.assert_allclose(mm, X, rtol=1e-5, atol=1e-2)
    mm, frame = to_metric(px, s)  # no intrinsics: mm, centred on each sample
    assert frame == FRAME_CENTRED
    np.testing.assert_allclose(mm, X - X.mean(1, keepdims=True), atol=1e-2)
    # the forearm now measures 250 mm in every sample
    np.testing.assert_allclose(np.linalg.norm(mm[:, 2] - mm[:, 1], axis=-1), 250, rtol=1e-5)


def test_height_and_errors():
    X, px, K, k = _camera_poses()
    def diameter(p):  # the largest distance between two landmarks, per sample
        return np.linalg.norm(p[:, :, None] - p[:, None], axis=-1).reshape(len(p), -1).max(1)

    d = diameter(X)
    s = scale_factors(px, SK, KnownLength(float(np.median(d))))
    mm, _ = to_metric(px, s)
    # the poses' proportions differ (a bent arm is shorter): the median height is the known one
    assert np.median(diameter(mm.astype(float))) == pytest.approx(np.median(d), rel=1e-4)
    bad = px.copy()
    bad[1] = np.nan  # a sample without 3D (excluded) gets NaN, the others are unchanged
    s2 = scale_factors(bad, SK, KnownLength(300.0, ("shoulder", "elbow")))
    assert np.isnan(s2[1]) and np.allclose(np.delete(s2, 1), np.delete(1 / k, 1))
    with pytest.raises(DataError, match="no joint 'knee'"):
        scale_factors(px, SK, KnownLength(300.0, ("shoulder", "knee")))
    with pytest.raises(DataError, match="positive"):
        KnownLength(-1.0)
    assert KnownLength.from_dict({"mm": 300, "joints": ["a", "b"]}) == KnownLength(300.0,
                                                                                  ("a", "b"))
    assert KnownLength.from_dict({"mm": "x"}) is None
