"""Render a subset of a mocap pose file once and reuse it: the benchmarks' image collections.

The folder name holds the subset's size, the image size and a hash of the sample indices, so a
different subset never reuses another's images, and a finished render (its COCO file written
last, atomically, by :func:`poselab.synth.collection.render_collection`) is read back instead
of rendered again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Generator
from pathlib import Path

import numpy as np

from poselab.core import get_skeleton
from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.progress import CancelToken, Progress

log = logging.getLogger(__name__)


def subset_dir(root: str | Path, name: str, index: np.ndarray, size: int) -> Path:
    """``root/{name}_{len(index)}_{size}_{md5(index)[:8]}``: the folder of one rendered subset."""
    index = np.asarray(index, np.int64)
    digest = hashlib.md5(index.tobytes()).hexdigest()[:8]
    return Path(root) / f"{name}_{len(index)}_{size}_{digest}"


def render_subset(poses: str | Path, index: np.ndarray, root: str | Path, name: str,
                  size: int = 128, workers: int = 1, seed: int = 0,
                  cancel: CancelToken | None = None
                  ) -> Generator[Progress, None, PoseCollection]:
    """Render samples ``index`` of a mocap17 pose file into ``root`` (or reuse that render).

    Args:
        poses: ``.npz`` with ``keypoints_3d_cam`` ``(N, 17, 3)`` mm, camera frame (h36m17
            joints) and ``K`` ``(3, 3)`` or ``(N, 3, 3)`` pixels (the mocap17 layout of
            ../shared/data/mocap17).
        index: ``(M,)`` int sample indices.
        root: cache folder; the subset goes to :func:`subset_dir`.
        name: a label in the folder name (``"train"``, ``"s8"``).
        size, workers, seed: as :func:`poselab.synth.collection.render_collection`.
        cancel: checked at every yield.

    Yields:
        :class:`Progress` of the render (nothing when it is reused).

    Returns:
        the rendered :class:`PoseCollection` (read back with :func:`poselab.io.open_folder`).

    Raises:
        DataError: ``poses`` lacks ``keypoints_3d_cam`` or ``K``.
    """
    from poselab.io import open_folder
    from poselab.synth.collection import render_collection

    out = subset_dir(root, name, index, size)
    if not (out / "annotations.json").is_file():
        with np.load(poses) as z:
            if not {"keypoints_3d_cam", "K"} <= set(z.files):
                raise DataError(poses, "needs keypoints_3d_cam and K (the mocap17 layout)")
            X, K = z["keypoints_3d_cam"][index], z["K"]
        K = K[index] if K.ndim == 3 else K
        t = time.perf_counter()
        yield from render_collection(X, K, get_skeleton("h36m17"), out, size=size, seed=seed,
                                     workers=workers, overwrite=True, cancel=cancel)
        log.info("rendered %d %s images in %.0f s -> %s", len(index), name,
                 time.perf_counter() - t, out)
    return open_folder(out, check_images=False)
