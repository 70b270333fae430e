"""Random appearance of a rendered sample: clothing and skin colours, backgrounds, camera noise.

Colours are drawn per sample and per material (skin, top, bottom, shoes, hair), never per side
of the body or per depth: the renderer lets depth reach the image only through physics.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from poselab.synth.body import MATERIALS

#: Unit vector from a surface towards the light, camera frame (above, left, camera side).
LIGHT_DIR = np.array([-0.35, -0.6, -0.72]) / np.linalg.norm([-0.35, -0.6, -0.72])

_SKIN_DARK = np.array([70, 45, 32], float)
_SKIN_LIGHT = np.array([245, 208, 180], float)
_HAIR = np.array([[25, 20, 18], [70, 45, 25], [120, 80, 45], [200, 170, 110], [150, 150, 150]],
                 float)


def _hsv_colour(rng: np.random.Generator, s_range=(0.1, 0.9), v_range=(0.15, 0.95)) -> np.ndarray:
    hsv = np.array([[[rng.uniform(0, 180), rng.uniform(*s_range) * 255,
                      rng.uniform(*v_range) * 255]]], np.float32)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)[0, 0].astype(float)


@dataclass(frozen=True)
class Palette:
    """Albedo (RGB, 0–255) of each material plus the hair colour and the shading constants.

    Attributes:
        albedo: ``(len(MATERIALS), 3)`` float RGB; the head's entry is the face (skin).
        hair: ``(3,)`` float RGB of the back and top of the head.
        ambient: ambient light fraction (0–1).
    """

    albedo: np.ndarray
    hair: np.ndarray
    ambient: float

    @classmethod
    def random(cls, rng: np.random.Generator) -> Palette:
        skin = _SKIN_DARK + rng.uniform(0, 1) * (_SKIN_LIGHT - _SKIN_DARK)
        skin = np.clip(skin * rng.uniform(0.92, 1.08, 3), 0, 255)
        top = _hsv_colour(rng)
        bottom = _hsv_colour(rng, (0.05, 0.7), (0.1, 0.8))
        shoes = _hsv_colour(rng, (0.0, 0.5), (0.05, 0.6))
        albedo = np.zeros((len(MATERIALS), 3))
        albedo[MATERIALS.index("skin")] = skin
        albedo[MATERIALS.index("top")] = top
        albedo[MATERIALS.index("bottom")] = bottom
        albedo[MATERIALS.index("shoes")] = shoes
        albedo[MATERIALS.index("head")] = skin
        hair = _HAIR[rng.integers(len(_HAIR))] * rng.uniform(0.8, 1.2)
        return cls(albedo, np.clip(hair, 0, 255), float(rng.uniform(0.3, 0.5)))


def _value_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """``(size, size)`` float32 smooth noise in [0, 1] (random grid, bicubic upsampling)."""
    grid = rng.random((cells + 1, cells + 1)).astype(np.float32)
    out = cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(out, 0, 1)


def random_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A ``(size, size, 3)`` uint8 RGB background: gradient, smooth noise, stripes or a room.

    Random clutter (ellipses of random colours) and fine grain are added on top.
    """
    kind = int(rng.integers(4))
    c1, c2 = _hsv_colour(rng), _hsv_colour(rng)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / max(size - 1, 1)
    if kind == 0:  # linear gradient
        ang = rng.uniform(0, 2 * np.pi)
        w = (np.cos(ang) * (xx - 0.5) + np.sin(ang) * (yy - 0.5)) + 0.5
        w = np.clip(w, 0, 1)
    elif kind == 1:  # smooth noise texture
        w = _value_noise(rng, size, int(rng.integers(2, 9)))
    elif kind == 2:  # stripes or checks
        ang = rng.uniform(0, np.pi)
        period = rng.uniform(0.05, 0.3)
        u = np.cos(ang) * xx + np.sin(ang) * yy
        w = (np.sin(2 * np.pi * u / period) > 0).astype(np.float32)
        if rng.random() < 0.5:
            v = -np.sin(ang) * xx + np.cos(ang) * yy
            w = np.abs(w - (np.sin(2 * np.pi * v / period) > 0))
        w = 0.25 + 0.5 * w
    else:  # wall and floor
        horizon = rng.uniform(0.45, 0.85)
        w = np.where(yy > horizon, 1.0, 0.25 * yy / horizon).astype(np.float32)
        w += 0.15 * _value_noise(rng, size, 12) * (yy > horizon)
    img = c1[None, None] * (1 - w[..., None]) + c2[None, None] * w[..., None]
    for _ in range(int(rng.integers(0, 6))):
        colour = _hsv_colour(rng)
        centre = (int(rng.integers(size)), int(rng.integers(size)))
        axes = (int(rng.integers(size // 20 + 1, size // 4 + 2)),
                int(rng.integers(size // 20 + 1, size // 4 + 2)))
        cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour.tolist(), -1)
    grain = rng.normal(0, rng.uniform(2, 10), (size, size, 1))
    return np.clip(img + grain, 0, 255).astype(np.uint8)


def shade(normal: np.ndarray, index: np.ndarray, materials: np.ndarray, palette: Palette,
          forward: np.ndarray, up: np.ndarray, head_material: int) -> np.ndarray:
    """Lambertian + ambient shading of the visible surface.

    ``colour = albedo · (ambient + (1 − ambient) · max(0, n · l))`` with ``l`` =
    :data:`LIGHT_DIR` fixed relative to the camera (Lambert's cosine law).

    Args:
        normal: ``(H, W, 3)`` unit surface normals, camera frame.
        index: ``(H, W)`` part index, −1 for background.
        materials: ``(P,)`` material of each part.
        forward, up: the body's facing and head-up directions; the head is hair where its
            normal faces away from ``forward`` or along ``up``, else skin.

    Returns:
        ``(H, W, 3)`` float32 RGB (0–255); background pixels are 0.
    """
    mat = np.where(index >= 0, materials[np.maximum(index, 0)], -1)
    albedo = np.zeros(normal.shape, np.float32)
    fg = mat >= 0
    albedo[fg] = palette.albedo[mat[fg]]
    head = mat == head_material
    if head.any() and np.any(forward):
        n = normal[head]
        hair = (n @ forward < 0.1) | (n @ up > 0.55)
        hh = albedo[head]
        hh[hair] = palette.hair
        albedo[head] = hh
    lam = np.clip(normal @ LIGHT_DIR.astype(np.float32), 0, 1)
    light = palette.ambient + (1 - palette.ambient) * lam
    return albedo * light[..., None]


def camera_effects(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mild Gaussian blur (σ 0.4–1.0 px) and sensor noise (σ 1–5 levels) on a float RGB image.

    Returns:
        uint8 RGB image of the same size.
    """
    sigma = rng.uniform(0.4, 1.0)
    out = cv2.GaussianBlur(img.astype(np.float32), (0, 0), sigma)
    out += rng.normal(0, rng.uniform(1, 5), out.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)
