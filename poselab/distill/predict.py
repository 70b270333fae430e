"""Run a trained student on a collection and save its 3D predictions (DESIGN.md §8).

Predictions come back like the teacher's ``keypoints_3d``: camera frame (x right, y down,
z forward), input pixel scale — the network's normalised output denormalised with each
sample's centre and scale (DESIGN §3; depth is relative, scaled only). The crop of a labelled
sample is its 2D landmarks' box, as in training; an image student on a sample without any
observed landmark (a folder of unlabelled photos, video frames) crops the whole image instead
(square, centred, padded with black), and its own 2D comes back in image pixels. Samples whose
image cannot be read (``metadata["per_sample"]["image_problem"]``) are left out with a warning
and get NaN rows, so N stays aligned with the collection.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poselab.core.atomic import atomic_savez
from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.normalize import (
    CROP_MARGIN,
    bbox_normalization,
    denormalize_keypoints,
    normalize_keypoints,
)
from poselab.core.progress import CancelToken, EtaClock, Progress, drain
from poselab.core.skeleton import Skeleton

log = logging.getLogger(__name__)

DEFAULT_BATCH = 256


@dataclass
class Prediction:
    """A student's output on a collection.

    Attributes:
        keypoints_3d: ``(N, J, 3)`` float32, camera frame, pixels (depth relative, pixel
            scale); NaN rows for ``excluded`` samples.
        keypoints_2d: ``(N, J, 2)`` float32 image pixels, the image student's own 2D; None for
            lifter2d (its 2D is its input).
        student: ``"integral" | "heatmap-lifter" | "lifter2d"``.
        excluded: ``(N,)`` bool, samples left out (unreadable image).
    """

    keypoints_3d: np.ndarray
    keypoints_2d: np.ndarray | None
    student: str
    excluded: np.ndarray


def _whole_image_boxes(collection: PoseCollection, rows: np.ndarray):
    """Centre ``(n, 2)`` px and scale ``(n,)`` px whose crop is the whole image: a square of
    the larger image side centred on the image (pixel centres at integers)."""
    from poselab.io.images import image_size

    centre = np.zeros((len(rows), 2), np.float32)
    scale = np.ones(len(rows), np.float32)
    for k, i in enumerate(rows):
        if collection.image_sizes is not None and collection.image_sizes[i].min() > 0:
            w, h = (int(v) for v in collection.image_sizes[i])
        else:
            w, h = image_size(collection.image_paths[i], check=False)
        centre[k] = ((w - 1) / 2, (h - 1) / 2)
        scale[k] = max(w, h) / CROP_MARGIN
    return centre, scale


def predict_iter(checkpoint: str | Path | dict, collection: PoseCollection,
                 device: str = "auto", batch_size: int | None = None,
                 cancel: CancelToken | None = None) -> Generator[Progress, None, Prediction]:
    """Run a student checkpoint on every sample of ``collection`` (generator, for the GUI).

    Args:
        checkpoint: ``checkpoint.pt``, its run folder, or an already loaded checkpoint.
        collection: N samples of the checkpoint's skeleton; images for the image students
            (labelled or not); observed 2D landmarks in every sample for lifter2d.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
        batch_size: samples per forward pass (default 256); results do not depend on it.
        cancel: checked between batches; raises :class:`poselab.core.errors.Cancelled`.

    Yields:
        :class:`Progress` records (cropping, then ``stage="predict"`` per batch).

    Returns:
        :class:`Prediction`.

    Raises:
        DataError: unreadable checkpoint, another skeleton, missing images for an image
            student, no usable image at all, a sample without 2D landmarks for lifter2d.
    """
    from poselab.core.config import resolve_device
    from poselab.distill.checkpoint import load_checkpoint
    from poselab.distill.data import build_crops
    from poselab.distill.students import build_from_checkpoint

    cancel = cancel or CancelToken()
    ckpt = checkpoint if isinstance(checkpoint, dict) else load_checkpoint(checkpoint)
    names = list(ckpt["skeleton"]["joint_names"])
    if names != list(collection.skeleton.joint_names):
        raise DataError(collection.source, f"the student was trained on skeleton "
                                           f"{ckpt['skeleton'].get('name')!r} ({len(names)} "
                                           f"joints), the data use {collection.skeleton.name!r}")
    dev = resolve_device(device)
    student, model = build_from_checkpoint(ckpt, dev)
    from poselab.distill.inputs import check_inputs

    check_inputs(collection, None, need_images=student.needs_images)
    bs = int(batch_size or DEFAULT_BATCH)
    if bs < 1:
        raise DataError(None, f"batch_size must be ≥ 1, got {batch_size}")
    n, J = len(collection), collection.num_joints
    excluded = np.zeros(n, bool)
    if student.needs_images:
        from poselab.io.images import image_problems

        problems = image_problems(collection)
        excluded = problems != ""
        if excluded.all():
            raise DataError(collection.source, f"no usable image: all {n} samples' images are "
                                               f"unreadable (e.g. {problems[0]})")
        if excluded.any():
            first = int(np.argmax(excluded))
            log.warning("%d of %d samples left out (NaN predictions): their images are "
                        "unreadable (e.g. %s: %s)", int(excluded.sum()), n,
                        collection.image_paths[first], problems[first])
    rows = np.flatnonzero(~excluded)
    obs = np.asarray(collection.visibility)[rows] > 0
    labelled = obs.any(1)
    if not labelled.all() and student.needs_2d:
        first = collection.sample_ids[rows[int(np.argmin(labelled))]]
        raise DataError(collection.source, f"{int((~labelled).sum())} samples have no 2D "
                                           f"landmarks (e.g. {first!r}); the {student.name} "
                                           f"student lifts 2D landmarks to 3D and needs them")
    centre = np.zeros((len(rows), 2), np.float32)
    scale = np.ones(len(rows), np.float32)
    kp = np.asarray(collection.keypoints_2d)[rows]
    if labelled.any():
        try:
            centre[labelled], scale[labelled] = bbox_normalization(kp[labelled], obs[labelled])
        except DataError as err:
            raise DataError(collection.source, err.problem) from None
    if not labelled.all():
        centre[~labelled], scale[~labelled] = _whole_image_boxes(collection,
                                                                 rows[~labelled])
    inputs = {"w": normalize_keypoints(kp, centre, scale, obs), "observed": obs, "crops": None}
    if student.needs_images:
        size = int(student.config.input_size)
        inputs["crops"] = yield from build_crops([collection.image_paths[i] for i in rows],
                                                 centre, scale, size, cancel)
    y3 = np.zeros((len(rows), J, 3), np.float32)
    y2 = np.zeros((len(rows), J, 2), np.float32) if student.needs_images else None
    clock = EtaClock(len(rows))
    for s in range(0, len(rows), bs):
        cancel.check()
        sel = np.arange(s, min(s + bs, len(rows)))
        a, b = student.predict_normalized(model, inputs, sel, dev, bs)
        y3[sel] = a
        if y2 is not None and b is not None:
            y2[sel] = b
        yield Progress("predict", int(sel[-1]) + 1, len(rows), {}, clock.eta(int(sel[-1]) + 1),
                       f"predicting 3D {int(sel[-1]) + 1}/{len(rows)}")
    kp3 = np.full((n, J, 3), np.nan, np.float32)
    kp3[rows] = denormalize_keypoints(y3, centre, scale)
    kp2 = None
    if y2 is not None:
        kp2 = np.full((n, J, 2), np.nan, np.float32)
        kp2[rows] = denormalize_keypoints(y2, centre, scale)
    return Prediction(kp3, kp2, student.name, excluded)


def predict(checkpoint_path: str | Path | dict, collection: PoseCollection,
            device: str = "auto", batch_size: int | None = None) -> np.ndarray:
    """3D keypoints of every sample of ``collection``: :func:`predict_iter` run to the end.

    Returns:
        ``(N, J, 3)`` float32, camera frame, pixels (z relative, pixel scale); NaN rows for
        samples whose image is unreadable (image students).

    Raises:
        DataError: as :func:`predict_iter`.
    """
    return drain(predict_iter(checkpoint_path, collection, device, batch_size)).keypoints_3d


def save_predictions(path: str | Path, keypoints_3d: np.ndarray, collection: PoseCollection,
                     skeleton: Skeleton | None = None, extra: dict | None = None,
                     excluded: np.ndarray | None = None) -> Path:
    """Write ``predictions.npz`` atomically with the keys of ``RESULT_FILE_KEYS`` and the
    SHA-256 of its arrays (``content_sha256``; a changed file then fails to read).

    Args:
        keypoints_3d: ``(N, J, 3)`` camera frame, pixels (from :func:`predict`).
        collection: gives ``sample_ids`` (and the skeleton when ``skeleton`` is None).
        extra: JSON-ready information stored as ``extra_json`` (e.g. the checkpoint path).
        excluded: ``(N,)`` bool, samples left out of prediction (:attr:`Prediction.excluded`):
            their NaN rows are written, their ids listed under ``excluded_ids`` in ``extra``.

    Raises:
        DataError: shape does not match the collection; NaN or infinite predictions for a
            sample not ``excluded`` (a diverged or damaged student: no file is written).
    """
    skeleton = skeleton or collection.skeleton
    kp = np.asarray(keypoints_3d, np.float32)
    if kp.shape != (len(collection), skeleton.num_joints, 3):
        raise DataError(path, f"predictions of shape {kp.shape} do not match "
                              f"{len(collection)} samples of {skeleton.num_joints} joints")
    bad = ~np.isfinite(kp).all(axis=(1, 2))
    extra = dict(extra or {})
    if excluded is not None and np.any(excluded):
        excluded = np.asarray(excluded, bool)
        bad &= ~excluded
        extra["excluded_ids"] = [str(collection.sample_ids[i]) for i in np.flatnonzero(excluded)]
    if bad.any():
        raise DataError(path, f"not written: the student predicted NaN or infinite 3D for "
                              f"{int(bad.sum())} of {len(bad)} samples (first: "
                              f"{collection.sample_ids[int(np.argmax(bad))]!r})")
    from poselab.core.digest import DIGEST_KEY, content_digest

    arrays = dict(kind=np.array("prediction"), keypoints_3d=kp,
                  sample_ids=np.asarray(list(collection.sample_ids), dtype=str),
                  skeleton_json=np.array(json.dumps(skeleton.to_dict())), units=np.array("px"),
                  frame=np.array("camera"), extra_json=np.array(json.dumps(extra)))
    arrays[DIGEST_KEY] = np.array(content_digest(arrays))  # checked by io.read_result
    atomic_savez(path, **arrays)
    return Path(path)
