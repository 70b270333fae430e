"""Open what a user drops: a folder (images + one annotation file) or an annotation file.

A folder is scanned for images (jpg, jpeg, png, bmp, tif, tiff; up to three folder levels) and
annotation files (COCO or Label Studio ``.json``, SLEAP ``.slp``, DeepLabCut/long ``.csv`` and
``.h5``, ``.mat``, ``.npz``, an Ultralytics YOLO dataset — :mod:`poselab.io.yolo`). Exactly
one annotation file must be found — two are reported, never guessed between (DESIGN §8). GUI
edits live beside the annotation file in ``<stem>.poselab.json`` (:func:`edits_path`); when
present they are loaded instead of the original. Images are checked without decoding: a
listed image that is missing, truncated or unreadable flags its samples
(``metadata["per_sample"]["image_problem"]``) and the rest of the dataset opens; image sizes
come from the headers with EXIF orientation applied.
"""

from __future__ import annotations

import logging
import struct
import zipfile
from pathlib import Path

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.skeleton import Skeleton
from poselab.core.skeletons import get_skeleton
from poselab.io.coco import EDITS_SUFFIX, SIDECAR_SUFFIX, read_coco
from poselab.io.images import IMAGE_SUFFIXES, find_images, probe_images
from poselab.io.yolo import read_yolo
from poselab.io.yolo_layout import find_yolo, yolo_root

log = logging.getLogger(__name__)

ANNOTATION_SUFFIXES = (".json", ".csv", ".h5", ".hdf5", ".mat", ".npz", ".slp")
#: Every file type :func:`open_folder` reads (the GUI's Open dialog lists these).
READABLE_SUFFIXES = (*ANNOTATION_SUFFIXES, ".yaml", ".yml")
UNLABELLED_EDITS = "annotations.poselab.json"
_RESULT_KINDS = ("nrsfm", "prediction")


class SkeletonNeeded(DataError):
    """A folder of images without annotations (or a YOLO dataset whose labels come without a
    yaml giving ``kpt_shape``) was opened without a skeleton.

    The GUI catches this to ask the user for a skeleton (built-in or JSON) and opens again
    with ``open_folder(path, skeleton=...)``; ``num_images`` says how many were found,
    ``labelled`` whether landmarks exist (only their names are missing).
    """

    def __init__(self, path: Path, num_images: int, problem: str | None = None,
                 labelled: bool = False):
        self.num_images = num_images
        self.labelled = labelled  # labels exist (YOLO without kpt_shape); only names lack
        super().__init__(path, problem or f"{num_images} images but no annotation file; pass "
                                          "a skeleton (built-in name or JSON file) to label "
                                          "them from scratch")


def edits_path(source: str | Path | PoseCollection, split: str | None = None) -> Path:
    """Where the GUI autosaves edits of a collection (DESIGN §8).

    ``<annotation stem>.poselab.json`` beside the annotation file (an edits file is its own
    edits path); ``annotations.poselab.json`` inside an unlabelled image folder; for a YOLO
    ``labels/`` folder, ``labels.poselab.json`` beside it. Edits of one split of a dataset
    (``split``, or a collection's ``metadata["split"]``) go to ``<stem>.<split>.poselab.json``,
    so they never replace the whole dataset when it is opened again.
    """
    if isinstance(source, PoseCollection):
        if source.source is None:
            raise DataError(None, "the collection has no source file; choose where to save")
        split = split or source.metadata.get("split")
        source = source.source
    source = Path(source)
    if source.name.endswith(EDITS_SUFFIX):
        return source
    tag = f".{split}" if split else ""
    if source.is_dir():
        if source.name == "labels" and yolo_root(source) is not None:
            return source.with_name("labels" + tag + EDITS_SUFFIX)
        return source / (UNLABELLED_EDITS if not tag else
                         UNLABELLED_EDITS.replace(EDITS_SUFFIX, tag + EDITS_SUFFIX))
    return source.with_name(source.stem + tag + EDITS_SUFFIX)


def _peek(path: Path, n: int = 256) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read(n).decode("utf-8", "replace")
    except OSError:
        return ""


