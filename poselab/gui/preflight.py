"""Checks the window makes *before* it starts Reconstruct or Train (no Qt, milliseconds), and
the mapping between the samples a job saw and the collection's rows.

A job runs on the included samples only (:attr:`Document.excluded`), so the k-th sample a job
sees is the collection's row ``rows[k]``. Errors shown to the user name samples 1-based, as the
status bar counts them ("sample 3 / 6"), and suggest what the app can do: label or exclude.
Input errors found here appear at once, instead of after a worker process has started
(~15 s on the 2-core machine).
"""

from __future__ import annotations

import re

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError

#: Fewest samples NRSfM accepts (``poselab.nrsfm.data.prepare_inputs``).
NRSFM_MIN_SAMPLES = 2


def _names(collection: PoseCollection, rows: np.ndarray, most: int = 5) -> str:
    """``"3 (img02.png), 7 (img06.png) and 2 more"``: 1-based numbers with their ids."""
    parts = [f"{int(i) + 1} ({collection.sample_ids[int(i)]})" for i in rows[:most]]
    more = f" and {len(rows) - most} more" if len(rows) > most else ""
    return ", ".join(parts) + more


def check_reconstruct(collection: PoseCollection, excluded: np.ndarray) -> str | None:
    """Why NRSfM cannot run on the included samples, or None.

    Args:
        collection: N samples; excluded: ``(N,)`` bool.

    Returns:
        One line naming the samples 1-based, or None when the input is fine.
    """
    rows = np.flatnonzero(~np.asarray(excluded, bool))
    if len(rows) < NRSFM_MIN_SAMPLES:
        return (f"NRSfM needs at least {NRSFM_MIN_SAMPLES} included samples, "
                f"{len(rows)} of {len(collection)} are included")
    if collection.num_joints < 3:
        return f"NRSfM needs at least 3 landmarks per sample, the skeleton has " \
               f"{collection.num_joints}"
    few = rows[(collection.visibility[rows] > 0).sum(1) < 2]
    if few.size:
        what = "sample" if few.size == 1 else "samples"
        return (f"{what} {_names(collection, few)} {'has' if few.size == 1 else 'have'} fewer "
                "than 2 labelled landmarks: label them, or exclude them (Samples ▸ Exclude "
                "selected)")
    return None


def check_train(collection: PoseCollection, excluded: np.ndarray, teacher, student: str,
                resume=None) -> str | None:
    """Why a student cannot train on the included samples with ``teacher``, or None.

    Args:
        collection: N samples; excluded: ``(N,)`` bool; teacher: an NRSfMResult (may cover
            fewer samples); student: ``TrainConfig.student``; resume: checkpoint path or None.
    """
    rows = np.flatnonzero(~np.asarray(excluded, bool))
    if teacher is None:
        return "train needs the teacher: press Reconstruct (NRSfM) first"
    ids = set(teacher.sample_ids)
    missing = np.asarray([i for i in rows if collection.sample_ids[i] not in ids], int)
    if missing.size:
        return (f"the teacher has no 3D for sample {_names(collection, missing)} (included "
                "after the reconstruction): reconstruct again, or exclude them")
    if len(rows) == 0:
        return "every sample is excluded: include some (Samples ▸ Include selected)"
    if student != "lifter2d":
        no_image = rows[[collection.image_paths[i] is None for i in rows]]
        if no_image.size:
            return (f"sample {_names(collection, no_image)} has no image; the {student} "
                    "student needs images (choose the 2D lifter 'lifter2d' for 2D-only data)")
    if resume is not None and not str(resume).endswith(".pt"):
        return f"{resume}: not a checkpoint (.pt)"
    return None


def subset_result(result, rows_in_result: np.ndarray):
    """The NRSfMResult restricted to its samples ``rows_in_result`` (every per-sample array
    — first axis of length N — is indexed; dictionary, model and history are shared); see
    :func:`poselab.distill.inputs.subset_teacher`, which this is."""
    from poselab.distill.inputs import subset_teacher

    return subset_teacher(result, rows_in_result)


def job_inputs(collection: PoseCollection, excluded: np.ndarray, teacher=None):
    """``(rows, collection subset, teacher subset)`` of the included samples: the arrays a job
    gets. ``rows`` ``(M,)`` int are collection rows; the teacher (if any) is restricted to the
    same samples in the same order.

    Raises:
        DataError: the teacher lacks an included sample (:func:`check_train` says so first).
    """
    rows = np.flatnonzero(~np.asarray(excluded, bool))
    sub = collection.subset(rows)
    if teacher is None:
        return rows, sub, None
    where = {s: k for k, s in enumerate(teacher.sample_ids)}
    try:
        idx = np.asarray([where[s] for s in sub.sample_ids], int)
    except KeyError as err:
        raise DataError(collection.source, f"the teacher has no 3D for sample {err}") from None
    return rows, sub, subset_result(teacher, idx)


def translate_error(message: str, rows: np.ndarray | None) -> str:
    """A job's error message in the window's terms: ``"sample k"`` (0-based in the job's
    subset) becomes the collection's 1-based number, and "remove it" becomes "exclude it"."""
    if rows is None:
        rows = np.zeros(0, int)

    def one(m: re.Match) -> str:
        k = int(m.group(2))
        i = int(rows[k]) if 0 <= k < len(rows) else k
        return f"{m.group(1)}{i + 1}"

    out = re.sub(r"(\bsample )(\d+)", one, message)
    return out.replace("remove it or label it", "label it or exclude it (Samples ▸ Exclude "
                                                "selected)").replace("remove it", "exclude it")
