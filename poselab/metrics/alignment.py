"""Alignments used by the 3D metrics (DESIGN.md §7): root, similarity, scale, global rotation.

All functions take batches of poses ``(N, J, 3)`` (any consistent unit and frame) and work in
float64 internally. An optional joint ``mask`` ``(N, J)`` bool restricts every fit to the joints
that are True (e.g. joints with ground truth); masked-out joints are still transformed.

Conventions: rotations act on column vectors, ``Y ≈ s R X + t`` per sample (DESIGN.md §2).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from poselab.core.errors import DataError

log = logging.getLogger(__name__)


def check_pair(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate two pose batches and return them as float64 ``(N, J, D)`` arrays.

    A single pose ``(J, D)`` is promoted to ``(1, J, D)``.

    Raises:
        DataError: when the shapes differ, are not 2-D/3-D, or contain NaN/inf.
    """
    p = np.asarray(pred, dtype=np.float64)
    g = np.asarray(gt, dtype=np.float64)
    if p.ndim == 2:
        p = p[None]
    if g.ndim == 2:
        g = g[None]
    if p.ndim != 3 or p.shape != g.shape:
        raise DataError(None, f"prediction and ground truth must both be (N, J, D) with the same "
                              f"shape, got {np.shape(pred)} and {np.shape(gt)}")
    if not (np.isfinite(p).all() and np.isfinite(g).all()):
        raise DataError(None, "poses to compare contain NaN or infinite coordinates")
    return p, g


