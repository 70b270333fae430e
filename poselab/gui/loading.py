"""Opening data for the window, as a worker job (no Qt): collection + saved 3D results.

:func:`load_job` is a progress generator returning a :class:`Loaded` bundle, or a
:class:`NeedsSkeleton` marker when the path is a folder of images without annotations (the
window then asks for a skeleton and opens it again with one). Saved results are reloaded when
their samples are the collection's (all of them, or the ones included when they were made):
the teacher from ``nrsfm.npz`` (see :func:`poselab.gui.document.teacher_path`) and student
predictions from ``student_predictions.npz`` beside it.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.progress import CancelToken, Progress

log = logging.getLogger(__name__)


@dataclass
class Loaded:
    """A collection opened from ``path`` with the 3D results found beside it."""

    path: Path
    collection: PoseCollection
    teacher: object | None = None
    student_3d: np.ndarray | None = None
    student_ids: list[str] | None = None
    checkpoint: Path | None = None


@dataclass
class NeedsSkeleton:
    """``path`` is a folder of images with no annotation file, or YOLO labels without
    keypoint names (``labelled``): ask for a skeleton."""

    path: Path
    problem: str
    labelled: bool = False


def is_unlabelled_folder(path: Path) -> bool:
    """True when ``path`` is a folder holding images and no annotation file."""
    from poselab.io.folder import find_annotations
    from poselab.io.images import find_images

    if not path.is_dir():
        return False
    try:
        return not find_annotations(path) and bool(find_images(path))
    except OSError:
        return False


def student_path(teacher_file: Path) -> Path:
    """Student predictions file beside the teacher's file."""
    name = teacher_file.name.replace("nrsfm.npz", "student_predictions.npz")
    return teacher_file.with_name(name)


def _load_results(loaded: Loaded) -> None:
    from poselab.gui.document import teacher_path
    from poselab.nrsfm.result import NRSfMResult

    c = loaded.collection
    tp = teacher_path(c)
    if tp.is_file():
        try:
            teacher = NRSfMResult.load(tp)
            if set(teacher.sample_ids) <= set(c.sample_ids):  # all, or the included ones
                loaded.teacher = teacher
                log.info("reloaded the teacher from %s", tp)
            else:
                log.warning("%s belongs to other samples; not loaded", tp)
        except DataError as err:
            log.warning("could not reload the teacher: %s", err)
    sp = student_path(tp)
    if sp.is_file():
        from poselab.io import read_result

        try:
            res = read_result(sp)
            if set(res.sample_ids) <= set(c.sample_ids):
                loaded.student_3d = np.asarray(res.keypoints_3d, np.float32)
                loaded.student_ids = list(res.sample_ids)
                ck = (res.extra or {}).get("checkpoint")
                loaded.checkpoint = Path(ck) if ck else None
                log.info("reloaded student predictions from %s", sp)
            else:
                log.warning("%s belongs to other samples; not loaded", sp)
        except DataError as err:
            log.warning("could not reload student predictions: %s", err)


def load_job(path: Path, skeleton=None, cancel: CancelToken | None = None
             ) -> Generator[Progress, None, Loaded | NeedsSkeleton]:
    """Open ``path`` (folder or annotation file) with ``poselab.io.open_folder``.

    Raises:
        DataError: from ``poselab.io`` (the file and the problem), unless the folder only
            lacks annotations or YOLO labels lack a kpt_shape yaml (then
            :class:`NeedsSkeleton` is returned).
    """
    from poselab.io import SkeletonNeeded, open_folder

    path = Path(path)
    yield Progress("open", 0, 2, message=f"opening {path.name}")
    if not path.exists():
        raise DataError(path, "does not exist")
    try:
        collection = open_folder(path, skeleton=skeleton)
    except SkeletonNeeded as err:
        if skeleton is None:
            return NeedsSkeleton(path, err.problem, err.labelled)
        raise
    except DataError as err:
        if skeleton is None and is_unlabelled_folder(path):
            return NeedsSkeleton(path, str(err))
        raise
    if cancel is not None:
        cancel.check()
    loaded = Loaded(path, collection)
    yield Progress("results", 1, 2, message="looking for saved results")
    _load_results(loaded)
    return loaded
