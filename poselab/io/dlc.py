"""DeepLabCut labels: ``CollectedData_<scorer>.csv`` and ``.h5`` (Mathis et al. 2018).

Header rows: ``scorer``, [``individuals`` — multi-animal projects], ``bodyparts``, ``coords``
(``x``, ``y``, and ``likelihood`` for machine labels). The first column(s) give the
image path (one column ``labeled-data/video/img.png``, or three index columns in DeepLabCut ≥ 2.2
``labeled-data, video, img.png``), relative to the project folder (two levels above the file) or
the file's folder. An empty or NaN cell is not labelled (visibility 0); labelled cells are
visible (2): DeepLabCut has no occlusion flag.

Multi-animal files give one sample per (image, individual) with at least one label, with the
body parts of the first individual; ``single`` (unique body parts) columns are skipped.
Skeleton: generic from the body part names; bones from a ``config.yaml`` ``skeleton`` entry
beside the file or in the project folder, when present.

Machine labels (a network's predictions: ``machinelabels-iter*.h5``, a video's analysis
``.h5``/``.csv``) carry a ``likelihood`` per body part. As DeepLabCut itself does when it plots
or filters them, a prediction below the project's ``pcutoff`` (``config.yaml``; DeepLabCut's
default :data:`DEFAULT_PCUTOFF` without one) is read as unlabelled: a low-likelihood prediction
is usually a body part the network did not find (occluded, out of view), placed wherever its
score map peaked, and the teacher handles an unlabelled landmark better than a gross error
(h36m17_train35k S1/S5/S6, output MPJPE: 2 % of the landmarks unlabelled 42.6 mm, 2 % moved
30–80 px 90.0 mm before :mod:`poselab.nrsfm.outliers`, fully labelled 40.1). The file is not
changed; the likelihoods are kept in ``metadata["per_sample"]["keypoint_scores"]`` and the
count set aside in ``metadata["below_pcutoff"]``.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.skeleton import Skeleton
from poselab.core.skeletons import get_skeleton
from poselab.io.images import join_image, resolve_image_root
from poselab.io.skeleton_match import skeleton_from_names
from poselab.io.yaml_file import read_yaml

log = logging.getLogger(__name__)

#: DeepLabCut's default ``pcutoff`` (the ``config.yaml`` of a new project): machine labels
#: with a lower likelihood are read as unlabelled.
DEFAULT_PCUTOFF = 0.6


def _csv_table(path: Path) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]], np.ndarray]:
    """(index tuples per row, column tuples (scorer, [individual,] bodypart, coord), values)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = [r for r in csv.reader(fh) if r]
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    labels = [r[0].strip().lower() for r in rows[:4]]
    if not labels or labels[0] != "scorer":
        raise DataError(path, "not a DeepLabCut file (first row must start with 'scorer')")
    if "coords" not in labels:
        raise DataError(path, "DeepLabCut header lacks the 'coords' row")
    n_head = labels.index("coords") + 1
    if "bodyparts" not in labels[:n_head]:
        raise DataError(path, "DeepLabCut header lacks the 'bodyparts' row")
    head = rows[:n_head]
    coords = head[-1]
    n_index = next((i for i, c in enumerate(coords) if c.strip() in ("x", "y", "likelihood")),
                   None)
    if n_index is None or n_index == 0:
        raise DataError(path, "DeepLabCut 'coords' row has no x/y columns")
    width = len(coords)
    columns = [tuple(h[c].strip() if c < len(h) else "" for h in head) for c in
               range(n_index, width)]
    index, values = [], []
    for line, r in enumerate(rows[n_head:], start=n_head + 1):
        r = r + [""] * (width - len(r))
        index.append(tuple(c.strip() for c in r[:n_index]))
        vals = []
        for c in r[n_index:width]:
            c = c.strip()
            try:
                vals.append(float(c) if c else np.nan)
            except ValueError:
                raise DataError(path, f"line {line}: {c!r} is not a number") from None
        values.append(vals)
    return index, columns, np.asarray(values, np.float64).reshape(len(index), len(columns))


def _h5_table(path: Path):
    """The DeepLabCut table of a ``.h5`` file, read with h5py (:mod:`poselab.io.pandas_h5`):
    numeric blocks only, pickled nodes refused — ``pandas.read_hdf`` would unpickle them."""
    from poselab.io.pandas_h5 import read_pandas_h5

    index, cols, values = read_pandas_h5(path)
    if not cols or len(cols[0]) < 3:
        raise DataError(path, "not a DeepLabCut table (needs scorer/bodyparts/coords columns)")
    return index, cols, values


def _project_config(path: Path) -> dict:
    """The ``config.yaml`` beside ``path`` or up to two folders above it, as a mapping ({}
    when there is none or it cannot be read: the labels stay readable without it)."""
    for folder in (path.parent, path.parent.parent, path.parent.parent.parent):
        cfg = folder / "config.yaml"
        if cfg.is_file():
            try:
                found = read_yaml(cfg)
            except (OSError, ValueError) as err:
                log.warning("%s: cannot read it (%s); no skeleton or pcutoff from it", cfg, err)
                return {}
            return found if isinstance(found, dict) else {}
    return {}


