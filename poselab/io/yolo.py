"""Ultralytics YOLO pose datasets as users ship them: reading their label files.

Where a dataset's yaml, splits, images and label files are (every shipped layout, and which
paths open one) is :mod:`poselab.io.yolo_layout`. All splits are read by default (an image
listed by two splits counts once, in the first), and each sample keeps its split in
``metadata["per_sample"]["split"]``; ``split=`` reads one.

Labels: one text file per image (:func:`~poselab.io.yolo_layout.label_path`); one line per
instance: ``cls cx cy w h x1 y1 [v1] x2 y2 [v2] ...``, coordinates normalised to [0, 1] by the
image's size *after* EXIF orientation (as Ultralytics reads it). ``v`` follows COCO (0 not
labelled, 1 occluded, 2 visible); without ``v`` every landmark is visible unless it is (0, 0).
Images without a label file (or with an empty one) are background images and are skipped.
Coordinates outside [0, 1] are errors naming the file and line (Ultralytics rejects them too).
The yaml's ``kpt_shape``, ``kpt_names`` (or sleap-io's ``node_names``), ``flip_idx`` and
``skeleton`` give the skeleton.

Why not sleap-io's ``load_ultralytics``: it needs the yaml beside the split folders and a
``skeleton`` entry, and reads one split at a time; this reader handles every shipped layout.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.skeleton import Skeleton
from poselab.core.skeletons import get_skeleton
from poselab.io.images import probe_images
from poselab.io.skeleton_match import builtin_for, guess_left_right
from poselab.io.yolo_layout import YoloLayout, find_yolo, label_path, split_images

log = logging.getLogger(__name__)


def _skeleton(layout: YoloLayout, J: int, skeleton) -> Skeleton:
    if skeleton is not None:
        sk = get_skeleton(skeleton)
        if sk.num_joints != J:
            raise DataError(layout.yaml or layout.root,
                            f"kpt_shape has {J} joints, skeleton {sk.name!r} has {sk.num_joints}")
        return sk
    cfg = layout.config
    names = cfg.get("kpt_names", cfg.get("node_names"))  # node_names: sleap-io's export
    if isinstance(names, dict) and names:
        names = names.get(0, next(iter(names.values())))
    if not (isinstance(names, list) and len(names) == J and len(set(map(str, names))) == J):
        if names is not None:
            log.warning("%s: kpt_names does not list %d distinct names; ignored", layout.yaml, J)
        names = [f"kpt_{j}" for j in range(J)]
    names = [str(n) for n in names]
    sk = builtin_for(names)
    if sk is not None:
        return sk
    flip = cfg.get("flip_idx")
    if isinstance(flip, list) and len(flip) == J:
        try:
            pairs = tuple((j, int(f)) for j, f in enumerate(flip) if int(f) > j)
        except (TypeError, ValueError):
            raise DataError(layout.yaml, f"flip_idx must list {J} joint indices") from None
    else:
        pairs = guess_left_right(names)
    name = str(cfg.get("name") or (layout.yaml.stem if layout.yaml else "yolo"))
    edges = cfg.get("skeleton") or ()  # not Ultralytics; sleap-io writes its edges here
    try:
        bones = tuple((int(a), int(b)) for a, b in edges if 0 <= int(a) < J and 0 <= int(b) < J
                      and int(a) != int(b))
    except (TypeError, ValueError):
        log.warning("%s: 'skeleton' is not a list of joint index pairs; ignored", layout.yaml)
        bones = ()
    return Skeleton(name, tuple(names), bones, pairs)


def read_yolo(path: str | Path, skeleton: str | Path | Skeleton | None = None,
              split: str | None = None) -> PoseCollection:
    """Read an Ultralytics YOLO pose dataset (layouts: :mod:`poselab.io.yolo_layout`).

    Args:
        path: the dataset root, its yaml, a split folder or a ``labels/`` folder.
        skeleton: skeleton with J joints; optional when the yaml gives ``kpt_shape`` (then
            the built-in one whose names equal ``kpt_names``, else a generic one with those
            names, left/right pairs from ``flip_idx``).
        split: read only this split (``train``, ``val``, ``test``); default: the split the
            path selects, else all.

    Returns:
        PoseCollection: one sample per label line, ``keypoints_2d`` (N, J, 2) float32 pixels,
        ``image_sizes`` (N, 2) from the headers (EXIF-oriented); ``metadata["per_sample"]``
        has ``split``, ``instance``, ``class_id`` and ``image_problem`` (see
        :func:`poselab.io.folder.flag_images`); ``metadata["split"]`` the split read.

    Raises:
        DataError: not a YOLO layout, no ``kpt_shape`` and no skeleton
            (:class:`poselab.io.folder.SkeletonNeeded`), an unknown split, a
            line with the wrong number of values, a non-numeric value, a coordinate outside
            [0, 1] or a visibility outside {0, 1, 2} (naming the label file and line).
    """
    path = Path(path)
    layout = find_yolo(path)
    if layout is None:
        raise DataError(path, "not a YOLO pose dataset (needs a yaml with kpt_shape, or "
                              "images/ and labels/ folders)")
    split = split or layout.split
    splits = layout.splits
    if split is not None:
        names = [s for s, _ in splits]
        if split not in names:
            raise DataError(layout.source, f"no split {split!r}; the dataset has "
                                           f"{', '.join(n or '(none)' for n in names)}")
        splits = [(s, d) for s, d in splits if s == split]
    shape = layout.config.get("kpt_shape")
    if shape is not None:
        try:
            J, D = int(shape[0]), int(shape[1])
            assert D in (2, 3) and J > 0
        except (TypeError, ValueError, IndexError, AssertionError):
            raise DataError(layout.yaml, f"bad kpt_shape {shape!r}; expected [J, 2 or 3]") \
                from None
    elif skeleton is not None:
        J, D = get_skeleton(skeleton).num_joints, None
    else:
        raise _skeleton_needed(layout, splits)
    sk = _skeleton(layout, J, skeleton)

    seen: set[Path] = set()
    items: list[tuple[str, Path, Path]] = []
    for name, entries in splits:
        for entry in entries:
            for img in split_images(entry):
                key = Path(os.path.normpath(img))
                if key in seen:
                    continue
                seen.add(key)
                label = label_path(key)
                if label.is_file():
                    items.append((name, key, label))
    sizes, problems = probe_images([img for _, img, _ in items])
    rows, out_paths, out_sizes, inst, cls_ids, out_split, ids = [], [], [], [], [], [], []
    for (name, img, label), (w, h) in zip(items, sizes if sizes is not None else [],
                                          strict=True):
        try:
            text = label.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise DataError(label, "not UTF-8 text") from None
        lines = [(n, ln.split()) for n, ln in enumerate(text.splitlines(), 1) if ln.strip()]
        for k, (line_no, vals) in enumerate(lines):
            xy, v, cls = _parse_line(label, line_no, vals, J, D)
            if w and h:
                xy = xy * (w, h)
            else:  # no readable header: size unknown, landmarks unusable
                xy, v = np.zeros_like(xy), np.zeros_like(v)
            rows.append((xy, v))
            out_paths.append(img)
            out_sizes.append((w, h))
            inst.append(k)
            cls_ids.append(cls)
            out_split.append(name)
            ids.append(f"{_sample_name(layout.root, img)}#{k}")
    if not rows:
        raise DataError(layout.source, "no label files match the images "
                                       "(labels/<same path>.txt)")
    coll = PoseCollection(
        skeleton=sk, keypoints_2d=np.stack([r[0] for r in rows]),
        visibility=np.stack([r[1] for r in rows]).astype(np.uint8), image_paths=out_paths,
        sample_ids=ids, image_sizes=np.asarray(out_sizes), source=layout.source,
        metadata={"split": split, "per_sample": {
            "split": np.asarray(out_split, dtype=str),
            "instance": np.asarray(inst, np.int32),
            "class_id": np.asarray(cls_ids, np.int32)}},
    )
    from poselab.io.folder import flag_images

    flag_images(coll, problems)
    return coll


def _skeleton_needed(layout: YoloLayout, splits) -> DataError:
    """:class:`poselab.io.folder.SkeletonNeeded` for labels without ``kpt_shape``, saying how
    many values a label line has (J landmarks × 2 or 3, after class and box)."""
    from poselab.io.folder import SkeletonNeeded

    images = [img for _, entries in splits for e in entries for img in split_images(e)]
    labels = [label_path(img) for img in images]
    labels = [lb for lb in labels if lb.is_file()]
    hint = ""
    for lb in labels[:20]:
        line = next((ln.split() for ln in lb.read_text("utf-8", "replace").splitlines()
                     if ln.strip()), None)
        if line is not None:
            n = len(line) - 5
            counts = [f"{n // d} landmarks{' with visibility' if d == 3 else ''}"
                      for d in (3, 2) if n > 0 and n % d == 0]
            hint = f" (label lines have {n} keypoint values: {' or '.join(counts) or '?'})"
            break
    return SkeletonNeeded(layout.root, len(images),
                          f"YOLO labels of {len(labels)} images without a dataset yaml giving "
                          f"kpt_shape{hint}; pass a skeleton (built-in name or JSON file) to "
                          "name the landmarks", labelled=True)


def _sample_name(root: Path, img: Path) -> str:
    """The image path relative to the root without its ``images`` folder
    (``images/train/a.jpg`` and ``train/images/a.jpg`` both give ``train/a.jpg``)."""
    try:
        parts = list(img.relative_to(root).parts)
    except ValueError:
        parts = list(img.parts[-2:])
    if "images" in parts[:-1]:
        i = len(parts) - 2 - parts[:-1][::-1].index("images")
        del parts[i]
    return "/".join(parts)


def _parse_line(label: Path, line_no: int, vals: list[str], J: int, D: int | None):
    n = len(vals) - 5
    d = D if D is not None else (3 if n == 3 * J else 2)
    if n != d * J:
        raise DataError(label, f"line {line_no} has {n} keypoint values, expected {d * J} "
                               f"({J} landmarks × {d}); landmark counts differ")
    try:
        arr = np.asarray(vals, np.float64)
    except ValueError:
        raise DataError(label, f"line {line_no} has a non-numeric value") from None
    if not np.isfinite(arr).all():
        raise DataError(label, f"line {line_no} has a NaN or infinite value")
    kp = arr[5:].reshape(J, d)
    outside = (kp[:, :2] < 0) | (kp[:, :2] > 1)
    if outside.any():
        j = int(np.argwhere(outside)[0][0])
        raise DataError(label, f"line {line_no}: keypoint {j} = ({kp[j, 0]:g}, {kp[j, 1]:g}) "
                               "is outside [0, 1]; YOLO coordinates are normalised by the "
                               "image size")
    if d == 3:
        v = kp[:, 2].round()
        if ((v != 0) & (v != 1) & (v != 2)).any():
            raise DataError(label, f"line {line_no}: visibility outside {{0, 1, 2}}")
    else:
        v = np.where((kp[:, :2] == 0).all(-1), 0, 2)
    return kp[:, :2].copy(), v.astype(np.uint8), int(arr[0])


__all__ = ["read_yolo"]
