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
