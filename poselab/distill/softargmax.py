"""Differentiable soft-argmax over 2D heatmaps with a temperature (paper 001, Eq. 2–5).

Paper 001 (Vora, "Distilling 3D Human Pose from a Single Image", §3.2) flattens each ``H × W``
heatmap, takes a softmax with temperature β (Eq. 2–3) and the expectation ``τ_j = ρᵀ φ_j`` of
the flat index ``ρ = 0 … WH − 1`` (Eq. 4–5), then reads ``(x, y) = (τ mod W, τ / H)``. That
last step is only right for a one-hot distribution (and ``τ / H`` should be an integer
division by ``W``): the expectation of a flat index is not the flat index of the expected
position. We therefore take the expectation over x and y separately — the same softmax φ_j,
``x_j = Σ φ_j · column``, ``y_j = Σ φ_j · row`` — which equals the paper's read-out for a
one-hot φ and stays differentiable and unbiased otherwise.

Coordinates are in *heatmap cells*: cell ``(row r, column c)`` has centre ``(x, y) = (c, r)``.
:func:`cells_to_normalized` / :func:`normalized_to_cells` map them to the normalised units of
DESIGN.md §3 through the crop of :func:`poselab.distill.data.crop_image`: continuous crop
coordinate ``u = (n / margin + ½) · size`` (0 = the crop's left edge, pixel k centred at
``k + ½``), heatmap cell ``c`` covering crop pixels ``[c·stride, (c+1)·stride)``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from poselab.core.normalize import CROP_MARGIN


def soft_argmax_2d(heatmaps: Tensor, beta: float = 1.0) -> Tensor:
    """Expected 2D position under ``softmax(β · heatmap)`` (paper 001, Eq. 2–5, 2D form).

    ``φ_j = softmax(β a_j)`` over the ``H·W`` cells (Eq. 2–3); ``x_j = Σ_{r,c} φ_j[r, c] · c``,
    ``y_j = Σ_{r,c} φ_j[r, c] · r`` (the expectation of Eq. 5 taken per axis).

    Args:
        heatmaps: ``(B, J, H, W)`` activations ``a`` (any real values).
        beta: temperature β > 0; large β → hard argmax.

    Returns:
        ``(B, J, 2)`` (x, y) in heatmap cells, same dtype/device as the input; differentiable.

    Raises:
        ValueError: input not 4-D or β ≤ 0.
    """
    if heatmaps.ndim != 4:
        raise ValueError(f"heatmaps must be (B, J, H, W), got {tuple(heatmaps.shape)}")
    if not beta > 0:
        raise ValueError(f"soft-argmax temperature β must be > 0, got {beta}")
    B, J, H, W = heatmaps.shape
    phi = torch.softmax(beta * heatmaps.reshape(B, J, H * W), dim=-1).reshape(B, J, H, W)
    xs = torch.arange(W, dtype=heatmaps.dtype, device=heatmaps.device)
    ys = torch.arange(H, dtype=heatmaps.dtype, device=heatmaps.device)
    x = (phi.sum(dim=2) * xs).sum(dim=-1)  # marginal over rows, then E[column]
    y = (phi.sum(dim=3) * ys).sum(dim=-1)  # marginal over columns, then E[row]
    return torch.stack([x, y], dim=-1)


def soft_argmax_flat(heatmaps: Tensor, beta: float = 1.0) -> Tensor:
    """Paper 001's literal read-out (Eq. 2–5): ``τ = ρᵀφ``, ``(x, y) = (τ mod W, ⌊τ / W⌋)``.

    Kept for reference and tests only (it is exact for one-hot φ, biased otherwise, and its
    ``mod``/floor have zero or undefined gradients). Shapes as :func:`soft_argmax_2d`.
    """
    B, J, H, W = heatmaps.shape
    phi = torch.softmax(beta * heatmaps.reshape(B, J, H * W), dim=-1)
    rho = torch.arange(H * W, dtype=heatmaps.dtype, device=heatmaps.device)
    tau = (phi * rho).sum(-1)
    return torch.stack([torch.remainder(tau, W), torch.div(tau, W, rounding_mode="floor")], -1)


def cells_to_normalized(cells: Tensor, size: int, stride: int,
                        margin: float = CROP_MARGIN) -> Tensor:
    """Heatmap cells → normalised units (DESIGN.md §3), differentiable (affine).

    Continuous crop coordinate ``u = (c + ½)·stride`` (the cell's centre), then
    ``n = (u / size − ½) · margin`` (:func:`poselab.core.normalize.crop_to_normalized`).

    Args:
        cells: ``(..., 2)`` heatmap coordinates (x, y) in cells.
        size: crop side in pixels; stride: crop pixels per heatmap cell.
    """
    u = (cells + 0.5) * stride
    return (u / size - 0.5) * margin


def normalized_to_cells(normalized: Tensor, size: int, stride: int,
                        margin: float = CROP_MARGIN) -> Tensor:
    """Inverse of :func:`cells_to_normalized`: ``(..., 2)`` normalised units → heatmap cells."""
    u = (normalized / margin + 0.5) * size
    return u / stride - 0.5
