"""Low-rank polish of a short sequence's output depth (weak perspective, free bones).

The teacher's output puts every landmark on its labelled ray with the network's depth. On a
short sequence of many points whose bones are not made rigid (marker sets, faces, custom
skeletons), that depth is refined by the classic NRSfM assumption (Bregler et al., CVPR 2000;
Dai, Li & He, CVPR 2012, the BMM of ``scripts/bmm.py``): aligned to a common frame, the
sequence's shapes span a low-dimensional space. Alternating projections, started from the
output ``Y`` (N, J, 3), with the landmarks' x, y held:

1. each sample's rotation onto the reference shape (orthogonal Procrustes, Umeyama, PAMI
   1991, Eq. 39–41, det R = +1): ``B_n = (Y_n − t_n) R_n``, ``t_n`` its centroid;
2. the aligned shapes, ``(N, 3J)``, replaced by their mean plus their best rank-``K``
   approximation (Eckart–Young: projected on the top ``K`` eigenvectors of their scatter);
   the reference becomes their mean;
3. back to the camera, ``Y_n = B_n R_nᵀ + t_n``, and the observed landmarks' x, y set to the
   labels again: only depth (and the hidden landmarks) moves.

No scale is aligned: a scale per sample is one more freedom for the depth, and it did worse
(classic drink and pickup exact, seed 0: 0.0221 / 0.0305 without, 0.0248 / 0.0327 with); a
sequence whose size changes spends one of the ``K`` dimensions on it.

Started from the network's depth it stays in that solution's basin: the alternations are
few (:data:`ITERATIONS`), and run to convergence they drift from it (17-marker renders, 500
alternations: 5 of 6 worse than the unpolished output). ``K`` = :data:`RANK` and the 50
alternations were chosen looking at the classic sequences (exact and 1 % noise, seed 0) and
the seven CMU renders of ``scripts/bench_unseen.py`` as 17 and 49 markers; held out were
session 34's other renders (26 sequences × two fits: 50 of 52 better, mean 0.92×) and other
seeds' classic fits (21 of 22 better). Figures: docs/measurements.md *Session 35*.
"""

from __future__ import annotations

import time

import numpy as np

from poselab.core.errors import PoselabError
from poselab.nrsfm.articulation import rigid_wanted
from poselab.nrsfm.config import SMALL_SET, NRSfMConfig

#: Rank of the aligned shapes around their mean (see the module docstring).
RANK = 8

#: Fewest landmarks polished (tried from 17 up; below, ``RANK`` constrains the shapes little).
MIN_POINTS = 17

#: Alternations (each: a 3×3 SVD per sample and an eigendecomposition of a (3J, 3J) scatter).
ITERATIONS = 50


def rotation_to(shapes: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Rotation that best maps each centred shape onto ``reference``.

    Args:
        shapes: ``(N, J, 3)`` centred shapes. reference: ``(J, 3)`` centred.

    Returns:
        ``R (N, 3, 3)`` proper rotations (det +1) with ``shapes_n R_n`` the least-squares fit
        to ``reference`` (Umeyama 1991, Eq. 39–41).
    """
    cov = np.einsum("nji,jk->nik", shapes, reference)  # (N, 3, 3): shapesᵀ · reference
    U, _, Vt = np.linalg.svd(cov)
    D = np.ones((len(shapes), 3))
    D[:, 2] = np.sign(np.linalg.det(U @ Vt))
    return np.einsum("nij,nj,njk->nik", U, D, Vt)


def polish(shapes: np.ndarray, observed: np.ndarray, rank: int = RANK,
           iterations: int = ITERATIONS) -> np.ndarray:
    """Refine depth so that the aligned sequence has rank ``rank`` around its mean.

    Args:
        shapes: ``(N, J, 3)`` float, camera frame, any consistent unit per sample (x, y the
            labelled landmarks; z the depth).
        observed: ``(N, J)`` bool: landmarks whose x, y are held (the others move freely).
        rank: ``K`` of the module docstring (``0 < K``). iterations: alternations.

    Returns:
        ``(N, J, 3)`` float32: observed x, y unchanged, depth (and hidden landmarks) moved;
        each sample's mean depth kept.

    Raises:
        PoselabError: ``shapes`` not ``(N, J, 3)`` or ``rank`` < 1.
    """
    Y = np.asarray(shapes, np.float64)
    if Y.ndim != 3 or Y.shape[2] != 3 or rank < 1:
        raise PoselabError(f"polish: shapes must be (N, J, 3) and rank ≥ 1, got {Y.shape}, "
                           f"rank {rank}")
    N, J, _ = Y.shape
    obs = np.asarray(observed, bool)
    held = Y[..., :2].copy()
    depth_mean = Y[..., 2].mean(1, keepdims=True)
    reference = Y[0] - Y[0].mean(0)
    for k in range(iterations):
        t = Y.mean(1, keepdims=True)
        C = Y - t
        for _ in range(2 if k == 0 else 1):  # the first reference is one sample: align twice
            R = rotation_to(C, reference)
            B = np.einsum("nji,nik->njk", C, R)
            reference = B.mean(0)
        M = B.reshape(N, 3 * J)
        mu = M.mean(0)
        A = M - mu
        _, V = np.linalg.eigh(A.T @ A)  # (3J, 3J): the right singular vectors, ascending
        V = V[:, -min(rank, 3 * J):]
        B = (mu + (A @ V) @ V.T).reshape(N, J, 3)
        reference = B.mean(0)
        Y = np.einsum("njk,nik->nji", B, R) + t
        Y[..., :2] = np.where(obs[..., None], held, Y[..., :2])
    Y[..., 2] += depth_mean - Y[..., 2].mean(1, keepdims=True)
    return Y.astype(np.float32)


def wanted(result, config: NRSfMConfig) -> bool:
    """Whether ``result`` (an :class:`poselab.nrsfm.result.NRSfMResult` of ``fit``) gets the
    polish: ``config.low_rank``, weak perspective, at most :data:`SMALL_SET` samples and
    more than ``2 · RANK``, at least :data:`MIN_POINTS` landmarks, bones not made rigid (the
    rigid-bone output step shapes those), and not polished already."""
    N, J = result.keypoints_3d.shape[:2]
    return bool(config.low_rank and result.camera_model == "weak_perspective"
                and 2 * RANK < N <= SMALL_SET and J >= MIN_POINTS
                and not rigid_wanted(config.bone_lengths, result.skeleton, warn=False)
                and "low_rank" not in result.extra)


def polished(result, observed: np.ndarray, config: NRSfMConfig):
    """``result`` with its ``keypoints_3d`` polished (:func:`polish`) when :func:`wanted`;
    ``extra["low_rank"]`` records the rank, the alternations and the RMS depth change (pixels).
    ``observed``: ``(N, J)`` bool, the fitted collection's observed landmarks."""
    if not wanted(result, config):
        return result
    t0 = time.perf_counter()
    before = result.keypoints_3d
    after = polish(before, observed)
    result.keypoints_3d = after
    change = float(np.sqrt(np.mean((after[..., 2] - before[..., 2]) ** 2)))
    seconds = time.perf_counter() - t0
    result.extra["low_rank"] = {"rank": RANK, "iterations": ITERATIONS,
                                "depth_change_px": change, "seconds": seconds}
    if "wall_s" in result.extra:
        result.extra["wall_s"] += seconds
    return result
