"""YOLO pose labels (Ultralytics): ``images/**`` + ``labels/**/*.txt`` (+ ``data.yaml``).

One text file per image (same relative path, ``labels`` for ``images``, ``.txt``), one line per
instance: ``cls cx cy w h x1 y1 [v1] x2 y2 [v2] ...``, all coordinates normalised to [0, 1] by the
image width/height. ``v`` follows COCO (0 not labelled, 1 occluded, 2 visible); without ``v``
every landmark is visible unless it is (0, 0). ``kpt_shape: [J, 2|3]`` comes from ``data.yaml``,
or from a given skeleton. Pixel coordinates need each image's size, read from its header.
Images without a label file are background images and are skipped.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.skeleton import Skeleton
from poselab.core.skeletons import get_skeleton
from poselab.io.images import find_images, image_size
from poselab.io.skeleton_match import guess_left_right
from poselab.io.yaml_file import read_yaml

log = logging.getLogger(__name__)


def yolo_root(path: Path) -> Path | None:
    """The dataset folder of a YOLO layout given a folder, ``data.yaml`` or ``labels/``."""
    path = Path(path)
    if path.is_file():
        path = path.parent
    if path.name == "labels":
        path = path.parent
    return path if (path / "labels").is_dir() and (path / "images").is_dir() else None


def _data_yaml(root: Path) -> tuple[Path | None, dict]:
    for name in ("data.yaml", "data.yml", "dataset.yaml"):
        f = root / name
        if f.is_file():
            try:
                return f, read_yaml(f)
            except (OSError, ValueError) as err:
                raise DataError(f, f"cannot read YOLO data file ({err})") from None
    return None, {}


def read_yolo(path: str | Path, skeleton: str | Path | Skeleton | None = None) -> PoseCollection:
    """Read a YOLO pose dataset.

    Args:
        path: the dataset folder (holding ``images/`` and ``labels/``), its ``data.yaml`` or
            its ``labels/`` folder.
        skeleton: skeleton with J joints; optional when ``data.yaml`` gives ``kpt_shape``
            (then a generic one named ``kpt_0 …``, left/right from ``flip_idx``).

    Returns:
        PoseCollection: one sample per label line, ``keypoints_2d`` (N, J, 2) float32 pixels,
        ``image_sizes`` from the image headers; ``metadata["per_sample"]`` has ``instance`` and
        ``class_id``.

    Raises:
        DataError: no images/labels folders, no ``kpt_shape`` and no skeleton, a line with the
            wrong number of values (landmark counts differ), non-numeric values, or an image
            missing/truncated (names the file).
    """
    path = Path(path)
    root = yolo_root(path)
    if root is None:
        raise DataError(path, "not a YOLO pose dataset (needs images/ and labels/ folders)")
    yaml_path, cfg = _data_yaml(root)
    shape = cfg.get("kpt_shape")
    sk = get_skeleton(skeleton) if skeleton is not None else None
    if shape is not None:
        try:
            J, D = int(shape[0]), int(shape[1])
        except (TypeError, ValueError, IndexError):
            raise DataError(yaml_path, f"bad kpt_shape {shape!r}; expected [J, 2 or 3]") from None
        if sk is not None and sk.num_joints != J:
            raise DataError(yaml_path, f"kpt_shape has {J} joints, skeleton {sk.name!r} "
                                       f"has {sk.num_joints}")
    elif sk is not None:
        J, D = sk.num_joints, None
    else:
        raise DataError(root, "YOLO labels need a skeleton or a data.yaml with kpt_shape")
    if sk is None:
        names = [f"kpt_{j}" for j in range(J)]
        flip = cfg.get("flip_idx")
        pairs = tuple((j, int(f)) for j, f in enumerate(flip) if int(f) > j) \
            if isinstance(flip, list) and len(flip) == J else guess_left_right(names)
        sk = Skeleton(str(cfg.get("name") or "yolo"), tuple(names), (), pairs)

    rows, image_paths, sizes, inst, cls_ids = [], [], [], [], []
    for img in find_images(root / "images", max_depth=4):
        rel = img.relative_to(root / "images")
        label = (root / "labels" / rel).with_suffix(".txt")
        if not label.is_file():
            continue
        lines = [ln.split() for ln in label.read_text().splitlines() if ln.strip()]
        if not lines:
            continue
        w, h = image_size(img)
        for k, vals in enumerate(lines):
            n = len(vals) - 5
            d = D if D is not None else (3 if n == 3 * J else 2)
            if n != d * J:
                raise DataError(label, f"line {k + 1} has {n} keypoint values, expected "
                                       f"{d * J} ({J} landmarks × {d}); landmark counts differ")
            try:
                arr = np.asarray(vals, np.float64)
            except ValueError:
                raise DataError(label, f"line {k + 1} has a non-numeric value") from None
            kp = arr[5:].reshape(J, d)
            xy = kp[:, :2] * (w, h)
            if d == 3:
                v = kp[:, 2].round()
                if ((v != 0) & (v != 1) & (v != 2)).any():
                    raise DataError(label, f"line {k + 1}: visibility outside {{0, 1, 2}}")
            else:
                v = np.where((kp[:, :2] == 0).all(-1), 0, 2)
            rows.append((xy, v))
            image_paths.append(img)
            sizes.append((w, h))
            inst.append(k)
            cls_ids.append(int(arr[0]))
    if not rows:
        raise DataError(root, "no label files match the images (labels/<same path>.txt)")
    ids = [f"{p.relative_to(root / 'images').as_posix()}#{k}"
           for p, k in zip(image_paths, inst, strict=True)]
    return PoseCollection(
        skeleton=sk, keypoints_2d=np.stack([r[0] for r in rows]),
        visibility=np.stack([r[1] for r in rows]).astype(np.uint8), image_paths=image_paths,
        sample_ids=ids, image_sizes=np.asarray(sizes), source=yaml_path or root / "labels",
        metadata={"per_sample": {"instance": np.asarray(inst, np.int32),
                                 "class_id": np.asarray(cls_ids, np.int32)}},
    )
