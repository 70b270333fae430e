"""Camera conventions, written once for the whole code base (DESIGN.md §2).

Rotations act on column vectors: ``X_cam = R @ X + t``. Camera frame: x right, y down,
z forward (away from the camera).

Weak perspective as in paper 000 (Eq. 1): ``W = S M`` with ``S`` (J×3), ``M`` (3×2) with
orthonormal columns ``m1, m2``. In our column-vector convention this is the rotation
``R = [m1, m2, m1×m2]ᵀ`` (rows), i.e. the transpose of paper 000 Eq. 5's matrix, so that
``(R @ S.T).T[:, :2] == S @ M``.
"""

from __future__ import annotations

import numpy as np


def orthonormalize_camera(M_hat: np.ndarray) -> np.ndarray:
    """Nearest matrix with orthonormal columns (Frobenius norm), by SVD: ``M = U Vᵀ``.

    Args:
        M_hat: ``(..., 3, 2)`` estimated camera matrices.

    Returns:
        ``(..., 3, 2)`` matrices with orthonormal columns.
    """
    U, _, Vt = np.linalg.svd(np.asarray(M_hat, np.float64), full_matrices=False)
    return U @ Vt


def rotation_from_camera(M: np.ndarray) -> np.ndarray:
    """Full rotation ``R`` (rows ``m1, m2, m1×m2``) from a weak-perspective camera ``M``.

    Args:
        M: ``(..., 3, 2)`` with orthonormal columns.

    Returns:
        ``(..., 3, 3)`` proper rotation with ``X_cam = R @ X`` (paper 000 Eq. 5, transposed).
    """
    M = np.asarray(M)
    m1, m2 = M[..., :, 0], M[..., :, 1]
    return np.stack([m1, m2, np.cross(m1, m2)], axis=-2)


def rotate_points(points: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Apply ``X' = R @ X`` to row-stacked points.

    Args:
        points: ``(..., J, 3)``. R: ``(..., 3, 3)`` broadcastable.

    Returns:
        ``(..., J, 3)`` rotated points.
    """
    return np.einsum("...ij,...pj->...pi", R, points)


def project_perspective(points_cam: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Pinhole projection of camera-frame points.

    Args:
        points_cam: ``(..., J, 3)`` camera frame, z > 0. K: ``(..., 3, 3)`` intrinsics.

    Returns:
        ``(..., J, 2)`` pixels: ``u = fx·x/z + cx``, ``v = fy·y/z + cy`` (plus skew term).
    """
    uvw = np.einsum("...ij,...pj->...pi", K, points_cam)
    return uvw[..., :2] / uvw[..., 2:3]


def project_weak_perspective(points_cam: np.ndarray, scale: np.ndarray | float = 1.0) -> np.ndarray:
    """Scaled orthographic projection: ``w = s · (x, y)`` of camera-frame points ``(..., J, 3)``."""
    return np.asarray(scale)[..., None, None] * points_cam[..., :2] if np.ndim(scale) else \
        scale * points_cam[..., :2]


def random_rotations(n: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, 3, 3)`` rotations uniformly distributed on SO(3) (via scipy)."""
    from scipy.spatial.transform import Rotation

    return Rotation.random(n, random_state=rng).as_matrix()
