"""Student losses of paper 000 (Eq. 5–15): the distilling loss and its baselines.

All functions are batched torch operations on normalised units (DESIGN.md §3), camera frame
(x right, y down, z forward). ``B`` is the batch size, ``J`` joints, ``K`` first-layer atoms.

- :func:`rotated_dictionary`: ``B⁽ⁱ⁾`` of Eq. 6 — every atom of the teacher's ``D1`` rotated
  into sample i's camera frame (``X_cam = R X``; :class:`poselab.nrsfm.result.NRSfMResult`).
- :func:`project_codes`: Eq. 12–13, the projection of ``φ_nrsfm`` onto the codes whose depth
  equals the hypothesis ``z′``: ``φ̃ = φ + B_z⁺ (z′ − B_z φ)`` with the damped right inverse
  ``B_z⁺ = B_zᵀ (B_z B_zᵀ + λI)⁻¹``. Depth is relative (weak perspective has no depth origin),
  so ``z′`` and the rows of ``B_z`` are centred over joints first; centred rows sum to zero,
  so ``B_z B_zᵀ`` is singular and the damping ``λ`` (relative to its mean diagonal) is needed.
- :func:`distill_depth_loss`: Eq. 14, ``‖B_xy φ̃ − w‖₂ + l1_weight ‖φ̃‖₁``. Beyond the paper:
  reprojection residuals of unobserved landmarks are masked out, and the residual is taken
  after removing its mean over observed joints (weak-perspective translation), so a teacher
  whose shape is not centred on the box centre costs nothing extra.
- :func:`weaksup_depth_loss`: "Weaksup-bs", L1 between centred ``z′`` and the teacher's depth.
- :func:`teacher3d_depth_loss`: Weaksup-bs weighted by the teacher's per-joint confidence
  (added to the distilling loss with ``TrainConfig.teacher3d_weight``).
- :func:`heatmap_xy_loss`: dense 2D cross-entropy of the integral student's x–y heatmaps.
- :func:`supervised_depth_loss`: L1 between centred ``z′`` and a centred target depth
  (ground truth converted to normalised units by :func:`gt_depth_normalized`).
- :func:`xy_loss`: the 2D term ``‖f_xy − w‖₁`` of Eq. 15, masked by visibility.

The losses with matrix products run in float32 even inside ``torch.autocast`` (the integral
student trains in mixed precision on a GPU): in bfloat16 the damped Gram solve of Eq. 13 is
wrong by a factor of 3 (measured on a random batch: 30.06 against 8.76), and on CUDA
``linalg.solve`` refuses the mixed dtypes outright.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import Tensor

HALF = (torch.float16, torch.bfloat16)


def _in_float32(fn):
    """Run ``fn`` with autocast off and its half-precision tensor arguments as float32
    (float32 and float64 pass unchanged)."""

    def cast(v):
        return v.float() if isinstance(v, Tensor) and v.dtype in HALF else v

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        devices = [v.device.type for v in (*args, *kwargs.values()) if isinstance(v, Tensor)]
        with torch.autocast(devices[0] if devices else "cpu", enabled=False):
            return fn(*map(cast, args), **{k: cast(v) for k, v in kwargs.items()})

    return wrapper


def _centre(x: Tensor, dim: int) -> Tensor:
    return x - x.mean(dim=dim, keepdim=True)


@_in_float32
def rotated_dictionary(dictionary: Tensor, rotations: Tensor) -> Tensor:
    """Rotate every atom of D1 into each sample's camera frame (paper 000 Eq. 5–6).

    Args:
        dictionary: ``(3J, K)`` D1, row ``3j + c`` is coordinate c of joint j (canonical frame).
        rotations: ``(B, 3, 3)`` canonical → camera, ``X_cam = R @ X`` (Eq. 5).

    Returns:
        ``(B, J, 3, K)``: ``out[b, j, :, k] = R_b @ D[j, :, k]``, so ``out[b] @ φ`` is the
        camera-frame shape ``(J, 3)`` of code φ; ``[..., :2, :]`` are the rows of ``B_xy``
        and ``[..., 2, :]`` those of ``B_z`` (Eq. 7).
    """
    K = dictionary.shape[-1]
    D = dictionary.reshape(-1, 3, K)
    return torch.einsum("bac,jck->bjak", rotations, D)


@_in_float32
def project_codes(z: Tensor, Bz: Tensor, codes: Tensor, damping: float = 1e-3) -> Tensor:
    """φ̃ = φ + B_z⁺ (z′ − B_z φ): nearest code (L2) whose depth is z′ (paper 000 Eq. 12–13).

    ``z′`` and the rows of ``B_z`` are centred over joints (depth is relative); the right
    inverse is damped: ``B_z⁺ = B_zᵀ (B_z B_zᵀ + λ I)⁻¹`` with ``λ = damping · tr(B_z B_zᵀ)/J``.
    With ``damping → 0`` this is the exact minimiser of ``½‖φ − φ_nrsfm‖²`` subject to
    ``centre(B_z) φ = centre(z′)`` (tested against a constrained solver).

    Args:
        z: ``(B, J)`` depth hypothesis z′, normalised units (any constant offset).
        Bz: ``(B, J, K)`` depth rows of the rotated dictionary.
        codes: ``(B, K)`` φ_nrsfm.
        damping: relative damping λ ≥ 0.

    Returns:
        ``(B, K)`` φ̃, differentiable in ``z`` (and ``Bz``, ``codes``).
    """
    zc = _centre(z, 1)
    Bc = _centre(Bz, 1)
    G = Bc @ Bc.transpose(1, 2)  # (B, J, J)
    J = G.shape[-1]
    lam = damping * torch.diagonal(G, dim1=1, dim2=2).mean(dim=1).clamp_min(1e-12)
    eye = torch.eye(J, dtype=G.dtype, device=G.device)
    G = G + lam[:, None, None] * eye
    r = zc - (Bc @ codes[..., None])[..., 0]  # (B, J)
    y = torch.linalg.solve(G, r[..., None])  # (B, J, 1)
    return codes + (Bc.transpose(1, 2) @ y)[..., 0]


@_in_float32
def distill_depth_loss(z: Tensor, w: Tensor, B: Tensor, codes: Tensor,
                       observed: Tensor | None = None, l1_weight: float = 0.3,
                       damping: float = 1e-3, eps: float = 1e-8,
                       reduce: bool = True) -> Tensor | dict[str, Tensor]:
    """Knowledge-distilling depth loss L̃(z′) (paper 000 Eq. 13–14, §4.4).

    ``L̃ = ‖B_xy φ̃(z′) − w‖₂ + l1_weight · ‖φ̃(z′)‖₁`` with φ̃ from :func:`project_codes`:
    the NRSfM cost (reprojection + sparsity, Eq. 9) of the code closest to the teacher's that
    explains the predicted depth — a convex upper bound of Eq. 11.

    Args:
        z: ``(B, J)`` predicted depth f_z, normalised units, camera frame.
        w: ``(B, J, 2)`` observed 2D landmarks, normalised units.
        B: ``(B, J, 3, K)`` rotated dictionary (:func:`rotated_dictionary`, after any
            augmentation applied to the camera frame).
        codes: ``(B, K)`` the teacher's φ_nrsfm.
        observed: ``(B, J)`` bool/float mask of observed landmarks (None: all).
        l1_weight: weight of the L1 regulariser (paper: 0.3).
        damping: relative damping of the right inverse.
        eps: added under the square root so the L2 norm is differentiable at zero.
        reduce: mean over the batch (scalar) if True, else a dict of per-sample ``(B,)`` terms
            ``loss``, ``reprojection``, ``sparsity``.
    """
    phi = project_codes(z, B[:, :, 2, :], codes, damping)
    xy = torch.einsum("bjak,bk->bja", B[:, :, :2, :], phi)  # (B, J, 2)
    m = (torch.ones_like(z) if observed is None else observed.to(z.dtype))[..., None]
    res = (xy - w) * m
    res = res - m * res.sum(1, keepdim=True) / m.sum(1, keepdim=True).clamp_min(1.0)
    reproj = torch.sqrt((res ** 2).sum(dim=(1, 2)) + eps)
    sparsity = phi.abs().sum(dim=1)
    loss = reproj + l1_weight * sparsity
    if reduce:
        return loss.mean()
    return {"loss": loss, "reprojection": reproj, "sparsity": sparsity}


def weaksup_depth_loss(z: Tensor, teacher_z: Tensor) -> Tensor:
    """"Weaksup-bs" baseline (paper 000 §5.2): mean over the batch of Σ_j |z′_j − z_j^nrsfm|.

    Both depths are centred over joints first (relative depth). Shapes ``(B, J)``.
    """
    return (_centre(z, 1) - _centre(teacher_z, 1)).abs().sum(dim=1).mean()


def teacher3d_depth_loss(z: Tensor, teacher_z: Tensor, weight: Tensor | None = None) -> Tensor:
    """Knowledge distillation to the teacher's refined 3D (paper 001 §3.3, its 3D target,
    here on depth): mean over the batch of Σ_j c_j |centre(z′)_j − centre(z_teacher)_j|.

    Unlike :func:`weaksup_depth_loss` each joint can be weighted by the teacher's confidence
    ``c`` (:attr:`poselab.distill.inputs.Targets.teacher_weight`; None = 1), so joints the
    teacher is unsure of pull less. Shapes ``(B, J)``, normalised units.
    """
    d = (_centre(z, 1) - _centre(teacher_z, 1)).abs()
    if weight is not None:
        d = d * weight
    return d.sum(dim=1).mean()


def supervised_depth_loss(z: Tensor, target_z: Tensor) -> Tensor:
    """Supervised upper bound: mean over the batch of Σ_j |centre(z′) − centre(z_gt)|_j.

    Args: ``z``, ``target_z``: ``(B, J)`` normalised units (see :func:`gt_depth_normalized`).
    """
    return weaksup_depth_loss(z, target_z)


def xy_loss(xy: Tensor, w: Tensor, observed: Tensor | None = None) -> Tensor:
    """2D term of paper 000 Eq. 15: mean over the batch of Σ_j ‖f_xy − w‖₁ (observed joints).

    Shapes: ``xy``, ``w`` ``(B, J, 2)`` normalised units; ``observed`` ``(B, J)``.
    """
    d = (xy - w).abs()
    if observed is not None:
        d = d * observed.to(d.dtype)[..., None]
    return d.sum(dim=(1, 2)).mean()


def heatmap_xy_loss(marginal: Tensor, w: Tensor, observed: Tensor | None = None,
                    sigma: float = 1.0, margin: float | None = None) -> Tensor:
    """Dense 2D term of the integral student: cross-entropy of each joint's x–y marginal
    against a Gaussian at its label (beyond paper 000, which supervises f_xy by L1 only).

    With coordinates alone (Eq. 15's ‖f_xy − w‖₁) a randomly initialised integral network has
    to grow peaks in a ``D·H·W``-cell softmax before any joint leaves the crop centre; in a
    CPU budget it settles on the data set's median pose (a vertical line when people face all
    directions). Supervising the marginal cell by cell gives every cell a gradient from the
    first step, as a heatmap network gets (paper 001 Eq. 1; Sun et al. 2018 combine the two).

    ``target[j] ∝ exp(−‖c − c_j‖² / 2σ²)`` over cell centres ``c`` (cells, σ in cells),
    normalised to sum 1; loss = mean over the batch of Σ_j (observed) −Σ_c target log p.

    Args:
        marginal: ``(B, J, H, W)`` probabilities (sum 1 per joint), grid spanning the crop.
        w: ``(B, J, 2)`` labels, normalised units (DESIGN §3). observed: ``(B, J)`` mask.
        sigma: Gaussian width in cells. margin: crop side in box sides (default CROP_MARGIN).
    """
    from poselab.core.normalize import CROP_MARGIN

    margin = CROP_MARGIN if margin is None else margin
    b, j, h, wd = marginal.shape
    frac = w / margin + 0.5  # fraction of the crop
    cx = frac[..., 0] * wd - 0.5
    cy = frac[..., 1] * h - 0.5
    xs = torch.arange(wd, dtype=marginal.dtype, device=marginal.device)
    ys = torch.arange(h, dtype=marginal.dtype, device=marginal.device)
    gx = torch.exp(-(xs - cx[..., None]) ** 2 / (2 * sigma ** 2))  # (B, J, W)
    gy = torch.exp(-(ys - cy[..., None]) ** 2 / (2 * sigma ** 2))  # (B, J, H)
    g = gy[..., :, None] * gx[..., None, :]
    g = g / g.sum(dim=(2, 3), keepdim=True).clamp_min(1e-12)
    ce = -(g * torch.log(marginal.clamp_min(1e-12))).sum(dim=(2, 3))  # (B, J)
    if observed is not None:
        ce = ce * observed.to(ce.dtype)
    return ce.sum(dim=1).mean()


def gt_depth_normalized(keypoints_3d: np.ndarray, w: np.ndarray,
                        observed: np.ndarray) -> np.ndarray:
    """Ground-truth depth in the students' normalised units, for the supervised baseline.

    Weak-perspective approximation: the scale ``a`` that best maps the centred ground-truth
    x, y onto the centred normalised 2D (least squares over observed joints) also converts
    depth, ``z_n = a · (Z − mean Z)``. Works for any 3D unit, with or without intrinsics.

    Args:
        keypoints_3d: ``(N, J, 3)`` ground truth, camera frame, any unit.
        w: ``(N, J, 2)`` normalised 2D. observed: ``(N, J)`` bool.

    Returns:
        ``(N, J)`` float32 centred depth, normalised units.
    """
    X = np.asarray(keypoints_3d, np.float64)
    m = np.asarray(observed, np.float64)[..., None]
    cnt = np.maximum(m.sum(1, keepdims=True), 1.0)
    Xc = X[..., :2] - (X[..., :2] * m).sum(1, keepdims=True) / cnt
    wc = np.asarray(w, np.float64) - (np.asarray(w, np.float64) * m).sum(1, keepdims=True) / cnt
    a = (Xc * wc * m).sum((1, 2)) / np.maximum((Xc ** 2 * m).sum((1, 2)), 1e-12)
    z = X[..., 2] - X[..., 2].mean(1, keepdims=True)
    return (a[:, None] * z).astype(np.float32)
