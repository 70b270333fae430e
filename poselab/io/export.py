"""3D export to CSV and JSON (DESIGN §8), atomic and streamed (memory independent of the
number of samples), with units and frame written in the file.

CSV (long, one row per sample × source × joint)::

    image,instance,joint,source,x,y,z,units,frame

``image`` is the image path relative to the exported file's folder (the sample id for samples
without an image), ``instance`` the annotation's index within its image. Optional 2D rows have
source ``landmarks_2d``, an empty ``z``, units ``px``, frame ``image`` and empty x, y where a
landmark is not labelled. Missing (NaN) 3D coordinates are empty cells.

JSON::

    {"format": "poselab-export", "poselab_version", "skeleton": {...},
     "sources": [...], "units": {source: unit}, "frame": {source: frame},
     "samples": [{"sample_id", "image", "instance", "image_size",
                  "landmarks_2d": [[x, y, visibility], ...],
                  "keypoints_3d": {source: [[x, y, z], ...]}}]}
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from poselab import __version__
from poselab.core.atomic import atomic_open
from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.io.images import relative_name

CSV_COLUMNS = ("image", "instance", "joint", "source", "x", "y", "z", "units", "frame")
SOURCE_2D = "landmarks_2d"


def _per_source(value: str | Mapping[str, str], sources: Sequence[str], what: str) -> dict:
    if isinstance(value, str):
        return {s: value for s in sources}
    missing = [s for s in sources if s not in value]
    if missing:
        raise DataError(None, f"no {what} given for source {missing[0]!r}")
    return {s: str(value[s]) for s in sources}


#: samples formatted and written at a time: memory is bounded by one chunk, not the data set
CHUNK = 2048


def _select(collection: PoseCollection, sources: Mapping[str, np.ndarray],
            samples) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Indices of the exported samples and the sources, checked but not copied."""
    N, J = len(collection), collection.num_joints
    if samples is None:
        idx = np.arange(N)
    else:
        samples = list(samples) if not isinstance(samples, np.ndarray) else samples
        if len(samples) and isinstance(samples[0], str):
            pos = {s: i for i, s in enumerate(collection.sample_ids)}
            unknown = [s for s in samples if s not in pos]
            if unknown:
                raise DataError(collection.source, f"unknown sample id {unknown[0]!r}")
            idx = np.asarray([pos[s] for s in samples], np.int64)
        else:
            idx = np.arange(N)[np.asarray(samples)]
    out = {}
    for name, arr in sources.items():
        arr = np.asarray(arr)
        if arr.shape != (N, J, 3):
            raise DataError(None, f"3D source {name!r} has shape {arr.shape}, expected "
                                  f"({N}, {J}, 3) (one pose per sample of the collection)")
        out[str(name)] = arr
    if not out:
        raise DataError(None, "nothing to export: no 3D source given")
    return idx, out


def _chunks(idx: np.ndarray) -> Iterator[np.ndarray]:
    for start in range(0, len(idx), CHUNK):
        yield idx[start:start + CHUNK]


def _image_names(collection: PoseCollection, idx: np.ndarray, folder: Path) -> list[str]:
    return [relative_name(collection.image_paths[i], folder) or collection.sample_ids[i]
            for i in idx]


def _instances(collection: PoseCollection, idx: np.ndarray) -> np.ndarray:
    inst = collection.metadata.get("per_sample", {}).get("instance")
    return np.zeros(len(idx), np.int64) if inst is None else np.asarray(inst, np.int64)[idx]


def _fmt(arr: np.ndarray) -> list[str]:
    """Numbers as text, flattened: 9 significant digits (exact for float32), NaN as ''."""
    return ["" if v != v else f"{v:.9g}" for v in np.asarray(arr, np.float64).ravel().tolist()]


def _quote(text: str) -> str:
    """One CSV field, quoted only when it needs to be (as the csv module does)."""
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def export_csv(path: str | Path, collection: PoseCollection, sources: Mapping[str, np.ndarray],
               units: str | Mapping[str, str], frame: str | Mapping[str, str],
               samples: Sequence[int] | Sequence[str] | np.ndarray | None = None,
               include_2d: bool = False) -> Path:
    """Write 3D poses as a long CSV (DESIGN §8), atomically and streamed.

    The rows are formatted and written :data:`CHUNK` samples at a time, so the memory used
    does not grow with the number of samples (scripts/bench_export.py).

    Args:
        path: output ``.csv``.
        collection: the samples the poses belong to (N samples, J joints).
        sources: source name (``"teacher"``, ``"student"``, ``"ground_truth"``) → ``(N, J, 3)``
            array in that source's ``units`` and ``frame`` (camera frame: x right, y down,
            z forward).
        units: one unit for all sources or one per source (``"px"``, ``"mm"``, ...).
        frame: one frame name for all sources or one per source (``"camera"``).
        samples: indices, a boolean mask or sample ids to export; all when None.
        include_2d: also write the 2D landmarks (source ``landmarks_2d``).

    Raises:
        DataError: a source with the wrong shape, no source, an unknown sample id.
    """
    path = Path(path)
    idx, arrays = _select(collection, sources, samples)
    names = list(arrays)
    units_d, frame_d = _per_source(units, names, "units"), _per_source(frame, names, "frame")
    joints = [_quote(j) for j in collection.skeleton.joint_names]

    def heads(chunk: np.ndarray) -> list[str]:  # (n*J,) "image,instance,joint"
        images = _image_names(collection, chunk, path.parent)
        inst = _instances(collection, chunk).tolist()
        prefixes = [f"{_quote(img)},{k}," for img, k in zip(images, inst, strict=True)]
        return [p + j for p in prefixes for j in joints]

    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(",".join(CSV_COLUMNS) + "\n")
        if include_2d:
            tail = f",{SOURCE_2D}," + "{},{},,px,image"
            for chunk in _chunks(idx):
                kp = collection.keypoints_2d[chunk].astype(np.float64)
                kp[collection.visibility[chunk] == 0] = np.nan
                xy = _fmt(kp)
                fh.write("".join(h + tail.format(xy[2 * r], xy[2 * r + 1]) + "\n"
                                 for r, h in enumerate(heads(chunk))))
        for name in names:
            tail = (f",{_quote(name)}," + "{},{},{},"
                    + f"{_quote(units_d[name])},{_quote(frame_d[name])}")
            for chunk in _chunks(idx):
                v = _fmt(arrays[name][chunk])
                fh.write("".join(h + tail.format(v[3 * r], v[3 * r + 1], v[3 * r + 2]) + "\n"
                                 for r, h in enumerate(heads(chunk))))
    return path


