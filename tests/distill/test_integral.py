"""Integral regression network (Sun et al. 2018): soft-argmax, shapes, offline weights."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from poselab.core.normalize import CROP_MARGIN
from poselab.distill.config import TrainConfig
from poselab.distill.integral import IntegralRegressionNet, build_integral, soft_argmax_3d

torch.set_num_threads(1)


def test_soft_argmax_of_a_sharp_peak_is_the_bin_centre():
    J, D, H, W = 3, 4, 5, 6
    logits = torch.full((1, J * D, H, W), -1e4)
    peaks = [(0, 0, 0), (3, 4, 5), (1, 2, 3)]  # (d, h, w) per joint
    for j, (d, h, w) in enumerate(peaks):
        logits[0, j * D + d, h, w] = 0.0
    out = soft_argmax_3d(logits, J, D)[0].numpy()
    for j, (d, h, w) in enumerate(peaks):
        np.testing.assert_allclose(out[j], [(w + 0.5) / W, (h + 0.5) / H, (d + 0.5) / D],
                                   atol=1e-6)


def test_uniform_heatmap_gives_the_crop_centre():
    logits = torch.zeros(2, 2 * 3, 4, 4)
    np.testing.assert_allclose(soft_argmax_3d(logits, 2, 3).numpy(), 0.5, atol=1e-6)


def test_cpu_preset_network_shapes_and_range():
    cfg = TrainConfig.from_preset("cpu")
    net = build_integral(17, cfg).eval()
    out = net(torch.randn(2, 3, cfg.input_size, cfg.input_size))
    assert out.shape == (2, 17, 3)
    assert (out.abs() <= CROP_MARGIN / 2 + 1e-6).all()
    out.sum().backward()


@pytest.mark.parametrize("backbone,width", [("resnet18", 64), ("resnet50", 8)])
def test_backbones_build(backbone, width):
    net = IntegralRegressionNet(5, backbone, width, deconv_layers=1, deconv_channels=16, depth=4)
    assert net(torch.randn(1, 3, 64, 64)).shape == (1, 5, 3)


def test_imagenet_weights_offline_fall_back(monkeypatch, tmp_path, caplog):
    """No weights in the hub cache and no network: a logged message, random init, no hang."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None, raising=False)
    caplog.set_level(logging.WARNING)
    net = IntegralRegressionNet(5, "resnet18", 64, 1, 16, 4, pretrained=True)
    assert net.pretrained_loaded is False
    assert "falling back to random initialisation" in caplog.text
    assert str(tmp_path) in caplog.text
