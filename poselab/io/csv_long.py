"""Long CSV landmarks: one row per landmark, ``image,joint,x,y[,visibility][,instance]``.

Pixels, x right, y down, 0-indexed; ``visibility`` in COCO flags {0, 1, 2} (default 2 for a row
with coordinates). An empty ``x``/``y`` cell, or a (image, joint) pair without a row, is not
labelled. Joints are ordered by first appearance (or by a given skeleton / a built-in skeleton
with the same names). Images are relative to the CSV's folder.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.skeleton import Skeleton
from poselab.core.skeletons import BUILTIN, get_skeleton
from poselab.io.images import join_image, resolve_image_root
from poselab.io.skeleton_match import skeleton_from_names

log = logging.getLogger(__name__)

REQUIRED = ("image", "joint", "x", "y")


def _float(text: str, path: Path, line: int) -> float:
    text = text.strip()
    if text == "":
        return np.nan
    try:
        return float(text)
    except ValueError:
        raise DataError(path, f"line {line}: {text!r} is not a number") from None


def read_csv_long(path: str | Path,
                  skeleton: str | Path | Skeleton | None = None) -> PoseCollection:
    """Read a long-format landmark CSV.

    Args:
        path: the CSV file; header row with at least ``image, joint, x, y`` (case-insensitive).
        skeleton: optional skeleton (built-in name, JSON path or Skeleton) fixing the joint
            order; its names must cover every joint in the file.

    Returns:
        PoseCollection with one sample per (image, instance), ``keypoints_2d`` (N, J, 2)
        float32 pixels.

    Raises:
        DataError: a missing column (named), a non-numeric coordinate, a visibility outside
            {0, 1, 2}, a joint the skeleton lacks, or NaN with visibility > 0 (names ``path``).
    """
    path = Path(path)
    try:
        fh = open(path, newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    with fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise DataError(path, "empty CSV file")
        cols = {h.strip().lower(): i for i, h in enumerate(header)}
        for name in REQUIRED:
            if name not in cols:
                raise DataError(path, f"CSV lacks the column {name!r} (has {header}); expected "
                                      "image,joint,x,y[,visibility]")
        rows = [r for r in reader if any(c.strip() for c in r)]
    ci, cj, cx, cy = (cols[n] for n in REQUIRED)
    cv, cn = cols.get("visibility"), cols.get("instance")
    width = max(cols.values()) + 1

    joints: dict[str, int] = {}
    samples: dict[tuple[str, str], int] = {}
    recs = []
    for line, r in enumerate(rows, start=2):
        if len(r) < width:
            r = r + [""] * (width - len(r))
        img, joint = r[ci].strip(), r[cj].strip()
        inst = r[cn].strip() if cn is not None else "0"
        x, y = _float(r[cx], path, line), _float(r[cy], path, line)
        if cv is not None and r[cv].strip() != "":
            v = _float(r[cv], path, line)
            if v not in (0, 1, 2):
                raise DataError(path, f"line {line}: visibility {r[cv]!r} is not 0, 1 or 2")
        else:
            v = 0 if (r[cx].strip() == "" or r[cy].strip() == "") else 2
        joints.setdefault(joint, len(joints))
        samples.setdefault((img, inst), len(samples))
        recs.append((samples[(img, inst)], joint, x, y, int(v), line))

    if skeleton is not None:
        sk = get_skeleton(skeleton)
        unknown = [j for j in joints if j not in sk.joint_names]
        if unknown:
            raise DataError(path, f"joint {unknown[0]!r} is not in skeleton {sk.name!r}")
    else:
        names = list(joints)
        sk = next((b for b in BUILTIN.values() if set(b.joint_names) == set(names)), None)
        sk = sk or skeleton_from_names(names, name=path.stem)
    index = {n: i for i, n in enumerate(sk.joint_names)}
    N, J = len(samples), sk.num_joints
    kp = np.zeros((N, J, 2), np.float64)
    vis = np.zeros((N, J), np.uint8)
    for n, joint, x, y, v, line in recs:
        if v > 0 and not (np.isfinite(x) and np.isfinite(y)):
            raise DataError(path, f"line {line}: landmark {joint!r} is NaN but has "
                                  f"visibility {v}")
        kp[n, index[joint]] = (x, y) if v > 0 else (0, 0)
        vis[n, index[joint]] = v
    keys = list(samples)
    names = [k[0] for k in keys]
    root = resolve_image_root([path.parent, path.parent / "images"], names)
    inst = np.zeros(N, np.int32)
    seen: dict[str, int] = {}
    for i, (img, _) in enumerate(keys):
        inst[i] = seen.get(img, 0)
        seen[img] = inst[i] + 1
    ids = [img if cn is None else f"{img}#{k}" for img, k in keys]
    return PoseCollection(
        skeleton=sk, keypoints_2d=kp, visibility=vis,
        image_paths=[join_image(root, n) for n in names], sample_ids=ids, source=path,
        metadata={"per_sample": {"instance": inst}},
    )
