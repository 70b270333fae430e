"""One entry point for scoring 3D predictions: ``evaluate`` (used by ``poselab eval``, the
training loop and the GUI), plus the 2D-only measures for data without 3D ground truth.

The metric family follows the ground truth (DESIGN.md §7):

- 3D ground truth in a metric unit (``"mm"``, or any unit other than ``"units"``): paper 000's
  protocol — bone-length-scaled MPJPE, PA-MPJPE, depth error, one reflection for the whole set
  (:func:`poselab.metrics.pose.paper000_errors`); shown: ``mpjpe``, ``pa_mpjpe``, ``depth_error``.
- classic NRSfM sequences (``units_3d == "units"``): ``e3d_akhter`` and ``e3d_frame``
  (:mod:`poselab.metrics.nrsfm`), the whole set treated as one sequence in its given order;
  one depth reflection for the whole set for ``e3d_frame``.
- no 3D ground truth: the 2D reprojection error in pixels only (:func:`reprojection_error`).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.skeleton import Skeleton
from poselab.metrics.alignment import (
    check_mask,
    check_pair,
    choose_depth_reflection,
    reflect_depth,
)
from poselab.metrics.nrsfm import e3d_akhter, e3d_frame
from poselab.metrics.pose import mean_bone_length, mpjpe, n_mpjpe, pa_mpjpe, paper000_errors

log = logging.getLogger(__name__)

#: Unit name of the classic NRSfM sequences (mocap units), which selects the NRSfM family.
CLASSIC_UNITS = "units"


def reprojection_error(
    pred_3d: np.ndarray,
    keypoints_2d: np.ndarray,
    visibility: np.ndarray | None = None,
    align: str = "none",
    reduce: bool = True,
) -> float | np.ndarray:
    """Mean 2D distance between the prediction's x, y and the observed landmarks, in pixels.

    ``e_n = mean_{j observed} ‖(s_n x_nj + t_n) − w_nj‖₂`` over joints with ``visibility > 0``
    (DESIGN §2). ``align="none"``: ``s = 1, t = 0`` (prediction in the input's pixels, as the
    teacher's ``keypoints_3d``); ``align="scale_translation"``: per-sample least-squares
    ``s, t`` (for predictions in normalised units; the error stays in pixels).

    Args:
        pred_3d: ``(N, J, 3)`` (or ``(N, J, 2)``) camera frame, x right, y down.
        keypoints_2d: ``(N, J, 2)`` pixels.
        visibility: ``(N, J)`` COCO flags; None = all observed.
        reduce: True → mean over all observed landmarks; False → per sample ``(N,)``
            (NaN where nothing is observed).

    Raises:
        DataError: mismatched shapes or an unknown ``align``.
    """
    p = np.asarray(pred_3d, dtype=np.float64)
    p = p[None] if p.ndim == 2 else p
    w = np.asarray(keypoints_2d, dtype=np.float64)
    w = w[None] if w.ndim == 2 else w
    if p.ndim != 3 or p.shape[-1] not in (2, 3):
        raise DataError(None, f"prediction must be (N, J, 3), got {p.shape}")
    xy, w = check_pair(p[..., :2], w)
    obs = check_mask(None if visibility is None else np.asarray(visibility) > 0, xy.shape)
    m = obs.astype(np.float64)
    if align == "scale_translation":
        cnt = np.maximum(m.sum(1), 1.0)[:, None, None]
        xc = xy - (xy * m[..., None]).sum(1, keepdims=True) / cnt
        wc = w - (w * m[..., None]).sum(1, keepdims=True) / cnt
        num = (xc * wc * m[..., None]).sum((1, 2))
        den = (xc * xc * m[..., None]).sum((1, 2))
        s = np.where(den > 1e-300, num / np.maximum(den, 1e-300), 1.0)
        xy = s[:, None, None] * xc + (w - wc)
    elif align != "none":
        raise DataError(None, f"unknown 2D alignment {align!r} (none | scale_translation)")
    err = np.linalg.norm(xy - w, axis=-1)
    if reduce:
        return float((err * m).sum() / m.sum()) if m.sum() > 0 else float("nan")
    cnt = m.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, (err * m).sum(1) / cnt, np.nan)


def pose_size(poses: np.ndarray, skeleton: Skeleton | None = None) -> np.ndarray:
    """Per-sample size ``(N,)``: mean bone length when the skeleton has bones, else the RMS
    distance of the joints from their centroid."""
    x = np.asarray(poses, dtype=np.float64)
    x = x[None] if x.ndim == 2 else x
    if skeleton is not None and len(skeleton.bones) > 0:
        return mean_bone_length(x, skeleton)
    return np.sqrt(((x - x.mean(1, keepdims=True)) ** 2).sum(-1).mean(1))


def disagreement(
    a_3d: np.ndarray,
    b_3d: np.ndarray,
    skeleton: Skeleton | None = None,
    mask: np.ndarray | None = None,
    reduce: bool = True,
) -> float | np.ndarray:
    """Teacher–student agreement without ground truth: PA-MPJPE of ``b`` aligned onto ``a``,
    divided by ``a``'s size (:func:`pose_size`: mean bone length, or RMS radius).

    ``d_n = PA-MPJPE(b_n → a_n) / size(a_n)`` (Procrustes as in Protocol 2, no reflection);
    dimensionless, so poses in any (normalised) units compare: 0.1 means joints disagree by a
    tenth of a bone on average. Neither pose's scale matters.

    Args:
        a_3d: ``(N, J, 3)`` reference (e.g. the teacher); b_3d: ``(N, J, 3)`` (e.g. student).
        skeleton: gives the bones for the size; mask: ``(N, J)`` joints to compare.
        reduce: True → mean of the per-sample values; False → ``(N,)``.

    Raises:
        DataError: mismatched shapes or NaN.
    """
    a, b = check_pair(a_3d, b_3d)
    per = np.asarray(pa_mpjpe(b, a, reduce=False, mask=mask)) / np.maximum(
        pose_size(a, skeleton), 1e-12)
    return float(np.nanmean(per)) if reduce else per


def _set_reflection(pred, gt, reflection, root, error_fn) -> int:
    """The depth sign for the whole set: chosen by ``error_fn`` ("set"), or given."""
    if reflection == "set":
        return choose_depth_reflection(pred, gt, error_fn, root=root)
    if reflection == "none":
        return 1
    if reflection in (1, -1):
        return int(reflection)
    raise ValueError(f"reflection must be 'set', 'none', +1 or -1, got {reflection!r}")


def _as_ground_truth(gt: Any, units: str | None, skeleton: Skeleton | None):
    """(keypoints_3d or None, units, skeleton, keypoints_2d, visibility) from gt."""
    if isinstance(gt, PoseCollection):
        return (gt.keypoints_3d, units or gt.units_3d, skeleton or gt.skeleton,
                gt.keypoints_2d, gt.visibility)
    if gt is None:
        return None, units, skeleton, None, None
    return np.asarray(gt), units or "mm", skeleton, None, None


def evaluate(
    pred_3d: np.ndarray,
    gt: PoseCollection | np.ndarray | None,
    skeleton: Skeleton | None = None,
    *,
    units: str | None = None,
    pred_units: str | None = None,
    keypoints_2d: np.ndarray | None = None,
    visibility: np.ndarray | None = None,
    root: int = 0,
    reflection: str | int = "set",
    mask: np.ndarray | None = None,
) -> dict[str, Any]:
    """Score predictions with the metric family their ground truth calls for (module doc).

    Args:
        pred_3d: ``(N, J, 3)`` camera frame (x right, y down, z forward), rows matching gt.
        gt: a :class:`PoseCollection` (its ``keypoints_3d``/``units_3d``/2D are used), an
            ``(N, J, 3)`` array in ``units``, or None (no 3D ground truth).
        skeleton: the bones for paper-000 scaling (default: the collection's).
        units: ground-truth unit, overriding the collection's (``"mm"`` for a bare array).
        pred_units: the prediction's unit. ``"px"`` (or None): the 2D reprojection error is
            reported too (x, y vs the observed 2D); other units get it only without 3D ground
            truth, after a per-sample scale + shift. Equal to ``units``: the unscaled
            Protocol-1 MPJPE and N-MPJPE are reported too.
        keypoints_2d, visibility: ``(N, J, 2)`` px / ``(N, J)`` observed 2D (default: the
            collection's), for the reprojection error.
        root: root joint; reflection: see :func:`paper000_errors`; mask: ``(N, J)`` joints
            with ground truth.

    Returns:
        ``{"family": "pose" | "nrsfm" | "reprojection", "units", "num_samples",
        "metrics": {name: float}, "shown": [names to display first], "per_sample": {name:
        (N,) array}}``; the pose and nrsfm families add ``metrics["reflection"]`` (+1/−1,
        the depth sign applied to the whole set; for nrsfm it applies to ``e3d_frame`` —
        ``e3d_akhter``'s own global alignment may already be a reflection, as in Akhter's code).

    Raises:
        DataError: mismatched shapes, no ground truth and no 2D, a skeleton without bones.
    """
    p = np.asarray(pred_3d, dtype=np.float64)
    g3, gunits, skel, w, vis = _as_ground_truth(gt, units, skeleton)
    w = keypoints_2d if keypoints_2d is not None else w
    vis = visibility if visibility is not None else vis
    if p.ndim != 3 or p.shape[-1] != 3:
        raise DataError(None, f"predictions must be (N, J, 3), got {p.shape}")
    out: dict[str, Any] = {"num_samples": int(p.shape[0]), "metrics": {}, "per_sample": {}}
    metrics, per = out["metrics"], out["per_sample"]

    if g3 is not None and gunits == CLASSIC_UNITS:
        out.update(family="nrsfm", units="normalised (dimensionless)",
                   shown=["e3d_akhter", "e3d_frame"])
        per["e3d_akhter"] = e3d_akhter(g3, p, reduce=False)
        metrics["e3d_akhter"] = float(per["e3d_akhter"].mean())
        # e3d_akhter's global alignment may mirror; e3d_frame gets ONE depth sign for the set
        sign = _set_reflection(p, g3, reflection, root,
                               lambda a, b: float(e3d_frame(b, a)))
        per["e3d_frame"] = e3d_frame(g3, reflect_depth(p, sign, root), reduce=False)
        metrics["e3d_frame"] = float(np.nanmean(per["e3d_frame"]))
        metrics["reflection"] = sign
    elif g3 is not None:
        if skel is None:
            raise DataError(None, "paper-000 metrics need a skeleton (bones) for the scaling")
        out.update(family="pose", units=gunits, shown=["mpjpe", "pa_mpjpe", "depth_error"])
        res = paper000_errors(p, g3, skel, root=root, reflection=reflection, reduce=False,
                              mask=mask)
        m = check_mask(mask, p.shape).astype(np.float64)
        for name in ("mpjpe", "pa_mpjpe", "depth_error"):
            per[name] = res[name]
            # joint-weighted set mean (= the plain mean when no joint is masked)
            metrics[name] = float(np.nansum(res[name] * m.sum(1)) / max(m.sum(), 1.0))
        metrics["reflection"] = int(res["reflection"])
        if pred_units is not None and pred_units == gunits:
            per["mpjpe_unscaled"] = mpjpe(p, g3, root=root, reduce=False, mask=mask)
            per["n_mpjpe"] = n_mpjpe(p, g3, root=root, reduce=False, mask=mask)
            for name in ("mpjpe_unscaled", "n_mpjpe"):
                metrics[name] = float(np.nansum(per[name] * m.sum(1)) / max(m.sum(), 1.0))
    else:
        if w is None:
            raise DataError(None, "nothing to compare with: no 3D ground truth and no 2D")
        out.update(family="reprojection", units="px", shown=["reprojection_px"])

    # 2D error: for pixel predictions (the teacher), or as the only measure without 3D
    if w is not None and (pred_units in (None, "px") or out["family"] == "reprojection"):
        align = "none" if pred_units in (None, "px") else "scale_translation"
        per["reprojection_px"] = reprojection_error(p, w, vis, align=align, reduce=False)
        metrics["reprojection_px"] = reprojection_error(p, w, vis, align=align, reduce=True)
    return out