def _rows(arr: np.ndarray) -> list:
    """``(n, J, C)`` array → nested lists of floats rounded to 9 significant digits (exact
    for float32, shorter than float64 text), NaN → None."""
    n, J, C = arr.shape
    flat = [None if t == "" else float(t) for t in _fmt(arr)]
    return [[flat[(i * J + j) * C:(i * J + j + 1) * C] for j in range(J)] for i in range(n)]


def export_json(path: str | Path, collection: PoseCollection,
                sources: Mapping[str, np.ndarray], units: str | Mapping[str, str],
                frame: str | Mapping[str, str],
                samples: Sequence[int] | Sequence[str] | np.ndarray | None = None) -> Path:
    """Write 3D poses and the 2D landmarks as JSON (DESIGN §8), atomically and streamed.

    Arguments as :func:`export_csv`. Each sample holds ``landmarks_2d`` ``(J, 3)`` as
    ``[x px, y px, visibility]`` and ``keypoints_3d[source]`` ``(J, 3)``; NaN is ``null``.
    The samples are written :data:`CHUNK` at a time (memory independent of their number);
    the bytes are those of one ``json.dumps`` of the whole document.

    Raises:
        DataError: as :func:`export_csv`.
    """
    path = Path(path)
    idx, arrays = _select(collection, sources, samples)
    names = list(arrays)
    head = {
        "format": "poselab-export",
        "poselab_version": __version__,
        "skeleton": collection.skeleton.to_dict(),
        "sources": names,
        "units": _per_source(units, names, "units"),
        "frame": _per_source(frame, names, "frame"),
        "num_samples": len(idx),
    }
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(dumps(head)[:-1] + ',"samples":[')
        first = True
        for chunk in _chunks(idx):
            images = _image_names(collection, chunk, path.parent)
            inst = _instances(collection, chunk)
            kp = _rows(collection.keypoints_2d[chunk])
            vis = collection.visibility[chunk].tolist()
            rows3d = {s: _rows(arrays[s][chunk]) for s in names}
            parts = []
            for k, i in enumerate(chunk):
                size = None if collection.image_sizes is None else \
                    [int(v) for v in collection.image_sizes[i]]
                parts.append(dumps({
                    "sample_id": collection.sample_ids[i],
                    "image": images[k] if collection.image_paths[i] is not None else None,
                    "instance": int(inst[k]),
                    "image_size": size,
                    "landmarks_2d": [xy + [v] for xy, v in zip(kp[k], vis[k], strict=True)],
                    "keypoints_3d": {s: rows3d[s][k] for s in names},
                }))
            fh.write(("" if first else ",") + ",".join(parts))
            first = False
        fh.write("]}")
    return path


def read_export(path: str | Path) -> dict:
    """Read an exported CSV or JSON back (for checks and other tools).

    Returns:
        ``{"samples": [(image, instance), ...], "joints": [...], "sources": {name: (n, J, 3)
        float64}, "units": {name: unit}, "frame": {name: frame}}``; the 2D rows of a CSV come
        back as source ``landmarks_2d`` with z = NaN.

    Raises:
        DataError: not a poselab export.
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise DataError(path, f"cannot read export ({err})") from None
        if not isinstance(doc, dict) or doc.get("format") != "poselab-export":
            raise DataError(path, "not a poselab export JSON")
        conv = np.vectorize(lambda v: np.nan if v is None else v, otypes=[np.float64])
        src = {s: conv(np.asarray([smp["keypoints_3d"][s] for smp in doc["samples"]],
                                  dtype=object).reshape(len(doc["samples"]), -1, 3))
               for s in doc["sources"]}
        return {"samples": [(smp["image"] or smp["sample_id"], smp["instance"])
                            for smp in doc["samples"]],
                "joints": doc["skeleton"]["joint_names"], "sources": src,
                "units": doc["units"], "frame": doc["frame"]}
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows or tuple(rows[0]) != CSV_COLUMNS:
        raise DataError(path, f"not a poselab export CSV (header must be {','.join(CSV_COLUMNS)})")
    samples: dict = {}
    joints: dict = {}
    data: dict = {}
    units, frames = {}, {}
    for r in rows[1:]:
        key = (r[0], int(r[1]))
        samples.setdefault(key, len(samples))
        joints.setdefault(r[2], len(joints))
        data.setdefault(r[3], []).append((samples[key], joints[r[2]],
                                          *[float(v) if v else np.nan for v in r[4:7]]))
        units[r[3]], frames[r[3]] = r[7], r[8]
    src = {}
    for name, recs in data.items():
        arr = np.full((len(samples), len(joints), 3), np.nan)
        for i, j, x, y, z in recs:
            arr[i, j] = (x, y, z)
        src[name] = arr
    return {"samples": list(samples), "joints": list(joints), "sources": src, "units": units,
            "frame": frames}
