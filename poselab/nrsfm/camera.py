"""Cameras of the Deep NRSfM teacher: orthonormalisation, weak perspective and perspective.

Conventions (DESIGN.md §2, §4): a canonical shape ``S`` (J×3) is seen through ``M`` (3×2, with
orthonormal columns m1, m2); the rotation is ``R = [m1, m2, m1×m2]ᵀ`` so that the camera-frame
shape is ``X = S Rᵀ`` and ``X[:, :2] = S M`` (paper 000 Eq. 1).

Perspective model (beyond paper 000, whose §6 names weak perspective as its first limitation).
With intrinsics K, landmark rays are ``r = ((u − cx)/fx, (v − cy)/fy)``. Write the camera-frame
points as ``P_j = T_z · ((t_x, t_y, 1) + σ X_j)`` with ``σ = s / f`` (box side ``s`` in pixels
over the focal length), so ``X`` is the shape in box units at the reference depth ``T_z``. Its
projection, in the normalised coordinates ``n = (r − r_c)/σ`` of DESIGN §3 (``r_c`` = ray of
the box centre), is

    n_j = (τ + X_j,xy − r_c X_j,z) / (1 + σ X_j,z),        τ = (t − r_c) / σ,

which is weak perspective (``n_j = τ + X_j,xy``) when σ → 0. The 2D offset τ is solved in closed
form (weighted least squares) for every sample, so the network predicts only shape and rotation.
"""

from __future__ import annotations

import torch


def orthonormalize(M_hat: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Nearest matrix with orthonormal columns (polar factor), differentiable, no SVD.

    ``M = M̂ (M̂ᵀM̂)^{-1/2}`` equals ``U Vᵀ`` of the SVD ``M̂ = U Σ Vᵀ`` (DESIGN §4). The 2×2
    inverse square root uses the closed form ``√A = (A + √det A · I) / √(tr A + 2√det A)``.

    Args:
        M_hat: ``(B, 3, 2)`` any matrices.

    Returns:
        ``(B, 3, 2)`` with ``MᵀM = I``.
    """
    A = M_hat.transpose(1, 2) @ M_hat  # (B,2,2) SPD
    a, b, d = A[:, 0, 0], A[:, 0, 1], A[:, 1, 1]
    det = (a * d - b * b).clamp_min(eps)
    sdet = det.sqrt()
    t = (a + d + 2 * sdet).clamp_min(eps).sqrt()
    # sqrt(A) = [[a + sdet, b], [b, d + sdet]] / t ; its inverse:
    p, q, r = (a + sdet) / t, b / t, (d + sdet) / t
    idet = 1.0 / (p * r - q * q).clamp_min(eps)
    inv = torch.stack([torch.stack([r, -q], -1), torch.stack([-q, p], -1)], -2) * idet[:, None,
                                                                                        None]
    return M_hat @ inv


def procrustes_camera(S: torch.Tensor, n: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Best orthonormal camera for a given shape (orthogonal Procrustes, weak perspective).

    ``M = argmin ‖m ⊙ (S M + 1 τᵀ − W)‖_F`` over ``MᵀM = I`` is the polar factor of
    ``S̄ᵀ diag(m) W̄`` (both centred over the observed landmarks; Schönemann 1966). Under
    perspective it is the weak-perspective approximation the projection then corrects.

    Args:
        S: ``(B, J, 3)`` canonical shapes. n: ``(B, J, 2)`` observed 2D. mask: ``(B, J)``.

    Returns:
        ``(B, 3, 2)`` orthonormal columns.
    """
    w = mask[..., None]
    cnt = w.sum(1, keepdim=True).clamp_min(1.0)
    Sc = S - (S * w).sum(1, keepdim=True) / cnt
    nc = n - (n * w).sum(1, keepdim=True) / cnt
    return orthonormalize((Sc * w).transpose(1, 2) @ nc)


def rotation_from_camera(M: torch.Tensor) -> torch.Tensor:
    """``(B, 3, 2)`` orthonormal columns → ``(B, 3, 3)`` proper rotations ``[m1, m2, m1×m2]ᵀ``."""
    m1, m2 = M[:, :, 0], M[:, :, 1]
    return torch.stack([m1, m2, torch.linalg.cross(m1, m2, dim=-1)], dim=1)


def project(X: torch.Tensor, n: torch.Tensor, mask: torch.Tensor, sigma: torch.Tensor,
            ray_centre: torch.Tensor, min_denominator: float = 0.2
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Project camera-frame shapes and solve the per-sample 2D offset τ in closed form.

    Args:
        X: ``(B, J, 3)`` camera-frame shapes, box units, centred.
        n: ``(B, J, 2)`` observed normalised 2D (any value where unobserved).
        mask: ``(B, J)`` float, 1 where the landmark is observed (at least one per sample).
        sigma: ``(B,)`` box side over focal length (0 = weak perspective).
        ray_centre: ``(B, 2)`` ray of the box centre (0 for weak perspective).

    Returns:
        ``n_hat (B, J, 2)`` the projections including τ, and ``tau (B, 2)``.
    """
    z = X[..., 2]
    den = (1 + sigma[:, None] * z).clamp_min(min_denominator)  # (B, J)
    a = X[..., :2] - ray_centre[:, None, :] * z[..., None]
    w = mask / den ** 2  # weights of τ's normal equations
    # minimise Σ m ((τ + a)/den − n)² → τ = Σ m (n − a/den)/den / Σ m/den²
    num = (mask[..., None] * (n - a / den[..., None]) / den[..., None]).sum(1)
    tau = num / w.sum(1, keepdim=True).clamp_min(1e-8)
    n_hat = (tau[:, None, :] + a) / den[..., None]
    return n_hat, tau
