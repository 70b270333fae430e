"""MATLAB ``joints.mat`` landmarks (Leeds Sports Pose and look-alikes).

Layouts of the variable ``joints`` (pixels, 1 image per slice along the last axis):

- ``3 × J × N`` — LSP (Johnson & Everingham 2010): rows x, y, flag; LSP's flag is *inverted*:
  1 means the joint is occluded (→ visibility 1), 0 visible (→ 2).
- ``J × 3 × N`` — LSP-extended: columns x, y, flag with 1 = visible (→ 2), 0 = occluded (→ 1).
- ``J × 2 × N`` — no flag, all visible (e.g. the Disguised Faces ``(14, 2, 2000)`` uint16).

Skeleton unless given: J = 14 with a flag → ``lsp14``; J = 14 without → ``face14``; else a
generic one. Images: ``images/{i+1}.jpg`` or ``images/im{i+1:04d}.jpg`` (first that exists).
Coordinates are taken as given (pixels, 0-indexed).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.skeleton import Skeleton
from poselab.core.skeletons import get_skeleton

log = logging.getLogger(__name__)

_PATTERNS = ("{i}.jpg", "im{i:04d}.jpg", "im{i:05d}.jpg", "{i}.png", "im{i:04d}.png",
             "{i:04d}.jpg", "{i:05d}.jpg")


def _load_joints(path: Path) -> np.ndarray:
    import scipy.io

    try:
        mat = scipy.io.loadmat(path)
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except (NotImplementedError, ValueError, OSError, EOFError,
            scipy.io.matlab.MatReadError) as err:
        problem = "damaged or truncated" if "truncated" in str(err) or isinstance(
            err, EOFError) else "not a readable MATLAB file"
        raise DataError(path, f"{problem} ({str(err).splitlines()[0] if str(err) else err!r})"
                        ) from None
    arrays = {k: v for k, v in mat.items() if not k.startswith("__") and isinstance(v, np.ndarray)}
    if "joints" in arrays:
        return arrays["joints"]
    if len(arrays) == 1:
        return next(iter(arrays.values()))
    raise DataError(path, f"no variable 'joints' (has {sorted(arrays)})")


def _images(path: Path, N: int) -> list[Path] | None:
    for folder in (path.parent / "images", path.parent):
        for pat in _PATTERNS:
            if (folder / pat.format(i=1)).is_file() and (folder / pat.format(i=N)).is_file():
                return [folder / pat.format(i=i + 1) for i in range(N)]
    return None


def read_lsp(path: str | Path, skeleton: str | Path | Skeleton | None = None,
             invert_visibility: bool | None = None) -> PoseCollection:
    """Read a ``joints.mat`` file.

    Args:
        path: the ``.mat`` file.
        skeleton: optional skeleton (name, JSON path or Skeleton) with J joints.
        invert_visibility: override the flag convention; None = by layout (``3×J×N``
            inverted as in LSP, ``J×3×N`` not).

    Returns:
        PoseCollection, ``keypoints_2d`` (N, J, 2) float32 pixels; ``image_paths`` when the
        numbered images exist beside the file, else None entries.

    Raises:
        DataError: no ``joints`` variable, a layout other than those above (names the shape),
            a skeleton with another J, or NaN in a landmark flagged as labelled.
    """
    path = Path(path)
    arr = np.asarray(_load_joints(path))
    shape = arr.shape
    if arr.ndim == 3 and shape[0] == 3 and shape[1] not in (2, 3):
        xy, flag, invert = arr[:2].transpose(2, 1, 0), arr[2].T, True      # (N, J, 2), (N, J)
    elif arr.ndim == 3 and shape[1] == 3:
        xy, flag, invert = arr[:, :2].transpose(2, 0, 1), arr[:, 2].T, False
    elif arr.ndim == 3 and shape[1] == 2:
        xy, flag, invert = arr.transpose(2, 0, 1), None, False
    else:
        raise DataError(path, f"unknown joints layout {shape}; expected 3×J×N, J×3×N or J×2×N")
    if invert_visibility is not None:
        invert = invert_visibility
    N, J = xy.shape[:2]
    xy = xy.astype(np.float64)
    if flag is None:
        vis = np.where(np.isfinite(xy).all(-1), 2, 0).astype(np.uint8)
    else:
        visible = (flag > 0.5) != invert
        vis = np.where(visible, 2, 1).astype(np.uint8)
    if skeleton is not None:
        sk = get_skeleton(skeleton)
    elif J == 14:
        sk = get_skeleton("lsp14" if flag is not None else "face14")
    else:
        sk = Skeleton.from_edges([], num_joints=J, name=f"mat{J}")
    if sk.num_joints != J:
        raise DataError(path, f"{J} joints in the file but skeleton {sk.name!r} has "
                              f"{sk.num_joints}")
    images = _images(path, N)
    if images is None:
        log.info("%s: no numbered images beside it; 2D only", path)
    return PoseCollection(
        skeleton=sk, keypoints_2d=xy, visibility=vis, image_paths=images,
        sample_ids=[str(i + 1) for i in range(N)] if images is None else None, source=path,
        metadata={"layout": f"{'x'.join(map(str, shape))}",
                  "per_sample": {"instance": np.zeros(N, np.int32)}},
    )
