"""A compact HRNet-style 2D heatmap network, Gaussian heatmap targets and the MSE of Eq. 1.

Paper 001 §3.1 uses HRNet (Sun et al., "Deep High-Resolution Representation Learning for Human
Pose Estimation", CVPR 2019): a high-resolution stem branch kept through the whole network, lower
resolutions (½ the size, 2× the channels each) added stage by stage, and repeated multi-scale
fusion ("exchange blocks") between the parallel branches; the heatmaps come from the
highest-resolution branch. :class:`HRNetLite` is that design, written here in plain torch with
basic residual units and configurable width / branch count so that it trains on a CPU:

- stem: two 3×3 convolutions (the first of stride 2; the second of stride 2 too when
  ``out_stride == 4``) → branch 1 at ``1/out_stride`` of the input, ``width`` channels;
- stage 1: two basic residual units; then stages 2…``num_branches``: a new branch at half the
  resolution (a strided 3×3 convolution of the lowest branch), ``blocks_per_stage`` exchange
  blocks (two residual units per branch, then every branch receives the sum of all branches
  resampled to its resolution: 1×1 conv + nearest upsampling, or strided 3×3 convolutions);
- head: 1×1 convolution of branch 1 → ``J`` heatmaps at ``1/out_stride`` of the input.

HRNet-W32 of the paper (4 branches, bottleneck stem, 1-4-3 exchange blocks) is approximated by
``width=32, num_branches=4, blocks_per_stage=(1, 4, 3)``; the CPU default is width 16, 3 branches.
No pretrained weights are used or downloaded.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F


def _conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, relu: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False),
                               nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class BasicUnit(nn.Module):
    """ResNet basic residual unit: two 3×3 conv-BN, identity skip, ReLU. ``(B, C, H, W)``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv_bn(channels, channels),
                                  _conv_bn(channels, channels, relu=False))

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x + self.body(x))


class ExchangeBlock(nn.Module):
    """HRNet exchange block: residual units per branch, then all-to-all multi-scale fusion.

    Branch ``i`` has ``width · 2^i`` channels at ``1 / 2^i`` of branch 0's resolution.
    """

    def __init__(self, width: int, num_branches: int, units: int = 2) -> None:
        super().__init__()
        ch = [width * 2 ** i for i in range(num_branches)]
        self.branches = nn.ModuleList(
            nn.Sequential(*[BasicUnit(c) for _ in range(units)]) for c in ch)
        self.fuse = nn.ModuleList()
        for i in range(num_branches):  # target
            row = nn.ModuleList()
            for j in range(num_branches):  # source
                if j == i:
                    row.append(nn.Identity())
                elif j > i:  # lower resolution → 1×1 conv, upsample later
                    row.append(_conv_bn(ch[j], ch[i], k=1, relu=False))
                else:  # higher resolution → (i − j) strided 3×3 convs
                    steps: list[nn.Module] = []
                    for s in range(i - j):
                        last = s == i - j - 1
                        steps.append(_conv_bn(ch[j], ch[i] if last else ch[j], stride=2,
                                              relu=not last))
                    row.append(nn.Sequential(*steps))
            self.fuse.append(row)

    def forward(self, xs: list[Tensor]) -> list[Tensor]:
        xs = [b(x) for b, x in zip(self.branches, xs, strict=True)]
        out = []
        for i, row in enumerate(self.fuse):
            acc = xs[i]
            for j, f in enumerate(row):
                if j == i:
                    continue
                y = f(xs[j])
                if j > i:
                    y = F.interpolate(y, size=xs[i].shape[-2:], mode="nearest")
                acc = acc + y
            out.append(F.relu(acc))
        return out


