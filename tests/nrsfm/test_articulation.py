"""The teacher's output 3D: on the observed rays, rigid bones (poselab.nrsfm.articulation)."""

from __future__ import annotations

import numpy as np
import pytest
from nrsfm_synthetic import articulated_poses

from poselab.core import get_skeleton
from poselab.nrsfm import NRSfMConfig
from poselab.nrsfm.articulation import (
    bone_lengths,
    bone_proportions,
    on_rays,
    refine,
    rigid_bones,
    rigid_wanted,
    spanning_tree,
)
from poselab.nrsfm.camera import project
from poselab.nrsfm.data import prepare_inputs


def test_one_bone_by_hand():
    # parent at the origin, child's orthographic ray through (3, 0): length 5 → depth ±4,
    # on the side the teacher chose (−1 → −4; +0.1 → +4)
    Y = np.array([[[0.0, 0, 0], [3, 0, -1]], [[0, 0, 0], [3, 0, 0.1]]])
    o = np.concatenate([Y[..., :2], np.zeros((2, 2, 1))], -1)
    u = np.broadcast_to([0.0, 0, 1], (2, 2, 3))
    out = rigid_bones(Y, o, u, Y[..., 2], np.ones((2, 2)), np.array([[0, 1]]),
                      np.array([5.0]), 2)  # scale: Σ p L / Σ p² with L = √10, √9.01
    s = np.array([np.sqrt(10.0), np.sqrt(9.01)]) / 5.0
    want = np.sqrt((5 * s) ** 2 - 9).clip(0)  # first: √(10−9) = 1; second: ray too far → 0
    np.testing.assert_allclose(out[:, 1, 2], [-want[0], want[1]], atol=1e-9)
    np.testing.assert_allclose(out[:, 1, :2], [[3, 0], [3, 0]])


def test_an_unobserved_joint_keeps_the_bone_direction():
    # a star from joint 0 (the tree's root): 0–1 (joint 1 unobserved), 1–4, 0–2, 0–3. Teacher:
    # 0 at the origin, 1 at (0, 0, 4), 4 at (3, 0, 8), 2 and 3 at (±1, 0, 0). Proportions
    # (8, 5, 1, 1) against lengths (4, 5, 1, 1): median ratio s = 1. Joint 1 moves along its
    # bone to (0, 0, 8); joint 4 stays on its ray x = 3, y = 0 at depth 8 + √(5² − 3²) = 12
    # (behind, as the teacher had it); 2 and 3 are side-on and stay.
    Y = np.array([[[0.0, 0, 0], [0, 0, 4], [1, 0, 0], [-1, 0, 0], [3, 0, 8]]])
    o = np.concatenate([Y[..., :2], np.zeros((1, 5, 1))], -1)
    u = np.broadcast_to([0.0, 0, 1], (1, 5, 3))
    bones = np.array([[0, 1], [1, 4], [0, 2], [0, 3]])
    out = rigid_bones(Y, o, u, Y[..., 2], np.array([[1.0, 0, 1, 1, 1]]), bones,
                      np.array([8.0, 5.0, 1.0, 1.0]), 5)
    want = [[0, 0, 0], [0, 0, 8], [1, 0, 0], [-1, 0, 0], [3, 0, 12]]
    np.testing.assert_allclose(out[0], want, atol=1e-12)


def test_spanning_tree_drops_cycles_and_starts_at_the_centre():
    lsp = get_skeleton("lsp14")
    tree = spanning_tree(14, lsp.bones_array)
    assert len(tree) == 13 and {c for _, c, _ in tree} | {tree[0][0]} == set(range(14))
    h36 = spanning_tree(17, get_skeleton("h36m17").bones_array)
    assert h36[0][0] in (7, 8)  # spine or thorax: tree depth 4, the pelvis would give 5
    seen = {h36[0][0]}
    for p, c, _ in h36:  # every parent is placed before its child
        assert p in seen
        seen.add(c)


def test_perspective_rays_reproject_exactly():
    rng = np.random.default_rng(1)
    N, J = 20, 17
    X = rng.normal(size=(N, J, 3)) * 0.3
    n = rng.normal(size=(N, J, 2)) * 0.4
    mask = (rng.random((N, J)) > 0.2).astype(np.float32)
    tau, sigma, rc = rng.normal(size=(N, 2)) * 0.1, np.full(N, 0.3), rng.normal(size=(N, 2)) * .1
    Y, o, u = on_rays(X, n, mask, tau, sigma, rc)
    np.testing.assert_allclose(Y[..., 2], X[..., 2])
    import torch

    t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float64)  # noqa: E731
    n_hat, _ = project(t(Y), t(n), t(mask), t(sigma), t(rc))
    own, _ = project(t(X), t(n), t(mask), t(sigma), t(rc))
    n_hat = n_hat.numpy()
    obs = mask > 0
    # τ is re-solved by project(); the offset it finds for Y is the fit's τ
    np.testing.assert_allclose(n_hat[obs], n[obs], atol=1e-6)
    # an unobserved landmark stays where the teacher put it
    np.testing.assert_allclose((Y - X)[~obs], 0, atol=1e-9)
    assert np.abs(own.numpy()[obs] - n[obs]).mean() > 0.1  # the teacher's own did not match
    # moving a point along its ray keeps its projection
    n_far, _ = project(t(o + (Y[..., 2:] + 0.2) * u), t(n), t(mask), t(sigma), t(rc))
    np.testing.assert_allclose(n_far.numpy()[obs], n[obs], atol=1e-6)


