"""Lifting autoencoder and its losses (paper 001 Eq. 6–9)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from poselab.core import get_skeleton
from poselab.distill.lifter import (
    HeatmapLifter,
    LiftingAutoencoder,
    bone_lengths,
    bone_symmetry_loss,
    decoder_loss,
    encoder_loss,
)

torch.set_num_threads(1)
H36M = get_skeleton("h36m17")
BONES = torch.as_tensor(H36M.bones_array)
PAIRS = torch.as_tensor(H36M.symmetric_bone_pairs)


def _symmetric_pose() -> torch.Tensor:
    """An h36m17 pose that is its own mirror image (x → −x with left/right swapped)."""
    rng = np.random.default_rng(1)
    X = np.zeros((17, 3))
    centre = [0, 7, 8, 9, 10]
    X[centre] = np.c_[np.zeros(5), -np.arange(5) * 100.0, rng.normal(0, 30, 5)]
    for left, right in H36M.left_right:
        p = rng.normal(0, 200, 3)
        X[right], X[left] = p, p * np.array([-1, 1, 1])
    return torch.tensor(X[None], dtype=torch.float64)


def test_bone_symmetry_loss_zero_for_symmetric_skeleton_positive_otherwise() -> None:
    assert len(PAIRS) == 6  # hip, thigh, shin, shoulder, upper arm, forearm
    X = _symmetric_pose()
    assert bone_symmetry_loss(X, BONES, PAIRS).item() == pytest.approx(0.0, abs=1e-18)
    Y = X.clone()
    Y[0, 3] += torch.tensor([0.0, 50.0, 0.0])  # lengthen the right shin only
    b = bone_lengths(Y, BONES)
    e_rshin = [i for i, bn in enumerate(H36M.bones) if bn == (2, 3)][0]
    e_lshin = [i for i, bn in enumerate(H36M.bones) if bn == (5, 6)][0]
    expected = (b[0, e_rshin] - b[0, e_lshin]) ** 2 / len(PAIRS)
    assert bone_symmetry_loss(Y, BONES, PAIRS).item() == pytest.approx(expected.item())
    assert expected > 0
    # a rigid motion keeps it at zero
    R = torch.tensor([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]], dtype=torch.float64)
    assert bone_symmetry_loss(X @ R.T + 5, BONES, PAIRS).item() == pytest.approx(0, abs=1e-12)
    # no pairs (a skeleton without left/right) → exactly zero, still differentiable
    Z = Y.clone().requires_grad_()
    loss = bone_symmetry_loss(Z, BONES, torch.zeros(0, 2, dtype=torch.long))
    loss.backward()
    assert loss.item() == 0 and Z.grad is not None


def test_encoder_loss_uses_relative_depth_and_masks() -> None:
    torch.manual_seed(0)
    t = torch.randn(3, 17, 3)
    shifted = t.clone()
    shifted[..., 2] += 7.0  # depth has no origin
    assert encoder_loss(shifted, t).item() == pytest.approx(0.0, abs=1e-10)
    p = t.clone()
    p[:, 4, 0] += 0.5
    assert encoder_loss(p, t).item() == pytest.approx(0.25)  # batch mean of the per-sample SSE
    mask = torch.ones(3, 17, dtype=torch.bool)
    mask[:, 4] = False
    assert encoder_loss(p, t, xy_mask=mask).item() == pytest.approx(0.0, abs=1e-10)
    assert decoder_loss(p[..., :2], t[..., :2]).item() == pytest.approx(0.25)


def test_autoencoder_shapes_skip_and_mask_input() -> None:
    torch.manual_seed(0)
    net = LiftingAutoencoder(17, hidden=64, decoder=True, skip=True, use_mask=True).eval()
    y2d = torch.randn(4, 17, 2)
    y3d, reproj = net(y2d, torch.ones(4, 17))
    assert y3d.shape == (4, 17, 3) and reproj.shape == (4, 17, 2)
    # freshly built: zero-initialised output layers → y3d = (input x, y, 0) and reproj = input
    assert torch.allclose(y3d[..., :2], y2d) and torch.allclose(reproj, y2d)
    no_dec = LiftingAutoencoder(17, hidden=64, decoder=False).eval()
    assert no_dec(y2d)[1] is None


def test_heatmap_lifter_end_to_end_gradients_reach_the_heatmap_net() -> None:
    torch.manual_seed(0)
    net = HeatmapLifter(17, input_size=64, width=8, num_branches=2, out_stride=2, beta=10.0,
                        hidden=64)
    out = net(torch.randn(2, 3, 64, 64))
    assert out["heatmaps"].shape == (2, 17, 32, 32)
    assert out["y2d"].shape == (2, 17, 2) and out["y3d"].shape == (2, 17, 3)
    assert out["y2d"].abs().max() <= 0.6 + 1e-6  # inside the crop (margin 1.2)
    loss = encoder_loss(out["y3d"], torch.zeros(2, 17, 3)) + decoder_loss(
        out["reproj"], torch.zeros(2, 17, 2))
    loss.backward()
    g = net.heatmap_net.head.weight.grad
    assert g is not None and g.abs().sum() > 0