def check_mask(mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """``(N, J)`` bool joint mask (all True when ``mask`` is None).

    Raises:
        DataError: when the mask's shape is not ``(N, J)``.
    """
    if mask is None:
        return np.ones(shape[:2], dtype=bool)
    m = np.asarray(mask)
    if m.ndim == 1 and shape[0] == 1:
        m = m[None]
    if m.shape != tuple(shape[:2]):
        raise DataError(None, f"joint mask must have shape {tuple(shape[:2])}, got {m.shape}")
    return m.astype(bool)


def root_align(poses: np.ndarray, root: int = 0) -> np.ndarray:
    """Subtract the root joint: ``X[n, j] − X[n, root]`` (Human3.6M Protocol 1).

    Args:
        poses: ``(N, J, D)`` or ``(J, D)``, any unit.
        root: index of the root joint (pelvis = 0 for h36m17).

    Returns:
        float64 array of the input's shape, root at the origin.
    """
    x = np.asarray(poses, dtype=np.float64)
    return x - x[..., root:root + 1, :]


def _weighted_centroid(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``(N, 1, D)`` mean of the joints with weight ``w`` ``(N, J)``."""
    denom = np.maximum(w.sum(1), 1e-12)[:, None, None]
    return (x * w[..., None]).sum(1, keepdims=True) / denom


def similarity_transform(
    pred: np.ndarray,
    gt: np.ndarray,
    mask: np.ndarray | None = None,
    scale: bool = True,
    allow_reflection: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best similarity transform taking ``pred`` onto ``gt`` per sample (Umeyama 1991).

    Minimises ``Σ_j m_j ‖gt_j − (s R pred_j + t)‖²`` (Umeyama, "Least-squares estimation of
    transformation parameters between two point patterns", TPAMI 1991, Eq. 40–42): with centred
    points, ``Σ = Σ_j gtc_j predc_jᵀ = U D Vᵀ``, ``R = U diag(1, …, 1, d) Vᵀ`` where
    ``d = sign det(U Vᵀ)`` (``d = 1`` when reflections are allowed), ``s = tr(D diag(1,…,d)) /
    Σ_j ‖predc_j‖²`` and ``t = μ_gt − s R μ_pred``.

    Args:
        pred, gt: ``(N, J, D)`` poses (D = 3, or 2), same unit.
        mask: ``(N, J)`` bool joints used for the fit, or None for all.
        scale: fit ``s`` (False: rigid, ``s = 1``).
        allow_reflection: allow ``det R = −1`` (the metrics of DESIGN §7 do not).

    Returns:
        ``s`` ``(N,)``, ``R`` ``(N, D, D)`` and ``t`` ``(N, D)``, float64.

    Raises:
        DataError: on mismatched shapes or a mask of the wrong shape.
    """
    p, g = check_pair(pred, gt)
    w = check_mask(mask, p.shape).astype(np.float64)
    mu_p = _weighted_centroid(p, w)
    mu_g = _weighted_centroid(g, w)
    pc = (p - mu_p) * w[..., None]
    gc = (g - mu_g) * w[..., None]
    cov = np.einsum("nji,njk->nik", gc, pc)  # Σ_j gt_j pred_jᵀ, (N, D, D)
    u, d, vt = np.linalg.svd(cov)
    if not allow_reflection:
        sign = np.sign(np.linalg.det(u @ vt))
        sign[sign == 0] = 1.0
        u[:, :, -1] *= sign[:, None]
        d[:, -1] *= sign
    rot = u @ vt
    if scale:
        var = (pc ** 2).sum((1, 2))
        s = np.where(var > 1e-300, d.sum(1) / np.maximum(var, 1e-300), 1.0)
    else:
        s = np.ones(p.shape[0])
    t = mu_g[:, 0] - s[:, None] * np.einsum("nik,nk->ni", rot, mu_p[:, 0])
    return s, rot, t


def procrustes_align(
    pred: np.ndarray,
    gt: np.ndarray,
    mask: np.ndarray | None = None,
    scale: bool = True,
    allow_reflection: bool = False,
) -> np.ndarray:
    """``pred`` moved onto ``gt`` by :func:`similarity_transform`: ``s R pred + t``.

    Returns:
        ``(N, J, D)`` float64, in ``gt``'s unit and frame.
    """
    p, _ = check_pair(pred, gt)
    s, rot, t = similarity_transform(pred, gt, mask, scale, allow_reflection)
    return s[:, None, None] * np.einsum("nik,njk->nji", rot, p) + t[:, None, :]


def best_scale(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Per-sample least-squares scale ``s = ⟨pred, gt⟩ / ⟨pred, pred⟩`` (no rotation/shift).

    The scale alignment of N-MPJPE (Rhodin et al., "Learning Monocular 3D Human Pose
    Estimation from Multi-view Images", CVPR 2018, §4); apply it to root-aligned poses.

    Args:
        pred, gt: ``(N, J, D)`` poses; mask: ``(N, J)`` joints used for the fit.

    Returns:
        ``(N,)`` float64 scales (1 where ``pred`` is all zeros).
    """
    p, g = check_pair(pred, gt)
    w = check_mask(mask, p.shape).astype(np.float64)[..., None]
    num = (p * g * w).sum((1, 2))
    den = (p * p * w).sum((1, 2))
    return np.where(den > 1e-300, num / np.maximum(den, 1e-300), 1.0)


def global_rotation(
    target: np.ndarray,
    source: np.ndarray,
    method: str = "akhter",
    allow_reflection: bool = True,
) -> np.ndarray:
    """One 3×3 rotation ``Y`` taking a whole sequence ``source`` onto ``target``.

    ``method="akhter"`` reproduces ``findRotation.m`` of Akhter et al.'s trajectory-space code
    (TPAMI 2011; also used by Dai et al. CVPR 2012): stack all frames' points as columns
    ``S1 = [S_1 … S_F]``, ``S2 = [Ŝ_1 … Ŝ_F]`` (3 × FP), take the least-squares linear map
    ``Y = S1 S2ᵀ (S2 S2ᵀ)⁻¹`` and replace it by its nearest orthogonal matrix ``U Vᵀ``
    (SVD ``Y = U D Vᵀ``; the original keeps a reflection when ``det U Vᵀ = −1``).
    ``method="procrustes"`` is the orthogonal Procrustes solution ``argmin_R ‖S1 − R S2‖_F``
    (SVD of ``S1 S2ᵀ``).

    Args:
        target, source: ``(F, P, 3)`` sequences, same unit and frame convention.
        method: ``"akhter"`` or ``"procrustes"``.
        allow_reflection: False forces ``det Y = +1`` (flip the last singular direction).

    Returns:
        ``(3, 3)`` float64 ``Y`` with ``target[f] ≈ (Y @ source[f].T).T`` for all f.

    Raises:
        DataError: on mismatched shapes; ValueError on an unknown method.
    """
    t, s = check_pair(target, source)
    a = t.reshape(-1, t.shape[-1]).T  # (3, F·P)
    b = s.reshape(-1, s.shape[-1]).T
    if method == "akhter":
        m = (a @ b.T) @ np.linalg.pinv(b @ b.T)
    elif method == "procrustes":
        m = a @ b.T
    else:
        raise ValueError(f"unknown global rotation method {method!r} (akhter | procrustes)")
    u, _, vt = np.linalg.svd(m)
    if not allow_reflection and np.linalg.det(u @ vt) < 0:
        u[:, -1] *= -1.0
    return u @ vt


def reflect_depth(poses: np.ndarray, sign: int = -1, root: int = 0) -> np.ndarray:
    """Mirror poses in depth about the root's depth: ``z → z_root − (z − z_root)`` if sign < 0.

    The mirror image ``z → −z`` in the camera frame (DESIGN.md §4: every weak-perspective
    reconstruction is ambiguous up to it), kept at the same root depth so that absolute depths
    stay in front of the camera. ``sign = +1`` returns a float64 copy.

    Args:
        poses: ``(N, J, 3)`` camera frame (x right, y down, z forward).
    """
    x = np.array(poses, dtype=np.float64)
    if sign < 0:
        z_root = x[..., root:root + 1, 2]
        x[..., 2] = 2.0 * z_root - x[..., 2]
    return x


def choose_depth_reflection(
    pred: np.ndarray,
    gt: np.ndarray,
    error_fn: Callable[[np.ndarray, np.ndarray], float],
    root: int = 0,
) -> int:
    """ONE depth sign for a whole set: the one with the lower ``error_fn`` (never per sample).

    Args:
        pred, gt: ``(N, J, 3)`` camera frame.
        error_fn: ``error_fn(pred, gt) -> float``, a set-level error (e.g. mean MPJPE).
        root: joint about whose depth the set is mirrored (:func:`reflect_depth`).

    Returns:
        ``+1`` (keep) or ``−1`` (mirror every sample); ties keep ``+1``.
    """
    e_keep = float(error_fn(reflect_depth(pred, +1, root), gt))
    e_flip = float(error_fn(reflect_depth(pred, -1, root), gt))
    log.debug("depth reflection: keep %.6g, mirror %.6g", e_keep, e_flip)
    return -1 if e_flip < e_keep else 1
