"""The low-rank polish of a short sequence's output depth (poselab.nrsfm.low_rank)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from poselab.core import PoseCollection, PoselabError, Skeleton, drain, get_skeleton
from poselab.metrics.nrsfm import e3d_akhter
from poselab.nrsfm import NRSfMConfig, fit, low_rank


def _rotations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(n, 3, 3)``: a turn by ``a`` about y, then a tilt by ``b`` about x."""
    n = len(a)
    Ry, Rx = np.zeros((n, 3, 3)), np.zeros((n, 3, 3))
    Ry[:, 0, 0], Ry[:, 0, 2], Ry[:, 1, 1], Ry[:, 2, 0], Ry[:, 2, 2] = \
        np.cos(a), np.sin(a), 1, -np.sin(a), np.cos(a)
    Rx[:, 0, 0], Rx[:, 1, 1], Rx[:, 1, 2], Rx[:, 2, 1], Rx[:, 2, 2] = \
        1, np.cos(b), -np.sin(b), np.sin(b), np.cos(b)
    return Rx @ Ry


def _sequence(n: int = 200, joints: int = 30, modes: int = 3, seed: int = 0) -> np.ndarray:
    """``(n, joints, 3)`` camera frame: a mean shape plus ``modes`` deformation modes (rank
    ``modes`` around the mean), turned by a camera that orbits and tilts."""
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=(joints, 3)) * 100.0
    basis = rng.normal(size=(modes, joints, 3)) * 30.0
    t = np.arange(n) * 0.07
    weights = np.stack([np.sin((k + 1) * t + k) for k in range(modes)], 1)
    shapes = mean + np.einsum("nk,kjd->njd", weights, basis)
    return np.einsum("nij,nkj->nki", _rotations(t * 0.5, 0.3 * np.sin(t)), shapes)


def test_the_rotation_of_a_turned_shape_is_found():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(12, 3))
    ref -= ref.mean(0)
    R = _rotations(np.array([0.4, -1.2]), np.array([0.2, 0.9]))
    shapes = np.einsum("jk,nik->nji", ref, R)  # ref Rᵀ: R maps them back
    found = low_rank.rotation_to(shapes, ref)
    np.testing.assert_allclose(found, R, atol=1e-9)
    mirrored = shapes * np.array([1.0, 1.0, -1.0])  # a reflection is not a rotation
    assert np.allclose(np.linalg.det(low_rank.rotation_to(mirrored, ref)), 1.0)


def test_a_sequence_of_low_rank_is_left_nearly_as_it_is():
    # three modes; aligning deforming shapes takes some deformation for rotation, so the
    # aligned shapes need a few more dimensions than three (rank 3: 0.022, measured)
    truth = _sequence(modes=3)
    seen = np.ones(truth.shape[:2], bool)
    assert e3d_akhter(truth, low_rank.polish(truth, seen)) < 0.002  # rank 8: 0.001


def test_noisy_depth_is_pulled_back_to_the_low_rank_shapes_labels_held():
    truth = _sequence(modes=3)
    rng = np.random.default_rng(1)
    guess = truth.copy()  # a network's depth: right on the whole, off per landmark by ~15 %
    guess[..., 2] += rng.normal(0, 15.0, guess.shape[:2])
    seen = np.ones(truth.shape[:2], bool)
    out = low_rank.polish(guess, seen, rank=3)
    np.testing.assert_array_equal(out[..., :2], guess[..., :2].astype(np.float32))
    np.testing.assert_allclose(out[..., 2].mean(1), guess[..., 2].mean(1), atol=1e-3)
    before, after = e3d_akhter(truth, guess), e3d_akhter(truth, out)
    assert after < 0.35 * before, (before, after)
    # the default rank (8) on this rank-3 sequence constrains less, but still gains
    assert e3d_akhter(truth, low_rank.polish(guess, seen)) < 0.7 * before


def test_a_hidden_landmark_moves_to_where_the_low_rank_shapes_put_it():
    truth = _sequence(modes=3)
    seen = np.ones(truth.shape[:2], bool)
    seen[::4, 5] = False  # landmark 5 hidden in a quarter of the samples: guessed 40 units off
    guess = truth.copy()
    guess[~seen] += np.array([40.0, -40.0, 40.0])
    out = low_rank.polish(guess, seen, rank=3)
    before = np.linalg.norm(guess[~seen] - truth[~seen], axis=-1).mean()
    after = np.linalg.norm(out[~seen] - truth[~seen], axis=-1).mean()
    assert after < 0.2 * before, (before, after)
    np.testing.assert_array_equal(out[seen][:, :2], guess[seen][:, :2].astype(np.float32))


def test_bad_shapes_are_refused():
    with pytest.raises(PoselabError, match="rank"):
        low_rank.polish(np.zeros((10, 5, 3)), np.ones((10, 5), bool), rank=0)
    with pytest.raises(PoselabError, match=r"\(N, J, 3\)"):
        low_rank.polish(np.zeros((10, 5, 2)), np.ones((10, 5), bool))


def _result(n: int, joints: int, skeleton=None, camera="weak_perspective", extra=None):
    skel = skeleton or Skeleton("markers", tuple(f"m{i}" for i in range(joints)), ())
    return SimpleNamespace(keypoints_3d=np.zeros((n, joints, 3), np.float32), skeleton=skel,
                           camera_model=camera, extra=dict(extra or {}))


def test_only_short_free_weak_perspective_sequences_of_many_points_are_polished():
    cfg = NRSfMConfig()
    assert low_rank.wanted(_result(300, 40), cfg)
    assert not low_rank.wanted(_result(300, 40), cfg.replace(low_rank=False))
    assert not low_rank.wanted(_result(300, 40, camera="perspective"), cfg)
    assert not low_rank.wanted(_result(2000, 40), cfg)  # a large set: the network's model
    assert not low_rank.wanted(_result(300, 12), cfg)  # few points: rank 8 holds little
    assert not low_rank.wanted(_result(12, 40), cfg)
    h36m = get_skeleton("h36m17")  # rigid bones: the articulated output step shapes it
    assert not low_rank.wanted(_result(300, 17, h36m), cfg)
    assert low_rank.wanted(_result(300, 17, h36m), cfg.replace(bone_lengths="free"))
    assert not low_rank.wanted(_result(300, 40, extra={"low_rank": {}}), cfg)  # once only


def test_a_fitted_marker_sequence_is_polished_on_its_labels():
    truth = _sequence(n=120, joints=20, modes=2)
    coll = PoseCollection(Skeleton("markers", tuple(f"m{i}" for i in range(20)), ()),
                          truth[..., :2].astype(np.float32))
    cfg = NRSfMConfig(dict_sizes=(32, 16, 8), steps=150, restarts=1, batch_size=40,
                      log_every=50, num_threads=1, code_choice=False)
    plain = drain(fit(coll, cfg.replace(low_rank=False)))
    result = drain(fit(coll, cfg))
    assert "low_rank" not in plain.extra
    info = result.extra["low_rank"]
    assert info["rank"] == low_rank.RANK and info["depth_change_px"] > 0
    np.testing.assert_allclose(result.keypoints_3d[..., :2], coll.keypoints_2d, atol=1e-3)
    expected = low_rank.polish(plain.keypoints_3d, coll.observed)
    np.testing.assert_allclose(result.keypoints_3d, expected, atol=1e-3)
