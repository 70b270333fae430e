"""Checks and per-sample targets shared by every student's training (paper 000 §4, DESIGN §3).

:func:`check_inputs` rejects a collection the student cannot use and a teacher fitted on other
data. :func:`prepare_targets` turns a collection and its teacher into plain numpy arrays in the
*student's* normalised frame (the collection's own landmark box, DESIGN §3, which is also what
:func:`poselab.distill.predict` uses): if the teacher normalised with another centre or scale,
its dictionary and depth are rescaled by ``scale_teacher / scale_student`` (translations do
not matter: the losses use centred depth and a translation-free reprojection residual).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.normalize import bbox_normalization, normalize_keypoints


def check_inputs(collection: PoseCollection, teacher, need_images: bool = True) -> None:
    """Raise :class:`DataError` when ``collection`` and ``teacher`` cannot train a student.

    Args:
        collection: N samples; with images when ``need_images``.
        teacher: a :class:`poselab.nrsfm.result.NRSfMResult` fitted on exactly this collection
            (same skeleton joints, same sample ids in the same order), or None.

    Raises:
        DataError: empty collection, missing images, teacher of another skeleton or sample set.
    """
    src = collection.source
    if len(collection) == 0:
        raise DataError(src, "the collection has no samples")
    if need_images and not collection.has_images:
        missing = sum(p is None for p in collection.image_paths)
        raise DataError(src, f"{missing} of {len(collection)} samples have no image; the image "
                             f"student needs images (use the 2D lifter for 2D-only data)")
    if teacher is None:
        return
    if tuple(teacher.skeleton.joint_names) != tuple(collection.skeleton.joint_names):
        raise DataError(src, f"the teacher was fitted on skeleton {teacher.skeleton.name!r} "
                             f"({teacher.skeleton.num_joints} joints), the data use "
                             f"{collection.skeleton.name!r} ({collection.num_joints} joints)")
    if list(teacher.sample_ids) != list(collection.sample_ids):
        ours, theirs = set(collection.sample_ids), set(teacher.sample_ids)
        if ours == theirs:
            problem = "lists the same samples in another order"
        else:
            problem = (f"covers {len(theirs)} samples, {len(theirs & ours)} of the "
                       f"{len(ours)} in the data")
        raise DataError(src, f"the teacher was fitted on a different sample set: it {problem}; "
                             f"fit the teacher on this collection first")


@dataclass
class Targets:
    """Per-sample training arrays, normalised units, crop camera frame (x right, y down).

    Attributes:
        centre: ``(N, 2)`` px, scale: ``(N,)`` px — the student's normalisation (DESIGN §3).
        w: ``(N, J, 2)`` float32 normalised 2D (0 where unobserved); observed: ``(N, J)`` bool.
        rotations: ``(N, 3, 3)`` teacher rotations times ``scale_teacher/scale_student``.
        codes: ``(N, K)`` φ_nrsfm. dictionary: ``(3J, K)`` D1.
        teacher_3d: ``(N, J, 3)`` the teacher's ``keypoints_3d`` in the student's normalised
            units (its box: x, y of observed landmarks equal ``w``).
        gt_z: ``(N, J)`` centred ground-truth depth in normalised units, or None.
        teacher_weight: ``(N, J)`` float32 confidence of the teacher's 3D per joint in (0, 1]
            from its ``keypoints_3d_std`` σ (normalised units): ``m / (m + σ)`` with ``m`` the
            set's median σ (½ at the median, → 1 for a sure joint); None when the teacher
            file has no uncertainty (all joints then count fully).
    """

    centre: np.ndarray
    scale: np.ndarray
    w: np.ndarray
    observed: np.ndarray
    rotations: np.ndarray | None = None
    codes: np.ndarray | None = None
    dictionary: np.ndarray | None = None
    teacher_3d: np.ndarray | None = None
    gt_z: np.ndarray | None = None
    teacher_weight: np.ndarray | None = None


def prepare_targets(collection: PoseCollection, teacher=None) -> Targets:
    """Normalised 2D, teacher terms and ground-truth depth for :func:`poselab.distill.train`.

    Raises:
        DataError: a sample without observed landmarks or a degenerate landmark box.
    """
    try:
        centre, scale = bbox_normalization(collection.keypoints_2d, collection.visibility)
    except DataError as err:
        raise DataError(collection.source, err.problem) from None
    observed = collection.visibility > 0
    w = normalize_keypoints(collection.keypoints_2d, centre, scale, collection.visibility)
    t = Targets(centre=centre, scale=scale, w=w, observed=observed)
    if teacher is not None:
        ratio = (np.asarray(teacher.scale, np.float64) / scale).astype(np.float32)
        t.rotations = (np.asarray(teacher.rotations, np.float32) * ratio[:, None, None])
        t.codes = np.asarray(teacher.codes, np.float32)
        t.dictionary = np.asarray(teacher.dictionary, np.float32)
        kp = np.asarray(teacher.keypoints_3d, np.float32).copy()  # on the rays, rigid bones
        kp[..., :2] -= centre[:, None, :].astype(np.float32)
        t.teacher_3d = kp / scale[:, None, None].astype(np.float32)
        std = getattr(teacher, "keypoints_3d_std", None)
        if std is not None:
            sn = np.asarray(std, np.float64) / scale[:, None]
            m = max(float(np.median(sn[np.isfinite(sn)])) if np.isfinite(sn).any() else 0.0,
                    1e-9)
            sn = np.where(np.isfinite(sn), sn, np.inf)
            t.teacher_weight = (m / (m + sn)).astype(np.float32)
    if collection.has_3d:
        from poselab.distill.losses import gt_depth_normalized

        t.gt_z = gt_depth_normalized(collection.keypoints_3d, w, observed)
    return t


def subset_teacher(teacher, rows: np.ndarray):
    """The :class:`poselab.nrsfm.result.NRSfMResult` restricted to its samples ``rows``: every
    per-sample array (first axis of length N) is indexed; dictionary, model and history are
    shared. None stays None."""
    import dataclasses

    if teacher is None:
        return None
    n = len(teacher.sample_ids)
    idx = np.asarray(rows, int)
    if idx.size == n and np.array_equal(idx, np.arange(n)):
        return teacher
    changes = {"sample_ids": [teacher.sample_ids[i] for i in idx]}
    for f in dataclasses.fields(teacher):
        value = getattr(teacher, f.name)
        if (f.name not in ("dictionary", "sample_ids") and isinstance(value, np.ndarray)
                and value.ndim >= 1 and value.shape[0] == n):
            changes[f.name] = value[idx]
    return dataclasses.replace(teacher, **changes)
