"""Small synthetic pose collections and image files for the poselab.io tests.

A module with a unique name (not ``conftest``): ``from conftest import`` resolves to whichever
conftest pytest loaded last, which breaks when several test folders run together.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from poselab.core import PoseCollection, get_skeleton


def write_image(path: Path, width: int, height: int) -> Path:
    """A real (tiny-content) image file of the given size; format from the suffix."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.full((height, width, 3), 200, np.uint8)
    img[: height // 2, : width // 3] = (30, 60, 90)
    assert cv2.imwrite(str(path), img)
    return path


def random_collection(folder: Path, n_images: int = 4, skeleton: str = "coco17", seed: int = 0,
                      with_3d: bool = True) -> PoseCollection:
    """Images in ``folder/images`` and a collection over them: 2 people on the first image,
    some landmarks unlabelled (v=0) and occluded (v=1), per-sample metadata, 3D in mm."""
    rng = np.random.default_rng(seed)
    sk = get_skeleton(skeleton)
    J = sk.num_joints
    sizes = [(64 + 8 * i, 48 + 4 * i) for i in range(n_images)]
    paths = [write_image(folder / "images" / f"frame{i}.jpg", *sizes[i]) for i in range(n_images)]
    image_of = [0] + list(range(n_images))  # image 0 has two instances
    N = len(image_of)
    wh = np.asarray([sizes[i] for i in image_of], np.float64)
    kp = (rng.random((N, J, 2)) * wh[:, None, :]).astype(np.float32)
    vis = rng.choice(np.array([0, 1, 2], np.uint8), size=(N, J), p=[0.2, 0.2, 0.6])
    return PoseCollection(
        skeleton=sk, keypoints_2d=kp, visibility=vis,
        image_paths=[paths[i] for i in image_of],
        sample_ids=[f"s{k}" for k in range(N)],
        keypoints_3d=rng.normal(0, 300, (N, J, 3)).astype(np.float32) if with_3d else None,
        intrinsics=np.eye(3, dtype=np.float32) if with_3d else None,
        units_3d="mm", image_sizes=np.asarray([sizes[i] for i in image_of]),
        metadata={"per_sample": {"instance": np.array([0, 1] + [0] * (N - 2), np.int32),
                                 "subject": np.array([f"S{k % 2}" for k in range(N)])}},
    )