def _config_edges(config: dict, names: list[str]) -> list[tuple[int, int]]:
    pairs = config.get("skeleton") or []
    index = {n: i for i, n in enumerate(names)}
    return [(index[a], index[b]) for a, b in (p[:2] for p in pairs
            if isinstance(p, list) and len(p) >= 2)
            if a in index and b in index and a != b]


def _pcutoff(config: dict, path: Path) -> float:
    value = config.get("pcutoff", DEFAULT_PCUTOFF)
    try:
        cut = float(value)
    except (TypeError, ValueError):
        cut = float("nan")
    if not 0.0 <= cut <= 1.0:
        raise DataError(path, f"pcutoff {value!r} in the project's config.yaml is not a "
                              "likelihood between 0 and 1")
    return cut


def read_dlc(path: str | Path, skeleton: str | Path | Skeleton | None = None) -> PoseCollection:
    """Read DeepLabCut labels (``.csv`` or ``.h5``).

    Args:
        path: the ``CollectedData*.csv`` or ``.h5`` file.
        skeleton: optional skeleton whose joint names are the body parts (in any order).

    Returns:
        PoseCollection: ``keypoints_2d`` (N, J, 2) float32 pixels, visibility 0 where a cell is
        empty or, for machine labels, the likelihood is below ``pcutoff`` (module docstring),
        2 elsewhere; ``metadata["per_sample"]`` holds ``individual``, ``instance`` and, for
        machine labels, ``keypoint_scores`` (N, J) float32 likelihoods (NaN without one).

    Raises:
        DataError: not a DeepLabCut header, a body part without its x or y column (named),
            a non-numeric cell, body parts the skeleton lacks, or a ``pcutoff`` outside
            [0, 1] in the project's ``config.yaml`` (names ``path``).
    """
    path = Path(path)
    if path.suffix.lower() in (".h5", ".hdf5"):
        index, cols, values = _h5_table(path)
    else:
        index, cols, values = _csv_table(path)
    if not cols or not index:
        raise DataError(path, "DeepLabCut file has no labelled rows or no x/y columns")
    multi = len(cols[0]) == 4
    coord = [c[-1] for c in cols]
    part = [c[-2] for c in cols]
    indiv = [c[1] if multi else "" for c in cols]
    animals = list(dict.fromkeys(i for i in indiv if i != "single"))
    if not animals:
        raise DataError(path, "only unique ('single') body parts; no individual to read")
    parts = list(dict.fromkeys(p for p, i in zip(part, indiv, strict=True) if i == animals[0]))
    col_of = {(i, p, c): k for k, (i, p, c) in enumerate(zip(indiv, part, coord, strict=True))}
    for a, p in dict.fromkeys((i, p) for i, p in zip(indiv, part, strict=True) if i in animals):
        for c in ("x", "y"):
            if (a, p, c) not in col_of:
                who = f" of individual {a!r}" if multi else ""
                raise DataError(path, f"body part {p!r}{who} lacks its {c} column in the "
                                      "header (coords row)")
    if multi and "single" in indiv:
        log.warning("%s: unique ('single') body parts are skipped", path)

    if skeleton is not None:
        sk = get_skeleton(skeleton)
        missing = [p for p in parts if p not in sk.joint_names]
        if missing or len(parts) != sk.num_joints:
            raise DataError(path, f"body parts {parts} do not match skeleton {sk.name!r}")
    config = _project_config(path)
    if skeleton is None:
        try:
            sk = skeleton_from_names(parts, _config_edges(config, parts), name="dlc")
        except DataError as err:
            raise DataError(path, err.problem) from None
    J = sk.num_joints
    scored = "likelihood" in coord
    cutoff = _pcutoff(config, path) if scored else None
    images = ["/".join(p for p in ix if p) for ix in index]
    kps, viss, scores, img_idx, who, inst = [], [], [], [], [], []
    below = 0
    for r, _ in enumerate(index):
        k = 0
        for a in animals:
            xy = np.full((J, 2), np.nan)
            score = np.full(J, np.nan)
            for j, name in enumerate(sk.joint_names):
                cx, cy = col_of.get((a, name, "x")), col_of.get((a, name, "y"))
                if cx is not None and cy is not None:
                    xy[j] = values[r, cx], values[r, cy]
                cl = col_of.get((a, name, "likelihood"))
                if cl is not None:
                    score[j] = values[r, cl]
            observed = np.isfinite(xy).all(-1)
            if scored:  # machine labels under the cutoff: unlabelled (module docstring)
                low = observed & (score < cutoff)
                below += int(low.sum())
                observed &= ~low
            if multi and not observed.any():
                continue
            kps.append(np.where(observed[:, None], xy, 0.0))
            viss.append(np.where(observed, 2, 0))
            scores.append(score)
            img_idx.append(r)
            who.append(a)
            inst.append(k)
            k += 1
    N = len(kps)
    if N == 0:
        raise DataError(path, "no labelled body part" + (
            f" with a likelihood of at least pcutoff {cutoff:g}" if scored else ""))
    per_sample = {"individual": np.asarray(who, dtype=str),
                  "instance": np.asarray(inst, np.int32)}
    metadata = {"scorer": cols[0][0], "per_sample": per_sample}
    if scored:
        per_sample["keypoint_scores"] = np.asarray(scores, np.float32).reshape(N, J)
        metadata["below_pcutoff"] = {"pcutoff": cutoff, "count": below}
        if below:
            log.info("%s: %d predicted body parts below pcutoff %g read as unlabelled",
                     path, below, cutoff)
    root = resolve_image_root([path.parent.parent.parent, path.parent, path.parent.parent],
                              images)
    ids = [images[r] + (f"#{a}" if multi else "") for r, a in zip(img_idx, who, strict=True)]
    return PoseCollection(
        skeleton=sk, keypoints_2d=np.asarray(kps).reshape(N, J, 2),
        visibility=np.asarray(viss, np.uint8).reshape(N, J),
        image_paths=[join_image(root, images[r]) for r in img_idx], sample_ids=ids,
        source=path, metadata=metadata,
    )