def _is_candidate(path: Path) -> bool:
    name = path.name.lower()
    if name.startswith(".") or name.endswith(EDITS_SUFFIX) or name.endswith(SIDECAR_SUFFIX):
        return False
    if path.suffix.lower() not in ANNOTATION_SUFFIXES:
        return False
    if path.suffix.lower() == ".json":
        head = _peek(path)
        return "skeleton" not in name and '"poselab-export"' not in head
    if path.suffix.lower() == ".csv":
        return not _peek(path).lower().startswith("image,instance,joint,source")
    if path.suffix.lower() == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                return "kind" not in z.files or str(z["kind"]) not in _RESULT_KINDS
        except (OSError, ValueError):
            return True  # reported when read
    return True


def _looks_like_annotation(path: Path) -> bool:
    """Content check for files below the top level (where results, configs and logs of
    training runs may live): COCO JSON, DeepLabCut or long CSV, a pose ``.npz``."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return '"annotations"' in _peek(path, 65536)
    if suffix == ".csv":
        head = _peek(path, 512).lstrip("\ufeff").lower()
        first = head.splitlines()[0] if head else ""
        return head.startswith("scorer") or {"image", "joint", "x", "y"} <= {
            c.strip() for c in first.split(",")}
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                return bool({"keypoints_2d", "W"} & set(z.files))
        except (OSError, ValueError):
            return False
    return True


def find_annotations(folder: Path, max_depth: int = 3) -> list[Path]:
    """Annotation candidates in ``folder``: the shallowest level (0, 1 or 2 deep) that has any.

    Excluded: edits (``*.poselab.json``), 3D sidecars (``*.3d.npz``), poselab results and
    exports, ``*skeleton*.json``; below the top level also files whose content is not an
    annotation (e.g. a training run's JSON log). A DeepLabCut ``.csv`` and ``.h5`` of the same
    stem count once (the CSV). A YOLO layout counts as one candidate (its yaml, ``labels/``
    or root folder; :func:`poselab.io.yolo_layout.find_yolo`).
    """
    folder = Path(folder)
    layout = find_yolo(folder)
    if layout is not None:
        return [layout.source]
    level = [folder]
    for depth in range(max_depth):
        found = sorted(p for d in level for p in d.iterdir()
                       if p.is_file() and _is_candidate(p)
                       and (depth == 0 or _looks_like_annotation(p)))
        stems = {(p.parent, p.stem) for p in found if p.suffix.lower() == ".csv"}
        found = [p for p in found if not (p.suffix.lower() in (".h5", ".hdf5")
                                          and (p.parent, p.stem) in stems)]
        if found:
            return found
        level = [d for lv in level for d in sorted(lv.iterdir())
                 if d.is_dir() and not d.name.startswith(".") and d.name != "labels"]
    return []


def read_annotation(path: str | Path, skeleton: str | Path | Skeleton | None = None,
                    split: str | None = None) -> PoseCollection:
    """Read one annotation file by its extension (and, for ``.csv``, its first cell).

    ``split`` selects one split of a YOLO dataset (other formats: see :func:`open_folder`).

    Raises:
        DataError: unsupported file type, or whatever the format's reader raises.
    """
    path = Path(path)
    if path.is_file() and path.stat().st_size == 0:
        raise DataError(path, "empty file (0 bytes)")
    try:
        return _dispatch(path, skeleton, split)
    except DataError:
        raise
    except UnicodeDecodeError as err:
        raise DataError(path, f"not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset "
                              f"{err.start}); save it as UTF-8") from None
    except (EOFError, zipfile.BadZipFile, struct.error) as err:
        raise DataError(path, f"damaged or truncated file ({_first_line(err)})") from None
    except (ValueError, KeyError, OSError) as err:
        if path.suffix.lower() in (".npz", ".mat", ".h5", ".hdf5", ".slp"):  # binary decoders
            raise DataError(path, f"damaged or truncated file ({_first_line(err)})") from None
        raise


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _dispatch(path: Path, skeleton, split: str | None) -> PoseCollection:
    suffix = path.suffix.lower()
    if path.is_dir() or suffix in (".yaml", ".yml"):
        from poselab.io.dlc import dlc_project_config, read_dlc_project

        if dlc_project_config(path) is not None:
            return read_dlc_project(path, skeleton)
        return read_yolo(path, skeleton, split)
    if suffix == ".json":
        from poselab.io.sleap import is_labelstudio, read_labelstudio

        if is_labelstudio(_peek(path, 65536)):
            return read_labelstudio(path, skeleton)
        return read_coco(path)
    if suffix == ".slp":
        from poselab.io.sleap import read_slp
        return read_slp(path, skeleton)
    if suffix == ".csv":
        if _peek(path, 16).lstrip("\ufeff").lower().startswith("scorer"):
            from poselab.io.dlc import read_dlc
            return read_dlc(path, skeleton)
        from poselab.io.csv_long import read_csv_long
        return read_csv_long(path, skeleton)
    if suffix in (".h5", ".hdf5"):
        from poselab.io.dlc import read_dlc
        return read_dlc(path, skeleton)
    if suffix == ".mat":
        from poselab.io.lsp import read_lsp
        return read_lsp(path, skeleton)
    if suffix == ".npz":
        from poselab.io.npz import read_npz
        return read_npz(path)
    raise DataError(path, f"unsupported file type {suffix!r}; expected one of "
                          f"{list(ANNOTATION_SUFFIXES)}, a YOLO dataset yaml or a folder")


def _load(annotation: Path, skeleton, prefer_edits: bool, split: str | None = None,
          opened: Path | None = None) -> PoseCollection:
    edits = edits_path(annotation, split)
    if split and not edits.is_file():  # edits of the whole dataset; the split is kept later
        edits = edits_path(annotation)
    if prefer_edits and edits != annotation and edits.is_file():
        log.info("loading edits %s instead of %s", edits, annotation)
        if annotation.exists() and annotation.stat().st_mtime > edits.stat().st_mtime:
            log.warning("%s is newer than its edits %s; the edits are loaded", annotation, edits)
        from poselab.io.edits import edits_or_original

        whole = edits != edits_path(annotation, split)  # whole-dataset edits, read as a split
        coll = edits_or_original(edits, annotation, lambda: read_annotation(
            opened or annotation, skeleton, None if whole else split))
        if coll.source is None or Path(coll.source) != edits:
            return coll  # edits of another dataset: the original (a warning was logged)
        coll.metadata["edits_of"] = str(annotation)
        if split and edits == edits_path(annotation, split):
            coll.metadata["split"] = split
        return coll
    return read_annotation(opened or annotation, skeleton, split)


def _default_skeleton(folder: Path) -> Skeleton | None:
    files = sorted(folder.glob("*skeleton*.json"))
    return get_skeleton(files[0]) if len(files) == 1 else None


def open_folder(path: str | Path, skeleton: str | Path | Skeleton | None = None,
                prefer_edits: bool = True, check_images: bool = True,
                split: str | None = None) -> PoseCollection:
    """Open a folder or an annotation file as a :class:`PoseCollection`.

    Args:
        path: a folder, an annotation file, or a YOLO dataset yaml (or split folder).
        skeleton: built-in name, skeleton JSON path or Skeleton; needed for a folder of
            unlabelled images (and for YOLO labels without ``kpt_shape``); readers of formats
            without one (DeepLabCut, long CSV, ``.mat``) use it for the joint order.
        prefer_edits: load ``<stem>.poselab.json`` edits instead of the original when present.
        check_images: read every listed image's header: ``image_sizes`` (N, 2) come from the
            headers (no decoding, EXIF orientation applied); a missing, truncated or
            unreadable image flags its samples (:func:`flag_images`) instead of failing.
        split: keep one split (``train``, ``val``, ``test``): a YOLO dataset reads only that
            split; other collections keep the samples whose ``metadata["per_sample"]["split"]``
            equals it.

    Returns:
        PoseCollection with ``source`` = the file read (the edits file when edits were loaded,
        the folder for unlabelled images); ``metadata["unreferenced_images"]`` counts images in
        the folder that no sample uses.

    Raises:
        DataError: no such path; no images and no annotation; images but no annotation and no
            skeleton (:class:`SkeletonNeeded`); two or more annotation candidates (listed);
            an unknown split; or any reader's error — each naming the file.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(path, "no such file or folder")
    try:
        return _open(path, skeleton, prefer_edits, check_images, split)
    except DataError:
        raise
    except OSError as err:  # permissions, a folder vanishing while scanned, ...
        where = Path(err.filename) if err.filename else path
        raise DataError(where, f"cannot read ({err.strerror or err})") from None


def _open(path: Path, skeleton, prefer_edits: bool, check_images: bool,
          split: str | None) -> PoseCollection:
    from poselab.io.dlc import dlc_project_config

    folder = path if path.is_dir() else path.parent
    project = dlc_project_config(path)
    layout = find_yolo(path) if project is None and (
        path.is_dir() or path.suffix.lower() in (".yaml", ".yml")) else None
    if project is not None:  # a DeepLabCut project: every labelled video
        coll = _load(project, skeleton, prefer_edits, None, path)
    elif layout is not None:
        coll = _load(layout.source, skeleton, prefer_edits, split or layout.split, path)
    elif path.is_dir():
        candidates = find_annotations(path, max_depth=1)
        if not candidates and prefer_edits and (path / UNLABELLED_EDITS).is_file():
            candidates = []  # a labelled-in-poselab image folder: its edits are the labels
        elif not candidates:
            candidates = find_annotations(path)
        if len(candidates) > 1:
            names = ", ".join(str(c.relative_to(path)) for c in candidates)
            raise DataError(path, f"{len(candidates)} annotation files found ({names}); "
                                  "open one of them directly")
        if candidates:
            coll = _load(candidates[0], skeleton, prefer_edits)
        elif prefer_edits and (path / UNLABELLED_EDITS).is_file():
            coll = read_coco(path / UNLABELLED_EDITS)
        else:
            coll = _unlabelled(path, skeleton)
    else:
        coll = _load(path, skeleton, prefer_edits)
    if split and coll.metadata.get("split") != split:
        coll = _select_split(coll, split)
    probed = coll.image_sizes is not None and "image_problem" in coll.metadata.get(
        "per_sample", {}) and "image_problems" in coll.metadata
    if check_images and not probed and any(p is not None for p in coll.image_paths):
        if any(p is None for p in coll.image_paths):
            raise DataError(coll.source, "some samples have an image and some do not")
        sizes, problems = probe_images(coll.image_paths)
        coll.image_sizes = sizes
        flag_images(coll, problems)
    if check_images and path.is_dir() and any(p is not None for p in coll.image_paths):
        used = {Path(p) for p in coll.image_paths}
        coll.metadata["unreferenced_images"] = sum(
            1 for p in find_images(folder) if p not in used)
    return coll


def _select_split(coll: PoseCollection, split: str) -> PoseCollection:
    per = coll.metadata.get("per_sample", {})
    if "split" not in per:
        raise DataError(coll.source, f"--split {split}: this collection has no splits")
    splits = np.asarray(per["split"], dtype=str)
    keep = np.flatnonzero(splits == split)
    if not len(keep):
        raise DataError(coll.source, f"no split {split!r}; the collection has "
                                     f"{', '.join(sorted(set(splits.tolist())))}")
    out = coll.subset(keep)
    out.metadata["split"] = split
    return out


def flag_images(coll: PoseCollection, problems: dict[Path, str]) -> None:
    """Record unusable images in ``coll``: ``metadata["per_sample"]["image_problem"]`` (N,)
    str ("" for usable images) and ``metadata["image_problems"]`` {path: problem}, and log
    one warning with the count. The samples keep their landmarks (usable for NRSfM)."""
    per = coll.metadata.setdefault("per_sample", {})
    per["image_problem"] = np.asarray(
        [problems.get(Path(p), "") if p is not None else "" for p in coll.image_paths], dtype=str)
    coll.metadata["image_problems"] = {str(p): v for p, v in problems.items()}
    if problems:
        first = next(iter(problems))
        log.warning("%d unusable image(s), e.g. %s: %s (`poselab info` lists them all)",
                    len(problems), first, problems[first])


def _unlabelled(folder: Path, skeleton) -> PoseCollection:
    images = find_images(folder)
    if not images:
        raise DataError(folder, "no images and no annotation file found (looked for "
                                f"{', '.join(IMAGE_SUFFIXES)} images and "
                                f"{', '.join(ANNOTATION_SUFFIXES)} annotations)")
    sk = get_skeleton(skeleton) if skeleton is not None else _default_skeleton(folder)
    if sk is None:
        raise SkeletonNeeded(folder, len(images))
    N, J = len(images), sk.num_joints
    return PoseCollection(
        skeleton=sk, keypoints_2d=np.zeros((N, J, 2), np.float32),
        visibility=np.zeros((N, J), np.uint8), image_paths=images,
        sample_ids=[p.relative_to(folder).as_posix() for p in images], source=folder,
        metadata={"unlabelled": True, "per_sample": {"instance": np.zeros(N, np.int32)}},
    )
