"""Everything the app's metrics panel shows, computed in one call (numpy, no Qt; the GUI runs
it in a worker and only formats the result).

- Scores of each 3D source (:func:`poselab.metrics.summary.evaluate`): with 3D ground truth
  MPJPE, PA-MPJPE, depth error in its unit; without, the 2D reprojection error (px) of the
  *student* (the teacher's output lies on the observed rays: its own reprojection is ~0 by
  construction and is not shown).
- Teacher–student disagreement in % of the teacher's mean bone length (scale-free).
- Trust without ground truth (:func:`poselab.metrics.quality.quality`) for the teacher.
- With a known length (:mod:`poselab.core.metric_scale`): mm per pixel unit of every sample, so
  uncertainties are also given in mm and predictions are scored in mm.

Samples without 3D in some source (excluded when it was made) are left out of every score and
get NaN per-sample values.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from poselab.core.collection import PoseCollection

log = logging.getLogger(__name__)

#: Unit of each score by name; ``"gt"`` = the ground truth's unit.
SCORE_UNITS = {"mpjpe": "gt", "pa_mpjpe": "gt", "depth_error": "gt", "mpjpe_unscaled": "gt",
               "n_mpjpe": "gt", "reprojection_px": "px", "e3d_akhter": "no unit",
               "e3d_frame": "no unit", "disagreement_pct": "% of bone length"}


def _scatter(values: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, np.nan)
    out[rows] = np.asarray(values, float)
    return out


def app_report(collection: PoseCollection, sources: dict[str, np.ndarray],
               units: dict[str, str], teacher=None, known=None) -> dict[str, Any]:
    """Scores, disagreement, GT-free quality and metric scale for the metrics panel.

    Args:
        collection: the open :class:`PoseCollection` (N samples; 2D, maybe 3D truth).
        sources: ``{"teacher": (N, J, 3), "student": (N, J, 3)}`` camera frame, NaN rows where
            a source has no 3D for a sample.
        units: each source's unit (``"px"``).
        teacher: the :class:`~poselab.nrsfm.result.NRSfMResult` behind ``sources["teacher"]``
            (its samples may be a subset), for the quality measures; or None.
        known: a :class:`~poselab.core.metric_scale.KnownLength`, or None (relative units).

    Returns:
        ``{"family", "units" (ground truth's), "set": {source: {name: float}}, "per_sample":
        {source: {name: (N,)}}, "shown": [names], "score_units": {name: unit},
        "quality": {"set", "per_sample", "units", "rank_by"} or None, "mm_per_unit": (N,) or
        None, "frame_mm": str or None, "known": str or None}``.
    """
    from poselab.metrics.summary import disagreement, evaluate

    n = len(collection)
    preds = {k: np.asarray(v, float) for k, v in sources.items() if k != "ground truth"}
    out: dict[str, Any] = {"set": {}, "per_sample": {}, "shown": [], "family": "", "units": "",
                           "quality": None, "mm_per_unit": None, "frame_mm": None,
                           "known": None}
    ok = np.ones(n, bool)
    for v in preds.values():
        ok &= np.isfinite(v).all((1, 2))
    rows = np.flatnonzero(ok)
    sub = collection if rows.size == n else collection.subset(rows)

    factors = None
    if known is not None and preds:
        from poselab.core.metric_scale import scale_factors, to_metric

        base = preds.get("teacher", next(iter(preds.values())))
        try:
            factors = scale_factors(base, collection.skeleton, known)
            out["mm_per_unit"], out["known"] = factors, known.describe()
        except Exception as err:  # noqa: BLE001 - a bad length must not hide the scores
            log.warning("metric scale failed: %s", err)
    for name, pred in preds.items():
        p, pu = pred[rows], units.get(name)
        if factors is not None and pu == "px":
            p, out["frame_mm"] = to_metric(p, factors[rows], None if collection.intrinsics is None
                                           else collection.intrinsics[rows])
            pu = "mm"
        if not rows.size:
            continue
        try:
            r = evaluate(p, sub, pred_units=pu)
        except Exception as err:  # noqa: BLE001 - one bad source must not hide the others
            log.warning("metrics for %s failed: %s", name, err)
            continue
        out["family"], out["units"] = r.get("family", ""), r.get("units", "")
        metrics = {k: float(v) for k, v in r.get("metrics", {}).items()
                   if isinstance(v, int | float | np.floating) and k != "reflection"}
        per = {k: _scatter(v, rows, n) for k, v in r.get("per_sample", {}).items()}
        if name == "teacher" and out["family"] == "reprojection":  # ~0 by construction
            metrics.pop("reprojection_px", None)
            per.pop("reprojection_px", None)
        out["set"][name], out["per_sample"][name] = metrics, per
        for m in list(r.get("shown") or metrics):
            if m in metrics and m not in out["shown"]:
                out["shown"].append(m)
    if "teacher" in preds and "student" in preds and rows.size:
        try:
            d = 100.0 * np.asarray(disagreement(preds["teacher"][rows], preds["student"][rows],
                                                collection.skeleton, reduce=False), float)
            out["set"].setdefault("student", {})["disagreement_pct"] = float(np.nanmean(d))
            out["per_sample"].setdefault("student", {})["disagreement_pct"] = _scatter(d, rows, n)
            out["shown"].append("disagreement_pct")
        except Exception as err:  # noqa: BLE001
            log.warning("disagreement failed: %s", err)
    out["set"] = {k: v for k, v in out["set"].items() if v}
    out["score_units"] = {m: (out["units"] if SCORE_UNITS.get(m) == "gt" else
                              SCORE_UNITS.get(m, "")) for m in out["shown"]}
    if teacher is not None:
        out["quality"] = _teacher_quality(collection, teacher, factors)
    return out


def _teacher_quality(collection: PoseCollection, teacher, factors) -> dict[str, Any] | None:
    from poselab.metrics.quality import quality

    where = {s: i for i, s in enumerate(collection.sample_ids)}
    rows = np.asarray([where.get(s, -1) for s in teacher.sample_ids], int)
    if (rows < 0).any():
        log.warning("the teacher has samples the data does not; no quality measures")
        return None
    try:
        q = quality(teacher, collection.keypoints_2d[rows], collection.visibility[rows],
                    collection.skeleton, None if factors is None else factors[rows])
    except Exception as err:  # noqa: BLE001
        log.warning("quality measures failed: %s", err)
        return None
    n = len(collection)
    q["per_sample"] = {k: _scatter(v, rows, n) for k, v in q["per_sample"].items()}
    std = getattr(teacher, "keypoints_3d_std", None)
    q["joint_std_rel"] = None
    if std is not None:  # (N, J) per-joint uncertainty / sample size, for colouring joints
        from poselab.metrics.quality import pose_scale

        size = pose_scale(np.asarray(teacher.keypoints_3d, float), collection.skeleton)
        rel = np.full((n, collection.num_joints), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel[rows] = np.asarray(std, float) / size[:, None]
        q["joint_std_rel"] = rel
    return q
