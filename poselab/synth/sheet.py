"""Contact sheets: a grid of rendered samples, for looking at the renderer's output."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from poselab.core.errors import DataError


def contact_sheet(images: Sequence[np.ndarray], columns: int = 4, gap: int = 2) -> np.ndarray:
    """Tile equally sized ``(H, W, 3)`` uint8 images into one ``(rows·(H+gap)−gap, …, 3)`` grid.

    Raises:
        DataError: no images, or images of different shapes.
    """
    if not images:
        raise DataError(None, "no images for a contact sheet")
    h, w = images[0].shape[:2]
    if any(im.shape != images[0].shape for im in images):
        raise DataError(None, "contact sheet images differ in size")
    rows = -(-len(images) // columns)
    sheet = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap, 3), 255, np.uint8)
    for k, im in enumerate(images):
        r, c = divmod(k, columns)
        sheet[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = im
    return sheet


def demo_contact_sheet(path: str | Path, n: int = 16, size: int = 128, seed: int = 0,
                       columns: int = 4) -> np.ndarray:
    """Render ``n`` demo poses (evenly spread over the demo set) and write a PNG sheet.

    Args:
        path: the PNG to write.
        n: number of samples. size: tile side, pixels. seed: appearance seed.

    Returns:
        The sheet ``(H, W, 3)`` uint8 RGB.
    """
    import cv2

    from poselab.core.atomic import atomic_write_bytes
    from poselab.synth.collection import sample_rng
    from poselab.synth.demo import load_demo_poses
    from poselab.synth.render import render_pose

    poses = load_demo_poses(n)
    tiles = [render_pose(poses.keypoints_3d[i], poses.intrinsics[i], poses.skeleton, size,
                         rng=sample_rng(seed, i)).image for i in range(len(poses))]
    sheet = contact_sheet(tiles, columns)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    if not ok:
        raise DataError(path, "cannot encode the contact sheet as PNG")
    atomic_write_bytes(path, buf.tobytes())
    return sheet
