"""HRNet-style heatmap network, Gaussian targets and the heatmap MSE (paper 001 Eq. 1)."""

from __future__ import annotations

import pytest
import torch

from poselab.distill.heatmap import HRNetLite, gaussian_heatmaps, heatmap_loss
from poselab.distill.softargmax import soft_argmax_2d

torch.set_num_threads(1)


@pytest.mark.parametrize("stride,branches", [(2, 3), (4, 2), (4, 4)])
def test_hrnet_output_shape(stride: int, branches: int) -> None:
    torch.manual_seed(0)
    net = HRNetLite(num_joints=5, width=8, num_branches=branches, out_stride=stride).eval()
    out = net(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 5, 64 // stride, 64 // stride)


def test_gaussian_target_peaks_at_the_landmark_and_decodes_back() -> None:
    cells = torch.tensor([[[3.0, 7.0], [6.25, 8.5]]])
    hm = gaussian_heatmaps(cells, 16, 12, sigma=1.0)
    assert hm.shape == (1, 2, 16, 12)
    assert hm[0, 0, 7, 3] == pytest.approx(1.0)
    assert hm[0, 0].max() == pytest.approx(1.0)
    assert hm[0, 0, 7, 4] == pytest.approx(torch.exp(torch.tensor(-0.5)).item())
    # a low-temperature soft-argmax of a clean Gaussian recovers sub-cell positions closely
    est = soft_argmax_2d(torch.log(hm.clamp_min(1e-30)), beta=1.0)
    assert torch.allclose(est, cells, atol=1e-3)


def test_heatmap_loss_is_eq1_and_masks_unobserved_joints() -> None:
    target = gaussian_heatmaps(torch.tensor([[[2.0, 2.0], [5.0, 5.0]]]), 8, 8)
    assert heatmap_loss(target, target) == 0
    pred = target.clone()
    pred[0, 1] += 0.5  # 64 cells × 0.25 on joint 1 only
    assert heatmap_loss(pred, target).item() == pytest.approx(64 * 0.25 / 2)
    vis = torch.tensor([[1.0, 0.0]])
    assert heatmap_loss(pred, target, vis).item() == pytest.approx(0.0)
    # unobserved joints get all-zero targets
    hidden = gaussian_heatmaps(torch.tensor([[[2.0, 2.0]]]), 8, 8, visible=torch.zeros(1, 1))
    assert hidden.sum() == 0


def test_hrnet_learns_to_place_a_peak() -> None:
    """A few Adam steps on one bright square: the heatmap MSE falls by half or more."""
    torch.manual_seed(0)
    img = torch.zeros(4, 3, 32, 32)
    pos = torch.tensor([[4, 6], [20, 10], [12, 24], [26, 26]])
    for b, (x, y) in enumerate(pos):
        img[b, :, y - 2:y + 2, x - 2:x + 2] = 3.0
    cells = ((pos.float() + 0.0) / 2 - 0.5)[:, None, :]
    target = gaussian_heatmaps(cells, 16, 16)
    net = HRNetLite(1, width=8, num_branches=2, out_stride=2)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    first = None
    for _ in range(40):
        loss = heatmap_loss(net(img), target)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first