class HRNetLite(nn.Module):
    """Compact HRNet-style heatmap network (module doc; paper 001 §3.1).

    Args:
        num_joints: J heatmaps. width: channels of branch 1 (HRNet-W32: 32).
        num_branches: parallel resolutions (2–4). blocks_per_stage: exchange blocks in stages
            2…num_branches. out_stride: 2 or 4, input pixels per heatmap cell.

    Input ``(B, 3, S, S)`` float (normalised RGB); output ``(B, J, S/out_stride, S/out_stride)``.
    """

    def __init__(self, num_joints: int, width: int = 16, num_branches: int = 3,
                 blocks_per_stage: tuple[int, ...] | None = None, out_stride: int = 4) -> None:
        super().__init__()
        if out_stride not in (2, 4):
            raise ValueError(f"out_stride must be 2 or 4, got {out_stride}")
        if not 1 <= num_branches <= 4:
            raise ValueError(f"num_branches must be 1–4, got {num_branches}")
        blocks = tuple(blocks_per_stage or (1,) * (num_branches - 1))
        if len(blocks) != num_branches - 1:
            raise ValueError("blocks_per_stage needs one entry per stage after the first")
        self.out_stride = out_stride
        self.stem = nn.Sequential(_conv_bn(3, width, stride=2),
                                  _conv_bn(width, width, stride=out_stride // 2))
        self.stage1 = nn.Sequential(BasicUnit(width), BasicUnit(width))
        self.transitions = nn.ModuleList()
        self.stages = nn.ModuleList()
        for b in range(1, num_branches):
            self.transitions.append(_conv_bn(width * 2 ** (b - 1), width * 2 ** b, stride=2))
            self.stages.append(nn.Sequential(
                *[ExchangeBlock(width, b + 1) for _ in range(blocks[b - 1])]))
        self.head = nn.Conv2d(width, num_joints, 1)
        nn.init.normal_(self.head.weight, std=0.001)  # HRNet's init: near-zero heatmaps
        nn.init.zeros_(self.head.bias)

    def forward(self, images: Tensor) -> Tensor:
        xs = [self.stage1(self.stem(images))]
        for trans, stage in zip(self.transitions, self.stages, strict=True):
            xs = xs + [trans(xs[-1])]
            for block in stage:
                xs = block(xs)
        return self.head(xs[0])


def gaussian_heatmaps(cells: Tensor, height: int, width: int, sigma: float = 1.0,
                      visible: Tensor | None = None) -> Tensor:
    """Ground-truth heatmaps: a unit-peak Gaussian at each landmark (paper 001 §4).

    The paper sets the landmark's cell to 1 and smooths with a 3×3 Gaussian (σ = 1); we place
    ``exp(−‖p − μ‖² / 2σ²)`` at the sub-cell position μ (same shape, no rounding error).

    Args:
        cells: ``(B, J, 2)`` landmark (x, y) in heatmap cells.
        height, width: heatmap size H, W in cells. sigma: σ in cells.
        visible: optional ``(B, J)`` mask; heatmaps of unobserved landmarks are all zero.

    Returns:
        ``(B, J, H, W)`` float targets in [0, 1].
    """
    ys = torch.arange(height, dtype=cells.dtype, device=cells.device)
    xs = torch.arange(width, dtype=cells.dtype, device=cells.device)
    dx = (xs[None, None, None, :] - cells[..., 0, None, None]) ** 2
    dy = (ys[None, None, :, None] - cells[..., 1, None, None]) ** 2
    h = torch.exp(-(dx + dy) / (2 * sigma ** 2))
    if visible is not None:
        h = h * visible.to(h.dtype)[..., None, None]
    return h


def heatmap_loss(pred: Tensor, target: Tensor, visible: Tensor | None = None) -> Tensor:
    """``L²ᴰ_joint`` of paper 001 Eq. 1: mean over samples and joints of the per-heatmap SSE.

    ``(1/N) Σ_i (1/J) Σ_j Σ_{h,w} (â − a)²``; joints with ``visible == 0`` are left out of
    the mean over j.

    Args:
        pred, target: ``(B, J, H, W)``; visible: optional ``(B, J)`` mask.
    """
    sse = ((pred - target) ** 2).sum(dim=(2, 3))  # (B, J)
    if visible is None:
        return sse.mean()
    m = visible.to(sse.dtype)
    return ((sse * m).sum(1) / m.sum(1).clamp_min(1.0)).mean()
