"""Integral regression network (Sun et al., ECCV 2018), the student of paper 000 §4.4.

ResNet backbone → ``deconv_layers`` × (4×4 transposed conv, stride 2, BN, ReLU) → 1×1 conv to
``J · D`` channels = one ``D × H × W`` heatmap volume per joint → softmax over the whole volume
→ expected (x, y, z) ("soft-argmax", Sun et al. Eq. 3). Coordinates come out in normalised units
(DESIGN.md §3) of the crop's camera frame: the heatmap grid spans the crop, whose side is
``CROP_MARGIN`` box sides, so ``x_n = (x_frac − ½) · CROP_MARGIN`` for a fraction ``x_frac``
of the crop width; depth spans the same range around the crop's centre depth.

Backbones: torchvision ``resnet18|34|50`` at the standard width (64; ImageNet weights
available through torchvision's weights API, loaded from the local torch hub cache only), or a
width-reduced ResNet built from torchvision's blocks (the ``cpu`` preset; random init).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import torch
from torch import Tensor, nn

from poselab.core.normalize import CROP_MARGIN

log = logging.getLogger(__name__)

_LAYERS = {"resnet18": ("basic", (2, 2, 2, 2)), "resnet34": ("basic", (3, 4, 6, 3)),
           "resnet50": ("bottleneck", (3, 4, 6, 3))}


def _imagenet_weights(name: str):
    """torchvision weights enum for ``name`` if its file is in the local hub cache, else None.

    Never downloads (no network at run time): the file must already be in
    ``$TORCH_HOME/hub/checkpoints``. Logs what happened either way.
    """
    from torchvision import models

    enum = {"resnet18": models.ResNet18_Weights, "resnet34": models.ResNet34_Weights,
            "resnet50": models.ResNet50_Weights}[name].IMAGENET1K_V1
    cache = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(enum.url)
    if cache.is_file():
        log.info("loading ImageNet weights for %s from %s", name, cache)
        return enum
    log.warning("ImageNet weights for %s are not in the torch hub cache (%s) and poselab never "
                "downloads at run time; falling back to random initialisation. Put the file "
                "there (e.g. on a machine with network: torchvision.models.%s(weights='DEFAULT'))"
                " to use them.", name, cache, name)
    return None


class _Backbone(nn.Module):
    """ResNet trunk without pooling/classifier; ``out_channels`` feature maps at stride 32."""

    def __init__(self, name: str, width: int = 64, pretrained: bool = False):
        super().__init__()
        from torchvision.models import resnet

        kind, layers = _LAYERS[name]
        if width == 64:
            weights = _imagenet_weights(name) if pretrained else None
            net = getattr(resnet, name)(weights=weights)
            self.pretrained = weights is not None
        else:
            block = resnet.BasicBlock if kind == "basic" else resnet.Bottleneck
            net = _narrow_resnet(block, layers, width)
            self.pretrained = False
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        self.layers = nn.Sequential(net.layer1, net.layer2, net.layer3, net.layer4)
        self.out_channels = _out_channels(net)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(self.stem(x))


def _out_channels(net: nn.Module) -> int:
    last = net.layer4[-1]
    return (last.conv3 if hasattr(last, "conv3") else last.conv2).out_channels


def _narrow_resnet(block, layers, width: int) -> nn.Module:
    """A torchvision ResNet whose stage widths are ``width · (1, 2, 4, 8)``."""
    from torchvision.models.resnet import ResNet

    class _Narrow(ResNet):
        def __init__(self):
            nn.Module.__init__(self)
            self._norm_layer = nn.BatchNorm2d
            self.inplanes = width
            self.dilation = 1
            self.groups = 1
            self.base_width = 64
            self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            self.layer1 = self._make_layer(block, width, layers[0])
            self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2)
            self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2)
            self.layer4 = self._make_layer(block, width * 8, layers[3], stride=2)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    return _Narrow()


def soft_argmax_3d(logits: Tensor, num_joints: int, depth: int, marginal: bool = False):
    """Expected (x, y, z) of each joint's softmax-normalised heatmap volume (Sun et al. Eq. 3).

    Args:
        logits: ``(B, J·D, H, W)`` raw heatmap channels (joint-major).
        num_joints: J. depth: D.
        marginal: also return the x–y marginal ``(B, J, H, W)`` of each volume.

    Returns:
        ``(B, J, 3)`` fractions in [0, 1] of the width, height and depth ranges (pixel-centre
        grid: bin i sits at ``(i + ½)/n``); with ``marginal`` a tuple ``(coords, marginal)``.
    """
    b, _, h, w = logits.shape
    p = torch.softmax(logits.reshape(b, num_joints, depth * h * w).float(), dim=-1)
    p = p.reshape(b, num_joints, depth, h, w)
    dev = logits.device

    def grid(n: int) -> Tensor:
        return (torch.arange(n, device=dev, dtype=p.dtype) + 0.5) / n

    x = (p.sum(dim=(2, 3)) * grid(w)).sum(-1)
    y = (p.sum(dim=(2, 4)) * grid(h)).sum(-1)
    z = (p.sum(dim=(3, 4)) * grid(depth)).sum(-1)
    coords = torch.stack([x, y, z], dim=-1)
    return (coords, p.sum(dim=2)) if marginal else coords


class IntegralRegressionNet(nn.Module):
    """Image crop → ``(B, J, 3)`` joints in normalised units, crop camera frame.

    Args:
        num_joints: J.
        backbone: ``"resnet18" | "resnet34" | "resnet50"``.
        width: first-stage channels (64 = torchvision's network).
        deconv_layers, deconv_channels: the head (Sun et al.: 3 × 256).
        depth: D, depth bins of the heatmap volume.
        pretrained: load ImageNet weights from the local hub cache (falls back to random, with
            a logged warning, when absent; :attr:`pretrained_loaded` says which).

    Input: ``(B, 3, S, S)`` float, RGB, ImageNet-normalised. Output: ``(B, J, 3)`` float32.
    """

    def __init__(self, num_joints: int, backbone: str = "resnet18", width: int = 64,
                 deconv_layers: int = 3, deconv_channels: int = 256, depth: int = 64,
                 pretrained: bool = False):
        super().__init__()
        self.num_joints = num_joints
        self.depth = depth
        self.backbone = _Backbone(backbone, width, pretrained)
        self.pretrained_loaded = self.backbone.pretrained
        layers: list[nn.Module] = []
        c = self.backbone.out_channels
        for _ in range(deconv_layers):
            layers += [nn.ConvTranspose2d(c, deconv_channels, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(deconv_channels), nn.ReLU(inplace=True)]
            c = deconv_channels
        self.head = nn.Sequential(*layers)
        self.final = nn.Conv2d(c, num_joints * depth, 1)
        for m in self.head.modules():
            if isinstance(m, nn.ConvTranspose2d):
                nn.init.normal_(m.weight, std=0.001)
        nn.init.normal_(self.final.weight, std=0.001)
        nn.init.zeros_(self.final.bias)

    def forward(self, images: Tensor, with_heatmaps: bool = False):
        """``(B, J, 3)`` joints; with ``with_heatmaps`` also the ``(B, J, H, W)`` x–y marginal
        of each joint's softmax volume (probabilities summing to 1 per joint), which
        :func:`poselab.distill.losses.heatmap_xy_loss` supervises densely."""
        logits = self.final(self.head(self.backbone(images)))
        if not with_heatmaps:
            return (soft_argmax_3d(logits, self.num_joints, self.depth) - 0.5) * CROP_MARGIN
        frac, marginal = soft_argmax_3d(logits, self.num_joints, self.depth, marginal=True)
        return (frac - 0.5) * CROP_MARGIN, marginal


def build_integral(num_joints: int, config) -> IntegralRegressionNet:
    """The integral network for a :class:`poselab.distill.config.TrainConfig`."""
    return IntegralRegressionNet(num_joints, config.backbone, config.backbone_width,
                                 config.deconv_layers, config.deconv_channels,
                                 config.heatmap_depth, config.pretrained)