def test_proportions_and_rigid_bones_recover_an_articulated_body():
    sk = get_skeleton("h36m17")
    gt, lengths = articulated_poses(600)
    rng = np.random.default_rng(2)
    # a "teacher" with each bone's front/back order right but its depth change off by up to
    # ±50 % (what rigid bones can fix; a wrong order is not), x, y = the 2D
    inputs = prepare_inputs(gt[..., :2] * 100 + 300, None, None)
    s = inputs.scale[:, None]
    tz = np.zeros((600, 17))
    for p, c in sk.bones_array:
        tz[:, c] = tz[:, p] + (gt[:, c, 2] - gt[:, p, 2]) * rng.uniform(0.5, 1.5, 600)
    tz = tz * 100 / s
    Xb = np.concatenate([inputs.n, tz[..., None]], -1)
    Y, o, u = on_rays(Xb, inputs.n, inputs.mask, np.zeros((600, 2)), inputs.sigma,
                      inputs.ray_centre)
    p = bone_proportions(Y, sk.bones_array, sk.symmetric_bone_pairs)
    true_p = lengths / lengths.mean()
    assert np.abs(p - true_p).max() < 0.05 * true_p.max()
    gz = gt[..., 2] - gt[..., 2].mean(1, keepdims=True)

    def depth_error(shapes):
        z = shapes[..., 2] - shapes[..., 2].mean(1, keepdims=True)
        return np.abs(z * s / 100 - gz).mean()

    R = rigid_bones(Y, o, u, Xb[..., 2], inputs.mask, sk.bones_array, p, 17)
    L = bone_lengths(R, sk.bones_array)
    gap = np.abs(L / L.mean(1, keepdims=True) - true_p)  # bones whose ray passes too far
    assert np.quantile(gap, 0.99) < 0.03 and gap.max() < 0.15  # from the parent stay longer
    np.testing.assert_allclose(R[..., :2], Y[..., :2])  # still on the (orthographic) rays
    assert depth_error(R) < 0.2 * depth_error(Y)  # the bones' lengths fix most of the error


def test_auto_is_rigid_for_bodies_only(caplog):
    assert rigid_wanted("auto", get_skeleton("h36m17"))
    assert rigid_wanted("auto", get_skeleton("coco17"))
    assert not rigid_wanted("auto", get_skeleton("face14"))
    assert rigid_wanted("rigid", get_skeleton("face14"))
    assert not rigid_wanted("free", get_skeleton("h36m17"))
    from poselab.core import Skeleton

    with caplog.at_level("WARNING", logger="poselab.nrsfm.articulation"):
        assert not rigid_wanted("rigid", Skeleton("dots", ("a", "b", "c")))
    assert "has no bones" in caplog.text
    with pytest.raises(Exception, match="bone_lengths"):
        NRSfMConfig(bone_lengths="stiff")


def test_refine_keeps_a_correct_body_and_uses_given_proportions():
    sk = get_skeleton("h36m17")
    gt, lengths = articulated_poses(50, seed=5)
    inputs = prepare_inputs(gt[..., :2] * 100 + 300, None, None)
    X = np.concatenate([inputs.n, gt[..., 2:] * 100 / inputs.scale[:, None, None]], -1)
    p = lengths / lengths.mean()
    Y, used = refine(X, inputs, np.zeros((50, 2)), sk, True, "auto", p)
    np.testing.assert_array_equal(used, p)
    np.testing.assert_allclose(Y, X, atol=1e-4)  # the true body is a fixed point
    free, none = refine(X, inputs, np.zeros((50, 2)), sk, True, "free")
    assert none is None
    np.testing.assert_allclose(free, X, atol=1e-5)


def test_refine_in_chunks_equals_refine_at_once(monkeypatch):
    import poselab.nrsfm.articulation as art

    sk = get_skeleton("h36m17")
    gt, _ = articulated_poses(40, seed=6)
    inputs = prepare_inputs(gt[..., :2] * 100 + 300, None, None)
    rng = np.random.default_rng(7)
    X = np.concatenate([inputs.n + rng.normal(0, 0.01, inputs.n.shape),
                        gt[..., 2:] * 100 / inputs.scale[:, None, None] * 1.3], -1)
    whole, p = refine(X, inputs, np.zeros((40, 2)), sk)
    monkeypatch.setattr(art, "CHUNK", 7)
    chunked, p2 = refine(X, inputs, np.zeros((40, 2)), sk)
    np.testing.assert_array_equal(p, p2)
    np.testing.assert_allclose(chunked, whole, atol=1e-6)
    assert np.abs(whole - X).max() > 1e-2  # it did change the shapes
