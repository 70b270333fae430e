"""NumPy ``.npz`` pose files: poselab's own layout, and the two layouts of ../shared/data.

- poselab (written by :func:`write_npz`, ``kind = "collection"``): ``keypoints_2d`` (N, J, 2)
  px, ``visibility`` (N, J) uint8, ``skeleton_json``; optional ``keypoints_3d`` (N, J, 3)
  camera frame, ``units``, ``intrinsics`` (N, 3, 3), ``image_paths`` (relative to the file's
  folder, "" for none), ``sample_ids``, ``image_sizes`` (N, 2), ``metadata_json`` and
  ``per_sample/<key>`` arrays.
- classic NRSfM sequences (Akhter et al. 2011): ``W`` (F, P, 2) centred orthographic 2D,
  ``S`` (F, P, 3) camera-frame 3D in mocap units, ``edges`` (E, 2) → generic skeleton, no images.
- mocap17: ``keypoints_2d`` (N, 17, 2) px, ``keypoints_3d_cam`` (N, 17, 3) mm camera frame,
  ``K`` (N, 3, 3), ``joint_names`` + ``parents`` → the built-in ``h36m17`` when the names match,
  per-sample ``subject``/``action``/``camera``/... in ``metadata["per_sample"]``, 1000×1000 images
  that do not exist (2D only). The 2D-only variant (``keypoints_2d``, ``joint_names``,
  ``parents``, optional ``K`` and ``visibility``, no 3D) opens the same way; NaN landmarks are
  unlabelled.

A 3D *result* file (``kind`` = ``"nrsfm"`` or ``"prediction"``) is not a collection: read it
with :func:`poselab.io.results.read_result`.
"""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

import numpy as np

from poselab.core.atomic import atomic_savez
from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.skeleton import Skeleton
from poselab.io.images import join_image, relative_name
from poselab.io.skeleton_match import skeleton_from_names

log = logging.getLogger(__name__)

_MOCAP_META = ("subject", "action", "subaction", "camera", "frame", "sequence", "in_image")


def _open(path: Path):
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic[:2] != b"PK":
            raise DataError(path, "not a NumPy .npz (zip) file" if magic else "empty file")
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except (EOFError, zipfile.BadZipFile) as err:
        raise DataError(path, f"damaged or truncated .npz ({err})") from None
    except (OSError, ValueError) as err:
        raise DataError(path, f"not a readable .npz file ({err})") from None


def read_npz(path: str | Path) -> PoseCollection:
    """Read a pose collection from an ``.npz`` file (poselab, classic NRSfM or mocap17 layout).

    Returns:
        PoseCollection; classic sequences: ``keypoints_2d`` = W (mocap units, centred),
        ``keypoints_3d`` = S (``units_3d = "units"``); mocap17: ``keypoints_3d`` in mm with
        ``intrinsics`` = K and ``image_sizes`` 1000×1000 (2D-only files: no 3D, K if given).

    Raises:
        DataError: a result file, an unknown layout, bad shapes or NaN in observed landmarks
            (names ``path``).
    """
    path = Path(path)
    with _open(path) as z:
        files = set(z.files)
        if "kind" in files and str(z["kind"]) != "collection":
            raise DataError(path, f"is a 3D result file (kind {str(z['kind'])!r}), not a pose "
                                  "collection; use 'poselab export' or poselab.io.read_result")
        if {"W", "S"} <= files:
            return _read_classic(z, path)
        if {"keypoints_2d", "skeleton_json"} <= files:
            return _read_poselab(z, path)
        if {"keypoints_2d", "keypoints_3d_cam", "K"} <= files or \
                {"keypoints_2d", "joint_names", "parents"} <= files:
            return _read_mocap(z, path)
        raise DataError(path, f"unknown .npz layout (keys {sorted(files)[:8]}); expected poselab "
                              "(keypoints_2d, skeleton_json), classic NRSfM (W, S) or mocap17")


def _read_classic(z, path: Path) -> PoseCollection:
    W, S = np.asarray(z["W"]), np.asarray(z["S"])
    if W.ndim != 3 or W.shape[-1] != 2 or S.shape != W.shape[:2] + (3,):
        raise DataError(path, f"W {W.shape} and S {S.shape} must be (F, P, 2) and (F, P, 3)")
    P = W.shape[1]
    edges = np.asarray(z["edges"]).reshape(-1, 2) if "edges" in z.files else np.zeros((0, 2))
    meta = {}
    if "meta" in z.files:
        try:
            meta = json.loads(str(z["meta"]))
        except json.JSONDecodeError:
            meta = {"meta": str(z["meta"])}
    try:
        skeleton = Skeleton.from_edges(edges, num_joints=P, name=f"{path.stem}{P}",
                                       joint_names=[f"marker_{i}" for i in range(P)])
    except DataError as err:
        raise DataError(path, err.problem) from None
    F = W.shape[0]
    return PoseCollection(
        skeleton=skeleton, keypoints_2d=W, visibility=np.full((F, P), 2, np.uint8),
        sample_ids=[f"{path.stem}/{f}" for f in range(F)], keypoints_3d=S, units_3d="units",
        source=path, metadata={"layout": "nrsfm_classic", "meta": meta, "frame_3d": "camera",
                               "per_sample": {"frame": np.arange(F, dtype=np.int32)}},
    )


