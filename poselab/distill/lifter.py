"""The lifting autoencoder of paper 001 (§3.3) and its losses (Eq. 6–9).

- Encoder (Martinez et al., "A Simple yet Effective Baseline for 3D Human Pose Estimation",
  ICCV 2017): linear → ``hidden`` (1024), BN, ReLU, dropout; two residual blocks, each two
  linear-BN-ReLU-dropout layers with an identity skip around the block; linear → ``3J``.
- Decoder (§3.3.2): the same form, ``3J → 2J``; with ``skip=True`` the 2D input ``Ŷ_2D`` is
  added to its output ("skip connection from the output of the heatmap regressor to the output
  of the decoder"), so the decoder learns a correction of the 2D.
- :class:`HeatmapLifter`: :class:`~poselab.distill.heatmap.HRNetLite` → soft-argmax
  (:mod:`poselab.distill.softargmax`) → normalised 2D → lifter (the end-to-end model of §3).

All poses are in normalised units (DESIGN.md §3), camera frame (x right, y down, z forward);
depth is relative (only its variation over joints is defined).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from poselab.distill.heatmap import HRNetLite
from poselab.distill.softargmax import cells_to_normalized, soft_argmax_2d


class _LinearBlock(nn.Module):
    """Martinez residual block: 2 × (linear, BN, ReLU, dropout) with an identity skip."""

    def __init__(self, hidden: int, dropout: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class MartinezMLP(nn.Module):
    """Linear → hidden, ``blocks`` residual blocks, linear → out (Martinez et al. 2017).

    ``(B, in_features)`` → ``(B, out_features)``.
    """

    def __init__(self, in_features: int, out_features: int, hidden: int = 1024,
                 blocks: int = 2, dropout: float = 0.5) -> None:
        super().__init__()
        self.inp = nn.Sequential(nn.Linear(in_features, hidden), nn.BatchNorm1d(hidden),
                                 nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.blocks = nn.Sequential(*[_LinearBlock(hidden, dropout) for _ in range(blocks)])
        self.out = nn.Linear(hidden, out_features)
        nn.init.zeros_(self.out.weight)  # start from a zero output (fast start on small data)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.blocks(self.inp(x)))


class LiftingAutoencoder(nn.Module):
    """2D → 3D encoder and optional 3D → 2D decoder (paper 001 §3.3, Fig. 2).

    Args:
        num_joints: J. hidden: width of the linear layers (paper/Martinez: 1024).
        blocks: residual blocks per network (2). dropout: dropout probability (Martinez: 0.5).
        decoder: build the 3D → 2D decoder. skip: add ``Ŷ_2D`` to the decoder output.
        use_mask: also feed the ``(B, J)`` observed-landmark mask to the encoder (2D-only lifter
            with missing landmarks, whose inputs are zero where unobserved).
        xy_residual: the encoder's x, y outputs are offsets added to the input 2D (beyond the
            paper: x, y of the 3D pose equal the 2D up to the camera model, so the network
            only has to learn depth and corrections; trains much faster on small data).

    ``forward(y2d (B, J, 2), mask (B, J) | None)`` → ``(y3d (B, J, 3), reproj (B, J, 2) | None)``.
    """

    def __init__(self, num_joints: int, hidden: int = 1024, blocks: int = 2,
                 dropout: float = 0.5, decoder: bool = True, skip: bool = True,
                 use_mask: bool = False, xy_residual: bool = True) -> None:
        super().__init__()
        J = num_joints
        self.num_joints, self.skip, self.use_mask = J, skip, use_mask
        self.xy_residual = xy_residual
        self.encoder = MartinezMLP(J * (3 if use_mask else 2), 3 * J, hidden, blocks, dropout)
        self.decoder = MartinezMLP(3 * J, 2 * J, hidden, blocks, dropout) if decoder else None

    def forward(self, y2d: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        B, J = y2d.shape[:2]
        x = y2d.reshape(B, 2 * J)
        if self.use_mask:
            m = torch.ones(B, J, dtype=y2d.dtype, device=y2d.device) if mask is None else mask
            x = torch.cat([x * m.to(x.dtype).repeat_interleave(2, 1), m.to(x.dtype)], 1)
        y3d = self.encoder(x).reshape(B, J, 3)
        if self.xy_residual:
            y3d = y3d + torch.cat([y2d, torch.zeros_like(y2d[..., :1])], -1)
        if self.decoder is None:
            return y3d, None
        reproj = self.decoder(y3d.reshape(B, 3 * J)).reshape(B, J, 2)
        if self.skip:
            reproj = reproj + y2d
        return y3d, reproj


class HeatmapLifter(nn.Module):
    """End-to-end model of paper 001: heatmaps → soft-argmax → lifting autoencoder.

    Args:
        num_joints: J. input_size: crop side S (pixels). width, num_branches, out_stride: see
            :class:`~poselab.distill.heatmap.HRNetLite`. beta: soft-argmax temperature (Eq. 2).
        lifter_kwargs: passed to :class:`LiftingAutoencoder`.

    ``forward(images (B, 3, S, S))`` → dict with ``heatmaps (B, J, S/s, S/s)``,
    ``y2d (B, J, 2)`` normalised, ``y3d (B, J, 3)``, ``reproj (B, J, 2)`` or None.
    """

    def __init__(self, num_joints: int, input_size: int, width: int = 16,
                 num_branches: int = 3, out_stride: int = 2, beta: float = 50.0,
                 **lifter_kwargs) -> None:
        super().__init__()
        self.input_size, self.beta = input_size, float(beta)
        self.heatmap_net = HRNetLite(num_joints, width, num_branches, out_stride=out_stride)
        self.lifter = LiftingAutoencoder(num_joints, **lifter_kwargs)

    @property
    def stride(self) -> int:
        return self.heatmap_net.out_stride

    def forward(self, images: Tensor, heatmaps_only: bool = False) -> dict[str, Tensor | None]:
        hm = self.heatmap_net(images)
        if heatmaps_only:
            return {"heatmaps": hm}
        y2d = cells_to_normalized(soft_argmax_2d(hm, self.beta), self.input_size, self.stride)
        y3d, reproj = self.lifter(y2d)
        return {"heatmaps": hm, "y2d": y2d, "y3d": y3d, "reproj": reproj}


# ---------------------------------------------------------------------------------- losses
def _masked_mean_sum(sq: Tensor, mask: Tensor | None) -> Tensor:
    """Mean over the batch of the per-sample sum over joints and coordinates ``(B, J, C)``."""
    if mask is not None:
        sq = sq * mask.to(sq.dtype)[..., None]
    return sq.sum(dim=(1, 2)).mean()


def encoder_loss(y3d: Tensor, target: Tensor, xy_mask: Tensor | None = None,
                 z_mask: Tensor | None = None) -> Tensor:
    """``L_encoder`` of paper 001 Eq. 6: ``(1/N) Σ_i ‖Ŷ_3D − Y_3D‖²`` (sum over joints, xyz).

    Depth is relative, so z of prediction and target are centred over joints first (over
    ``z_mask`` joints when given); x, y compare directly.

    Args:
        y3d, target: ``(B, J, 3)`` normalised units, camera frame.
        xy_mask, z_mask: optional ``(B, J)`` masks of joints whose x, y / z targets are known.
    """
    zp, zt = y3d[..., 2], target[..., 2]
    if z_mask is None:
        zp, zt = zp - zp.mean(1, keepdim=True), zt - zt.mean(1, keepdim=True)
    else:
        m = z_mask.to(zp.dtype)
        cnt = m.sum(1, keepdim=True).clamp_min(1.0)
        zp = zp - (zp * m).sum(1, keepdim=True) / cnt
        zt = zt - (zt * m).sum(1, keepdim=True) / cnt
    lxy = _masked_mean_sum((y3d[..., :2] - target[..., :2]) ** 2, xy_mask)
    lz = _masked_mean_sum(((zp - zt) ** 2)[..., None], z_mask)
    return lxy + lz


def decoder_loss(reproj: Tensor, y2d: Tensor, mask: Tensor | None = None) -> Tensor:
    """``L_decoder`` of paper 001 Eq. 7: ``(1/N) Σ_i ‖Ŷ_reproj − Y_2D‖²`` (sum over joints, xy).

    Args:
        reproj: ``(B, J, 2)`` decoder output. y2d: ``(B, J, 2)`` 2D target (normalised).
        mask: optional ``(B, J)`` observed landmarks.
    """
    return _masked_mean_sum((reproj - y2d) ** 2, mask)


def bone_lengths(poses: Tensor, bones: Tensor) -> Tensor:
    """``(B, E)`` lengths of bones ``(E, 2)`` (parent, child) of poses ``(B, J, 3)``."""
    return torch.linalg.vector_norm(poses[:, bones[:, 1]] - poses[:, bones[:, 0]], dim=-1)


def bone_symmetry_loss(poses: Tensor, bones: Tensor, pairs: Tensor) -> Tensor:
    """``L_boneSym`` of paper 001 Eq. 8: ``(1/N) Σ_i (1/|P|) Σ_{k∈P} (b_k^L − b_k^R)²``.

    Args:
        poses: ``(B, J, 3)`` predicted 3D. bones: ``(E, 2)`` int64 (parent, child).
        pairs: ``(P, 2)`` int64 indices of mirrored bones
            (:attr:`poselab.core.skeleton.Skeleton.symmetric_bone_pairs`).

    Returns:
        scalar; 0 for an empty pair list (a skeleton without left/right pairs).
    """
    if pairs.numel() == 0:
        return poses.sum() * 0.0
    b = bone_lengths(poses, bones)
    return ((b[:, pairs[:, 0]] - b[:, pairs[:, 1]]) ** 2).mean()
