"""Per-epoch metrics of a student (DESIGN.md §7), shared by the training loops.

With 3D ground truth: paper 000's protocol (:func:`poselab.metrics.pose.paper000_errors`:
bone-length scaling, MPJPE, PA-MPJPE, depth error, one reflection for the set) for the student
*and* the teacher on the same samples (``student_mpjpe``, ``teacher_mpjpe``, …, in the ground
truth's unit). Always: the 2D error of the student's x, y in pixels (``err2d_px``), and, with a
teacher, the teacher agreement (mean |Δ centred depth| in pixels, ``teacher_agreement_px``) and
the distilling cost of the student's depth (paper 000 Eq. 14, normalised units,
``reprojection_cost``).
"""

from __future__ import annotations

import logging

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.distill.inputs import Targets

log = logging.getLogger(__name__)


def student_metrics(pred: np.ndarray, idx: np.ndarray, collection: PoseCollection,
                    targets: Targets, teacher_eval: dict | None = None,
                    l1_weight: float = 0.3, damping: float = 1e-3) -> dict[str, float]:
    """Scores of normalised predictions on samples ``idx``.

    Args:
        pred: ``(n, J, 3)`` student output, normalised units, crop camera frame.
        idx: ``(n,)`` indices of those samples in ``collection`` / ``targets``.
        teacher_eval: cached teacher scores on the same samples (from :func:`teacher_metrics`),
            copied into the result.

    Returns:
        name → float (see module docstring).
    """
    import torch

    from poselab.distill.losses import distill_depth_loss, rotated_dictionary

    s = targets.scale[idx][:, None]
    obs = targets.observed[idx]
    d2 = np.linalg.norm(pred[..., :2] - targets.w[idx], axis=-1) * s
    out = {"err2d_px": float((d2 * obs).sum() / max(obs.sum(), 1))}
    zc = pred[..., 2] - pred[..., 2].mean(1, keepdims=True)
    if targets.teacher_3d is not None:
        tz = targets.teacher_3d[idx][..., 2]
        tz = tz - tz.mean(1, keepdims=True)
        out["teacher_agreement_px"] = float((np.abs(zc - tz) * s).mean())
        with torch.no_grad():
            B = rotated_dictionary(torch.from_numpy(targets.dictionary),
                                   torch.from_numpy(targets.rotations[idx]))
            cost = distill_depth_loss(torch.from_numpy(pred[..., 2]).float(),
                                      torch.from_numpy(targets.w[idx]), B,
                                      torch.from_numpy(targets.codes[idx]),
                                      torch.from_numpy(obs), l1_weight, damping, reduce=False)
        out["reprojection_cost"] = float(cost["reprojection"].mean())
        out["distill_cost"] = float(cost["loss"].mean())
    if collection.has_3d and collection.units_3d != "units":
        from poselab.metrics.pose import paper000_errors

        res = paper000_errors(pred, collection.keypoints_3d[idx], collection.skeleton)
        for k in ("mpjpe", "pa_mpjpe", "depth_error"):
            out[f"student_{k}"] = float(res[k])
    if teacher_eval:
        out.update(teacher_eval)
    return out


def teacher_metrics(idx: np.ndarray, collection: PoseCollection,
                    targets: Targets) -> dict[str, float]:
    """The teacher's paper-000 errors on samples ``idx`` (empty without 3D ground truth)."""
    if targets.teacher_3d is None or not collection.has_3d or collection.units_3d == "units":
        return {}
    from poselab.metrics.pose import paper000_errors

    res = paper000_errors(targets.teacher_3d[idx], collection.keypoints_3d[idx],
                          collection.skeleton)
    return {f"teacher_{k}": float(res[k]) for k in ("mpjpe", "pa_mpjpe", "depth_error")}


def akhter_metrics(pred: np.ndarray, idx: np.ndarray, collection: PoseCollection,
                   targets: Targets) -> dict[str, float]:
    """Classic NRSfM sequences (3D in arbitrary ``units``): the e3d of Akhter et al.
    (:func:`poselab.metrics.nrsfm.e3d_akhter`) of student and teacher on samples ``idx``."""
    if not collection.has_3d or collection.units_3d != "units" or not len(idx):
        return {}
    from poselab.core.normalize import denormalize_keypoints
    from poselab.metrics.nrsfm import e3d_akhter

    px = denormalize_keypoints(pred, targets.centre[idx], targets.scale[idx])
    out = {"student_e3d_akhter": float(e3d_akhter(collection.keypoints_3d[idx], px))}
    if targets.teacher_3d is not None:
        tpx = denormalize_keypoints(targets.teacher_3d[idx], targets.centre[idx],
                                    targets.scale[idx])
        out["teacher_e3d_akhter"] = float(e3d_akhter(collection.keypoints_3d[idx], tpx))
    return out


def split_metrics(pred: np.ndarray, extra: dict[str, dict], parts: dict[str, np.ndarray],
                  collection: PoseCollection, targets: Targets, teacher_cache: dict,
                  l1_weight: float = 0.3, damping: float = 1e-3) -> dict[str, float]:
    """Per-epoch scores on the training and held-out samples (DeepLabCut/SLEAP style).

    Args:
        pred: ``(n, J, 3)`` normalised student output for ``concatenate(parts.values())``.
        extra: prefix (``""`` for all samples together) → student-specific scores (e.g.
            ``heatmap_err2d_px``).
        parts: prefix (``"train_"``, ``"val_"``) → ``(n_p,)`` sample indices scored.
        teacher_cache: prefix → cached :func:`teacher_metrics` (filled on first use).

    Returns:
        every :func:`student_metrics` key prefixed per part, ``<prefix>count``, and the
        unprefixed keys over all scored samples together (as before the split existed).
    """
    out: dict[str, float] = {}
    start = 0
    all_idx = np.concatenate(list(parts.values())) if parts else np.zeros(0, int)
    for prefix, idx in parts.items():
        sl = pred[start:start + len(idx)]
        start += len(idx)
        out[f"{prefix}count"] = float(len(idx))
        if not len(idx):
            continue
        if prefix not in teacher_cache:
            teacher_cache[prefix] = teacher_metrics(idx, collection, targets)
        scores = {**student_metrics(sl, idx, collection, targets, teacher_cache[prefix],
                                    l1_weight, damping),
                  **akhter_metrics(sl, idx, collection, targets), **extra.get(prefix, {})}
        out.update({prefix + k: v for k, v in scores.items()})
    if len(all_idx):
        if "all" not in teacher_cache:
            teacher_cache["all"] = teacher_metrics(all_idx, collection, targets)
        out.update(student_metrics(pred, all_idx, collection, targets, teacher_cache["all"],
                                   l1_weight, damping))
        out.update(akhter_metrics(pred, all_idx, collection, targets))
        out.update(extra.get("", {}))
    return out
