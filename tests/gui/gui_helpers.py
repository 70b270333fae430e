"""Helpers shared by the GUI tests: a small annotated image folder, opening and waiting."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def make_folder(folder: Path, n: int = 6, skeleton: str = "lsp14", seed: int = 0,
                annotate: bool = True) -> Path:
    """``n`` small PNG images (160×120) and, with ``annotate``, a COCO file of random
    landmarks inside them. Returns the folder."""
    import cv2

    from poselab.core import PoseCollection, get_skeleton
    from poselab.io import write_coco

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    sk = get_skeleton(skeleton)
    paths = []
    for i in range(n):
        img = np.full((120, 160, 3), 40 + 30 * i, np.uint8)
        cv2.rectangle(img, (20, 10), (140, 110), (200, 180, 160), 2)
        p = folder / f"img{i:02d}.png"
        cv2.imwrite(str(p), img)
        paths.append(p)
    if annotate:
        kp = rng.uniform([20, 10], [140, 110], size=(n, sk.num_joints, 2)).astype(np.float32)
        vis = np.full((n, sk.num_joints), 2, np.uint8)
        vis[0, 3] = 0  # sample 0 has one unlabelled landmark
        c = PoseCollection(sk, kp, vis, image_paths=paths, image_sizes=(160, 120),
                           source=folder / "annotations.json")
        write_coco(c, folder / "annotations.json")
    return folder


def open_and_wait(qtbot, window, path: Path) -> None:
    """Open ``path`` in ``window`` and wait until it is the current document."""
    with qtbot.waitSignal(window.loader.stopped, timeout=30000):
        window.open_path(path)
