"""COCO keypoints JSON: read, write (atomic), and the optional ``<stem>.3d.npz`` 3D sidecar.

COCO (Lin et al. 2014, cocodataset.org/#format-data): ``images`` (id, file_name, width,
height), ``annotations`` (id, image_id, category_id, ``keypoints`` = [x1, y1, v1, ...] with v in
{0, 1, 2}, pixels, 0-indexed), ``categories`` (``keypoints`` names, ``skeleton`` 1-based
edges). One sample per annotation: an image with three people gives three samples.

poselab adds a few keys that other COCO tools ignore, so its own files round-trip exactly:
``poselab_sample_id`` (annotation), ``poselab_meta`` (per-sample metadata, annotation),
``poselab_no_file`` (image entry of a sample without an image), ``poselab_skeleton``
(category: the full skeleton with left/right pairs). The GUI's edit files ``*.poselab.json``
(DESIGN §8) are written by :func:`write_coco`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from poselab import __version__
from poselab.core.atomic import atomic_savez, atomic_write_text
from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.skeleton import Skeleton
from poselab.io.images import join_image, relative_name, resolve_image_root
from poselab.io.skeleton_match import skeleton_from_names

log = logging.getLogger(__name__)

EDITS_SUFFIX = ".poselab.json"
SIDECAR_SUFFIX = ".3d.npz"


def sidecar_path(json_path: str | Path) -> Path:
    """``<json stem>.3d.npz`` beside ``json_path`` (3D ground truth for a COCO file)."""
    json_path = Path(json_path)
    return json_path.with_name(json_path.stem + SIDECAR_SUFFIX)


def _load_json(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(path, f"cannot read JSON ({err})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(path, f"not valid JSON ({err.msg} at line {err.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list) \
            or not isinstance(data.get("images"), list):
        raise DataError(path, "not a COCO keypoints file (needs 'images' and 'annotations' lists)")
    return data


def _category_skeleton(cat: dict, path: Path) -> Skeleton:
    names = cat.get("keypoints")
    if not isinstance(names, list) or not names:
        raise DataError(path, f"COCO category {cat.get('id')!r} has no 'keypoints' names")
    if isinstance(cat.get("poselab_skeleton"), dict):
        sk = Skeleton.from_dict(cat["poselab_skeleton"], path)
        if list(sk.joint_names) == [str(n) for n in names]:
            return sk
    edges = []
    for e in cat.get("skeleton") or []:
        try:
            a, b = int(e[0]) - 1, int(e[1]) - 1
        except (TypeError, ValueError, IndexError):
            raise DataError(path, f"bad COCO skeleton edge {e!r}") from None
        edges.append((a, b))
    try:
        return skeleton_from_names([str(n) for n in names], edges,
                                   name=str(cat.get("name") or "generic"))
    except DataError as err:
        raise DataError(path, err.problem) from None


def read_coco(path: str | Path, image_root: str | Path | None = None) -> PoseCollection:
    """Read a COCO keypoints JSON file: one sample per (non-crowd) annotation.

    Args:
        path: the JSON file.
        image_root: folder that ``file_name`` is relative to; by default the first of the
            JSON's folder, its ``images/``, its parent, the parent's ``images/`` where the
            listed images exist.

    Returns:
        PoseCollection with ``keypoints_2d`` (N, J, 2) float32 pixels, ``visibility`` (N, J)
        COCO flags, ``sample_ids`` = str(annotation id) (or ``poselab_sample_id``),
        ``metadata["per_sample"]["instance"]`` = index of the annotation within its image,
        ``image_sizes`` from ``width``/``height`` when every image has them, and 3D from the
        ``<stem>.3d.npz`` sidecar when present.

    Raises:
        DataError: not COCO, no keypoint category, several keypoint categories, annotations
            with a different number of landmarks, unknown image ids, NaN in observed
            landmarks, or a bad sidecar — each naming ``path``.
    """
    path = Path(path)
    data = _load_json(path)
    cats = {c.get("id"): c for c in data.get("categories") or [] if isinstance(c, dict)}
    anns = [a for a in data["annotations"] if isinstance(a, dict) and not a.get("iscrowd")]
    used = {a.get("category_id") for a in anns if "keypoints" in a}
    kp_cats = [cid for cid in used if cid in cats and cats[cid].get("keypoints")]
    if not kp_cats:
        if not anns:
            raise DataError(path, "COCO file has no annotations")
        raise DataError(path, "not a COCO keypoints file (no category with 'keypoints' names)")
    if len(kp_cats) > 1:
        raise DataError(path, f"annotations use {len(kp_cats)} keypoint categories "
                              f"{sorted(kp_cats)}; poselab handles one skeleton per file")
    skeleton = _category_skeleton(cats[kp_cats[0]], path)
    J = skeleton.num_joints
    images = {im.get("id"): im for im in data["images"] if isinstance(im, dict)}

    anns = [a for a in anns if a.get("category_id") == kp_cats[0] and "keypoints" in a]
    N = len(anns)
    kp = np.zeros((N, J, 2), np.float64)
    vis = np.zeros((N, J), np.int64)
    ids, names, no_file, instance = [], [], [], np.zeros(N, np.int32)
    sizes = np.zeros((N, 2), np.int32)
    have_size = True
    per_image: dict = {}
    meta_rows: list[dict] = []
    for i, a in enumerate(anns):
        flat = a["keypoints"]
        if not isinstance(flat, list) or len(flat) != 3 * J:
            n = len(flat) // 3 if isinstance(flat, list) else "no"
            raise DataError(path, f"annotation {a.get('id')!r} has {n} landmarks, expected "
                                  f"{J} (landmark counts differ across samples)")
        try:
            arr = np.asarray(flat, dtype=np.float64).reshape(J, 3)
        except (TypeError, ValueError):
            raise DataError(path, f"annotation {a.get('id')!r} has non-numeric keypoints") from None
        kp[i] = arr[:, :2]
        v = np.nan_to_num(arr[:, 2], nan=-1)
        if ((v != 0) & (v != 1) & (v != 2)).any():
            raise DataError(path, f"annotation {a.get('id')!r} has visibility flags outside "
                                  "{0, 1, 2}")
        vis[i] = v
        im = images.get(a.get("image_id"))
        if im is None:
            raise DataError(path, f"annotation {a.get('id')!r} refers to image id "
                                  f"{a.get('image_id')!r}, which is not listed")
        names.append(str(im.get("file_name", "")))
        no_file.append(bool(im.get("poselab_no_file")))
        if im.get("width") and im.get("height"):
            sizes[i] = (int(im["width"]), int(im["height"]))
        else:
            have_size = False
        instance[i] = per_image.get(a["image_id"], 0)
        per_image[a["image_id"]] = instance[i] + 1
        ids.append(str(a.get("poselab_sample_id", a.get("id", i))))
        meta_rows.append(a.get("poselab_meta") or {})

    root = Path(image_root) if image_root is not None else resolve_image_root(
        [path.parent, path.parent / "images", path.parent.parent, path.parent.parent / "images"],
        [n for n, nf in zip(names, no_file, strict=True) if not nf])
    image_paths = [None if nf else join_image(root, n)
                   for n, nf in zip(names, no_file, strict=True)]
    per_sample: dict[str, np.ndarray] = {"instance": instance}
    keys = {k for row in meta_rows for k in row}
    for k in sorted(keys - {"instance"}):
        per_sample[k] = np.asarray([row.get(k) for row in meta_rows])
    info = data.get("info") if isinstance(data.get("info"), dict) else {}
    metadata = dict(info.get("poselab_metadata") or {})
    metadata["per_sample"] = per_sample
    collection = PoseCollection(
        skeleton=skeleton, keypoints_2d=kp, visibility=vis, image_paths=image_paths,
        sample_ids=ids, image_sizes=sizes if (have_size and N) else None, source=path,
        metadata=metadata,
    )
    return _attach_sidecar(collection, path)


def _attach_sidecar(collection: PoseCollection, path: Path) -> PoseCollection:
    candidates = [sidecar_path(path)]
    if path.name.endswith(EDITS_SUFFIX):  # edits of foo.json keep foo.3d.npz's 3D
        base = path.name[: -len(EDITS_SUFFIX)]
        candidates += [path.with_name(base + SIDECAR_SUFFIX)]
    side = next((c for c in candidates if c.is_file()), None)
    if side is None:
        return collection
    try:
        with np.load(side, allow_pickle=False) as z:
            sids = [str(s) for s in z["sample_ids"]]
            k3 = np.asarray(z["keypoints_3d"], np.float32)
            K = np.asarray(z["intrinsics"], np.float32) if "intrinsics" in z.files else None
            units = str(z["units"]) if "units" in z.files else "mm"
    except (OSError, ValueError, KeyError) as err:
        raise DataError(side, f"cannot read 3D sidecar ({err})") from None
    index = {s: i for i, s in enumerate(sids)}
    missing = [s for s in collection.sample_ids if s not in index]
    if missing:
        raise DataError(side, f"3D sidecar lacks {len(missing)} of the {len(collection)} sample "
                              f"ids of {path.name} (first: {missing[0]!r})")
    order = np.asarray([index[s] for s in collection.sample_ids], np.int64)
    if k3.ndim != 3 or k3.shape[1:] != (collection.num_joints, 3) or len(k3) != len(sids):
        raise DataError(side, f"keypoints_3d has shape {k3.shape}, expected "
                              f"({len(sids)}, {collection.num_joints}, 3)")
    collection.keypoints_3d = k3[order]
    if K is not None:
        if K.shape == (3, 3):
            K = np.broadcast_to(K, (len(sids), 3, 3))
        collection.intrinsics = np.ascontiguousarray(K[order])
    collection.units_3d = units
    return collection


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def coco_dict(collection: PoseCollection, folder: Path) -> dict:
    """The COCO keypoints dict of ``collection`` with image paths relative to ``folder``."""
    sk = collection.skeleton
    images: list[dict] = []
    image_ids: dict = {}
    annotations = []
    per_sample = {k: np.asarray(v) for k, v in collection.metadata.get("per_sample", {}).items()
                  if k not in ("instance", "image_problem") and np.asarray(v).ndim == 1}
    sizes = collection.image_sizes
    for i, (sid, p) in enumerate(zip(collection.sample_ids, collection.image_paths, strict=True)):
        key = ("file", str(p)) if p is not None else ("none", sid)
        if key not in image_ids:
            image_ids[key] = len(images) + 1
            entry = {"id": image_ids[key],
                     "file_name": relative_name(p, folder) if p is not None else sid}
            if sizes is not None:
                entry["width"], entry["height"] = int(sizes[i, 0]), int(sizes[i, 1])
            if p is None:
                entry["poselab_no_file"] = True
            images.append(entry)
        flat = np.concatenate([collection.keypoints_2d[i].astype(np.float64),
                               collection.visibility[i, :, None]], axis=1)
        ann = {
            "id": int(sid) if sid.isdigit() and str(int(sid)) == sid else i + 1,
            "image_id": image_ids[key],
            "category_id": 1,
            "iscrowd": 0,
            "num_keypoints": int((collection.visibility[i] > 0).sum()),
            "keypoints": [float(x) if c < 2 else int(x) for row in flat
                          for c, x in enumerate(row)],
        }
        if str(ann["id"]) != sid:
            ann["poselab_sample_id"] = sid
        if per_sample:
            ann["poselab_meta"] = {k: _jsonable(v[i]) for k, v in per_sample.items()}
        annotations.append(ann)
    ann_ids = [a["id"] for a in annotations]
    if len(set(ann_ids)) != len(ann_ids):  # mixed numeric / text ids could collide
        for i, a in enumerate(annotations):
            a["id"] = i + 1
            a["poselab_sample_id"] = collection.sample_ids[i]
    meta = {k: v for k, v in collection.metadata.items()
            if k not in ("per_sample", "image_problems")}  # image checks are redone on open
    return {
        "info": {"description": "written by poselab", "poselab_version": __version__,
                 "poselab_metadata": json.loads(json.dumps(meta, default=str))},
        "images": images,
        "annotations": annotations,
        "categories": [{
            "id": 1, "name": sk.name, "supercategory": sk.name,
            "keypoints": list(sk.joint_names),
            "skeleton": [[a + 1, b + 1] for a, b in sk.bones],
            "poselab_skeleton": sk.to_dict(),
        }],
    }


def write_coco(collection: PoseCollection, path: str | Path, sidecar_3d: bool = True) -> Path:
    """Write ``collection`` as COCO keypoints JSON, atomically; image paths relative to its folder.

    Args:
        collection: the samples (keypoints_2d pixels, visibility COCO flags).
        path: the JSON file (e.g. ``annotations.poselab.json`` for GUI edits).
        sidecar_3d: when the collection has 3D, also write ``<stem>.3d.npz``
            (:func:`write_sidecar_3d`) so that :func:`read_coco` restores it.

    Returns:
        ``path`` as a Path.
    """
    path = Path(path)
    text = json.dumps(coco_dict(collection, path.parent), separators=(",", ":"))
    atomic_write_text(path, text)
    if sidecar_3d and collection.has_3d:
        write_sidecar_3d(collection, path)
    return path


def _sidecar_matches(path: Path, collection: PoseCollection) -> bool:
    if not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as z:
            same = ([str(s) for s in z["sample_ids"]] == list(collection.sample_ids)
                    and str(z["units"]) == collection.units_3d
                    and np.array_equal(z["keypoints_3d"], collection.keypoints_3d))
            if same and collection.intrinsics is not None:
                same = "intrinsics" in z.files and np.array_equal(z["intrinsics"],
                                                                  collection.intrinsics)
            return bool(same)
    except (OSError, ValueError, KeyError):
        return False


def write_sidecar_3d(collection: PoseCollection, json_path: str | Path) -> Path:
    """Write the collection's 3D to ``<json stem>.3d.npz`` atomically.

    An existing sidecar with the same content is left as it is. Keys: ``sample_ids`` (N,)
    str, ``keypoints_3d`` (N, J, 3) float32 camera frame in
    ``units``, ``intrinsics`` (N, 3, 3) float32 pixels (when known), ``units`` str.

    Raises:
        DataError: the collection has no 3D.
    """
    out = sidecar_path(json_path)
    if not collection.has_3d:
        raise DataError(collection.source, "no 3D to write")
    if _sidecar_matches(out, collection):  # GUI autosaves edit 2D only: skip the rewrite
        return out
    arrays = {"sample_ids": np.asarray(collection.sample_ids, dtype=str),
              "keypoints_3d": collection.keypoints_3d.astype(np.float32),
              "units": np.array(collection.units_3d)}
    if collection.intrinsics is not None:
        arrays["intrinsics"] = collection.intrinsics.astype(np.float32)
    atomic_savez(out, **arrays)
    return out
