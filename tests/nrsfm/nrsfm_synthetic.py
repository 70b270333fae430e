"""Synthetic NRSfM problems with a known answer: low-rank shapes seen by random cameras."""

from __future__ import annotations

import numpy as np

from poselab.core import PoseCollection, Skeleton, get_skeleton


def random_rotations(n: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, 3, 3)`` uniformly random proper rotations (QR of Gaussian matrices)."""
    q, r = np.linalg.qr(rng.normal(size=(n, 3, 3)))
    q = q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
    q[np.linalg.det(q) < 0, :, 2] *= -1
    return q


def low_rank_problem(n: int = 400, joints: int = 15, rank: int = 3, hide: float = 0.0,
                     seed: int = 0) -> tuple[PoseCollection, np.ndarray]:
    """Shapes ``S = mean + Σ_k c_k B_k`` (rank+1 atoms) under random orthographic cameras.

    Returns:
        the 2D collection (pixels: 100 px per unit, centred at (320, 240)) and the camera-frame
        3D ``(n, J, 3)`` in the same pixel units (ground truth, for scoring only).
    """
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=(joints, 3))
    basis = rng.normal(size=(rank, joints, 3)) * 0.35
    coeff = rng.normal(size=(n, rank))
    shapes = mean + np.einsum("nk,kjc->njc", coeff, basis)
    shapes -= shapes.mean(1, keepdims=True)
    R = random_rotations(n, rng)
    cam = np.einsum("nij,nkj->nki", R, shapes) * 100.0
    kp = cam[..., :2] + np.array([320.0, 240.0])
    vis = np.full((n, joints), 2, np.uint8)
    if hide > 0:
        vis[rng.random(vis.shape) < hide] = 0
        vis[(vis > 0).sum(1) < 4] = 2
    skel = Skeleton("synthetic", tuple(f"p{j}" for j in range(joints)))
    return PoseCollection(skel, kp.astype(np.float32), vis), cam.astype(np.float32)


def best_reflection_e3d_frame(gt: np.ndarray, pred: np.ndarray) -> float:
    """e3d_frame with one depth reflection chosen for the whole set (DESIGN §4)."""
    from poselab.metrics.nrsfm import e3d_frame

    flipped = pred * np.array([1.0, 1.0, -1.0], np.float32)
    return min(e3d_frame(gt, pred), e3d_frame(gt, flipped))


def articulated_poses(n: int, seed: int = 0, bone_cv: float = 0.0
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``(n, 17, 3)`` h36m17 poses with fixed bone lengths (random bone directions, random
    rotations), centred, box-like units; and the ``(16,)`` true lengths. ``bone_cv``: each
    sample's bones instead vary around those lengths by this relative standard deviation
    (real joint centres are not exactly rigid; mocap skeletons are)."""
    rng = np.random.default_rng(seed)
    sk = get_skeleton("h36m17")
    lengths = rng.uniform(0.1, 0.45, len(sk.bones_array))
    for a, b in sk.symmetric_bone_pairs:
        lengths[b] = lengths[a]
    X = np.zeros((n, 17, 3))
    for e, (p, c) in enumerate(sk.bones_array):  # parents come first in h36m17's order
        d = rng.normal(size=(n, 3))
        length = lengths[e] * (1 + bone_cv * rng.normal(size=(n, 1))) if bone_cv else lengths[e]
        X[:, c] = X[:, p] + length * d / np.linalg.norm(d, axis=1, keepdims=True)
    X = np.einsum("nij,nkj->nki", random_rotations(n, rng), X)
    return X - X.mean(1, keepdims=True), lengths


def labelled_bodies(sigma_px: float, hide: float = 0.0, n: int = 300, seed: int = 0,
                    px: float = 200.0, bone_cv: float = 0.0):
    """Articulated bodies (~300 px tall at ``px`` pixels per body unit; bones varying by
    ``bone_cv``, :func:`articulated_poses`) with Gaussian label
    noise of ``sigma_px`` and a fraction ``hide`` of landmarks hidden: the teacher's inputs,
    the true shapes in their box units and frame ``(n, 17, 3)``, and the random generator
    (for the caller's "network" errors)."""
    from poselab.nrsfm.data import prepare_inputs

    gt, _ = articulated_poses(n, seed=seed, bone_cv=bone_cv)
    rng = np.random.default_rng(seed + 10)
    kp = gt[..., :2] * px + 400 + rng.normal(0, sigma_px, (n, 17, 2))
    vis = np.full((n, 17), 2, np.uint8)
    if hide:
        vis[rng.random((n, 17)) < hide] = 0
        vis[(vis > 0).sum(1) < 4] = 2
    inputs = prepare_inputs(kp, vis, None)
    s, c = inputs.scale[:, None, None], inputs.centre[:, None, :]
    truth = np.concatenate([(gt[..., :2] * px + 400 - c) / s, gt[..., 2:] * px / s], -1)
    return inputs, truth, rng


def h36m_bodies(n: int, seed: int = 0, knee_deg=(15.0, 90.0)) -> np.ndarray:
    """``(n, 17, 3)`` h36m17 bodies in the camera frame (x right, y down, z forward): facing
    the camera, hips flexed by −20…60°, knees bent by ``knee_deg`` (the shin folds back),
    arms in random directions, then turned by random proper rotations, with 1 % noise."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 17, 3))
    X[:, 1], X[:, 4] = [-0.1, 0, 0], [0.1, 0, 0]  # the body's right is the image's left
    for hip, knee, foot in ((1, 2, 3), (4, 5, 6)):  # the legs of h36m17
        h = np.deg2rad(rng.uniform(-20, 60, n))
        k = np.deg2rad(rng.uniform(*knee_deg, n))
        X[:, knee] = X[:, hip] + 0.45 * np.stack([0 * h, np.cos(h), -np.sin(h)], -1)
        X[:, foot] = X[:, knee] + 0.45 * np.stack([0 * h, np.cos(h - k), -np.sin(h - k)], -1)
    X[:, 7], X[:, 8], X[:, 9], X[:, 10] = [0, -0.25, 0], [0, -0.5, 0], [0, -0.6, -0.05], \
        [0, -0.7, 0]
    X[:, 11], X[:, 14] = [0.18, -0.5, 0], [-0.18, -0.5, 0]
    for shoulder, elbow, wrist in ((11, 12, 13), (14, 15, 16)):
        for a, b in ((shoulder, elbow), (elbow, wrist)):
            d = rng.normal(size=(n, 3))
            X[:, b] = X[:, a] + 0.28 * d / np.linalg.norm(d, axis=1, keepdims=True)
    X = np.einsum("nij,nkj->nki", random_rotations(n, rng), X)
    X += rng.normal(scale=0.01, size=X.shape)
    return X - X.mean(1, keepdims=True)