def below_pcutoff_note(collection) -> str | None:
    """One line on the machine labels read as unlabelled (for ``poselab info`` and the GUI's
    status bar), or None when the collection has none."""
    below = collection.metadata.get("below_pcutoff") or {}
    if not below.get("count"):
        return None
    return (f"{below['count']} predicted landmarks below DeepLabCut's pcutoff "
            f"{below['pcutoff']:g} read as unlabelled (the file is unchanged)")


def dlc_project_config(path: str | Path) -> Path | None:
    """The ``config.yaml`` of the DeepLabCut project ``path`` is (the project folder or its
    config), or None: a config with ``bodyparts``/``multianimalbodyparts`` and a
    ``labeled-data`` folder beside it."""
    path = Path(path)
    cfg = path / "config.yaml" if path.is_dir() else path
    if cfg.name.lower() not in ("config.yaml", "config.yml") or not cfg.is_file():
        return None
    if not (cfg.parent / "labeled-data").is_dir():
        return None
    try:
        head = cfg.read_bytes()[:200_000]
    except OSError:
        return None
    return cfg if b"bodyparts" in head else None


def read_dlc_project(path: str | Path, skeleton: str | Path | Skeleton | None = None
                     ) -> PoseCollection:
    """Read every labelled video of a DeepLabCut project as one collection.

    Args:
        path: the project folder or its ``config.yaml``.
        skeleton: as :func:`read_dlc`.

    Returns:
        The ``labeled-data/<video>/CollectedData_<scorer>.csv`` files (``.h5`` where a video
        has no CSV) of the config's ``scorer`` (all scorers' files when none match),
        concatenated; ``metadata["per_sample"]["video"]`` names each sample's video folder;
        bones from the config's ``skeleton``.

    Raises:
        DataError: not a project, no labelled video, or a file's error (naming the file).
    """
    from poselab.io.yaml_file import read_yaml

    cfg_path = dlc_project_config(path)
    if cfg_path is None:
        raise DataError(path, "not a DeepLabCut project (config.yaml with bodyparts and a "
                              "labeled-data folder)")
    cfg = read_yaml(cfg_path)
    scorer = str(cfg.get("scorer") or "")
    found = []
    for video in sorted(d for d in (cfg_path.parent / "labeled-data").iterdir() if d.is_dir()):
        files = sorted(f for f in video.iterdir() if f.name.startswith("CollectedData_")
                       and f.suffix.lower() in (".csv", ".h5", ".hdf5"))
        mine = [f for f in files if f.stem == f"CollectedData_{scorer}"] or files
        csv_stems = {f.stem for f in mine if f.suffix.lower() == ".csv"}
        found += [f for f in mine if f.suffix.lower() == ".csv" or f.stem not in csv_stems]
    if not found:
        raise DataError(cfg_path, "no labeled-data/<video>/CollectedData_*.csv or .h5 found")
    parts = []
    sk = skeleton
    for f in found:
        c = read_dlc(f, sk)
        sk = c.skeleton  # every video in the joint order of the first
        c.metadata["per_sample"]["video"] = np.full(len(c), f.parent.name)
        parts.append(c)
    out = PoseCollection.concatenate(parts) if len(parts) > 1 else parts[0]
    keys = ["individual", "instance", "video"]
    if all("keypoint_scores" in c.metadata["per_sample"] for c in parts):
        keys.append("keypoint_scores")
    per = {k: np.concatenate([np.asarray(c.metadata["per_sample"][k]) for c in parts])
           for k in keys}
    out.metadata = {"scorer": scorer or parts[0].metadata.get("scorer"), "per_sample": per,
                    "files": [str(f) for f in found]}
    below = [c.metadata["below_pcutoff"] for c in parts if "below_pcutoff" in c.metadata]
    if below:
        out.metadata["below_pcutoff"] = {"pcutoff": below[0]["pcutoff"],
                                         "count": sum(b["count"] for b in below)}
    out.source = cfg_path
    return out