def _read_mocap(z, path: Path) -> PoseCollection:
    kp = np.asarray(z["keypoints_2d"])
    names = [str(n) for n in z["joint_names"]] if "joint_names" in z.files else None
    J = kp.shape[1] if kp.ndim == 3 else 0
    try:
        if names is not None and "parents" in z.files:
            skeleton = skeleton_from_names(names)
            if skeleton.name == "generic":
                skeleton = Skeleton.from_parents(np.asarray(z["parents"]), names, "mocap")
        else:
            skeleton = Skeleton.from_edges([], num_joints=J, name="mocap")
    except DataError as err:
        raise DataError(path, err.problem) from None
    N = kp.shape[0]
    per = {k: np.asarray(z[k]) for k in _MOCAP_META if k in z.files}
    if {"sequence", "camera", "frame"} <= per.keys():
        ids = [f"{s}/cam{c}/{f}" for s, c, f in
               zip(per["sequence"], per["camera"], per["frame"], strict=True)]
        if len(set(ids)) != N:
            ids = None
    else:
        ids = None
    size = np.asarray(z["image_size"]) if "image_size" in z.files else np.array([1000, 1000])
    vis = np.asarray(z["visibility"]) if "visibility" in z.files else None  # None: finite = 2
    return PoseCollection(
        skeleton=skeleton, keypoints_2d=kp, visibility=vis, sample_ids=ids,
        keypoints_3d=z["keypoints_3d_cam"] if "keypoints_3d_cam" in z.files else None,
        intrinsics=z["K"] if "K" in z.files else None, units_3d="mm",
        image_sizes=size, source=path,
        metadata={"layout": "mocap17", "frame_3d": "camera", "per_sample": per},
    )


def _read_poselab(z, path: Path) -> PoseCollection:
    try:
        skeleton = Skeleton.from_dict(json.loads(str(z["skeleton_json"])), path)
    except json.JSONDecodeError:
        raise DataError(path, "skeleton_json is not valid JSON") from None
    files = set(z.files)
    image_paths = None
    if "image_paths" in files:
        image_paths = [join_image(path.parent, str(p)) if str(p) else None
                       for p in z["image_paths"]]
    metadata = {}
    if "metadata_json" in files:
        metadata = json.loads(str(z["metadata_json"]))
    per = {k.split("/", 1)[1]: np.asarray(z[k]) for k in files if k.startswith("per_sample/")}
    if per:
        metadata["per_sample"] = per
    return PoseCollection(
        skeleton=skeleton,
        keypoints_2d=z["keypoints_2d"],
        visibility=z["visibility"] if "visibility" in files else None,
        image_paths=image_paths,
        sample_ids=[str(s) for s in z["sample_ids"]] if "sample_ids" in files else None,
        keypoints_3d=z["keypoints_3d"] if "keypoints_3d" in files else None,
        intrinsics=z["intrinsics"] if "intrinsics" in files else None,
        units_3d=str(z["units"]) if "units" in files else "mm",
        image_sizes=z["image_sizes"] if "image_sizes" in files else None,
        source=path, metadata=metadata,
    )


def write_npz(collection: PoseCollection, path: str | Path) -> Path:
    """Write ``collection`` in poselab's ``.npz`` layout, atomically.

    Image paths are stored relative to the file's folder. Per-sample metadata arrays
    (``metadata["per_sample"]``) are stored as ``per_sample/<key>``; the rest of the metadata
    as JSON. Returns ``path`` as a Path.
    """
    path = Path(path)
    arrays: dict[str, np.ndarray] = {
        "kind": np.array("collection"),
        "keypoints_2d": collection.keypoints_2d.astype(np.float32),
        "visibility": collection.visibility.astype(np.uint8),
        "skeleton_json": np.array(json.dumps(collection.skeleton.to_dict())),
        "sample_ids": np.asarray(collection.sample_ids, dtype=str),
        "units": np.array(collection.units_3d),
    }
    if any(p is not None for p in collection.image_paths):
        arrays["image_paths"] = np.asarray(
            [relative_name(p, path.parent) or "" for p in collection.image_paths], dtype=str)
    if collection.keypoints_3d is not None:
        arrays["keypoints_3d"] = collection.keypoints_3d.astype(np.float32)
    if collection.intrinsics is not None:
        arrays["intrinsics"] = collection.intrinsics.astype(np.float32)
    if collection.image_sizes is not None:
        arrays["image_sizes"] = collection.image_sizes.astype(np.int32)
    meta = {k: v for k, v in collection.metadata.items() if k != "per_sample"}
    arrays["metadata_json"] = np.array(json.dumps(meta, default=str))
    for k, v in collection.metadata.get("per_sample", {}).items():
        v = np.asarray(v)
        if v.dtype == object:
            v = v.astype(str)
        arrays[f"per_sample/{k}"] = v
    atomic_savez(path, **arrays)
    return path
