"""How far to trust a teacher's 3D without ground truth (issue 18): per-sample and whole-set
measures computed from the result and the 2D alone. numpy only.

The teacher's output ``keypoints_3d`` lies on the observed rays, so its own 2D reprojection error
is ~0 by construction and says nothing. These say more:

- **network reprojection error** (px): RMS distance between the observed 2D and the network's
  own shape (``shapes_normalized``) before it is moved onto the rays
  (``NRSfMResult.reprojection_error_network`` when saved, else :func:`network_reprojection`).
  Large = the shape model could not explain this sample's 2D.
- **uncertainty** (% of the sample's mean bone length, scale-free): the mean over joints of the
  teacher's per-joint uncertainty ``keypoints_3d_std`` (units of ``keypoints_3d``) divided by
  the sample's mean bone length (or RMS radius without bones) — :func:`relative_uncertainty`.
- **bone-length deviation** (%, scale-free): how far the sample's bone proportions are from the
  set's median proportions — :func:`bone_length_deviation`; for the set, the median over bones
  of the coefficient of variation of the proportions.
- **least-certain score** (percentile): :func:`least_certain_score`, what "least certain first"
  sorts by — measured against ground truth on the demo collection, unlike the teacher's own
  uncertainty, which there ranked the better samples first.
- **restart spread** (no unit): the NRSfM restarts' shape distance (``extra["consensus"]`` of the
  kept restart, mean relative Frobenius distance of the shapes); larger = restarts found different
  3D. **noise σ** (px): the 2D label noise the teacher estimated (``extra["noise_px"]``).
  **smoothed over** (samples): the Gaussian width by which a noisy sequence's labels were smoothed
  along it before the teacher was fitted again, or its network trained on them for a short set of
  bodies (``extra["sequence_smoothing"]``; absent when they were not). **noise after denoising**
  (px): the label noise left once each label was averaged with its prediction from the other
  landmarks (:mod:`poselab.nrsfm.denoise`; ``extra["label_denoising"]["noise_left"]``; absent when
  the labels were not denoised). **suspect labels** (landmarks, per sample and in all): labels
  that look like gross errors, far from where the teacher's network and the sample's other
  landmarks put them (:mod:`poselab.nrsfm.outliers`; ``extra["label_outliers"]``; absent when
  there were none) — the ones to look at and correct; they include the landmarks of samples whose
  left and right labels look swapped for some limbs (:mod:`poselab.nrsfm.swaps`;
  ``extra["label_swaps"]``), counted in all under **left/right swaps suspected** (samples).
  **hidden landmarks predicted to** (% of body radius): the typical error of the predictions of
  unlabelled landmarks that the teacher's encoder was shown (:mod:`poselab.nrsfm.completion`,
  measured on labelled landmarks of samples its predictor did not train on; absent when none were
  shown). **depth-mirrored samples turned** (samples): output samples that came out as the depth
  mirror of the rest and were given their mirror (``extra["output_mirrored"]``;
  :mod:`poselab.nrsfm.reflection`, :mod:`poselab.nrsfm.output_signs`; absent when none). **code
  kept** (atoms) and **depth roughness** (no unit): a short sequence of many points is fitted with
  codes of 8 and 16 atoms and the fit whose depth moves more smoothly along the frames kept — its
  code size and its depth's frame-to-frame acceleration over its 2D's
  (:mod:`poselab.nrsfm.code_choice`; ``extra["code_choice"]``; absent when fitted once). **depth
  moved by the low-rank polish** (px, RMS): how far a short sequence's output depth moved when
  made low-rank (:mod:`poselab.nrsfm.low_rank`; ``extra["low_rank"]``; absent when not polished).

:func:`quality` gathers them (set + per sample) with units in :data:`UNITS`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from poselab.core.errors import DataError
from poselab.core.skeleton import Skeleton

#: Unit of every quality measure (shown next to each number).
UNITS = {"reprojection_network_px": "px", "uncertainty_pct": "% of bone length",
         "bone_deviation_pct": "%", "restart_spread": "no unit", "noise_px": "px",
         "uncertainty_mm": "mm", "reprojection_network_rel_pct": "% of landmark box",
         "least_certain_score": "percentile", "smoothing_samples": "samples",
         "denoised_noise_px": "px", "suspect_labels": "landmarks",
         "completion_error_pct": "% of body radius", "suspect_swaps": "samples",
         "mirrored_turned": "samples", "code_atoms": "atoms", "depth_roughness": "no unit",
         "depth_spread": "no unit", "low_rank_depth_px": "px"}


def network_reprojection(shapes_normalized: np.ndarray, centre: np.ndarray, scale: np.ndarray,
                         keypoints_2d: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """RMS 2D distance (px) between the observed landmarks and the network's shapes.

    ``x̂_nj = s_n S_nj[x, y] + c_n + t_n`` with ``S`` the camera-frame shape in normalised units
    (DESIGN §3: box centre ``c_n`` px, larger box side ``s_n`` px) and ``t_n`` the per-sample 2D
    shift that best fits (the shape is centred); ``e_n = sqrt(mean_{j observed} ‖x̂_nj − w_nj‖²)``.
    Orthographic (weak perspective); for perspective results it is an approximation.

    Args:
        shapes_normalized: ``(N, J, 3)`` camera frame, normalised units.
        centre: ``(N, 2)`` px; scale: ``(N,)`` px.
        keypoints_2d: ``(N, J, 2)`` px; visibility: ``(N, J)`` COCO flags.

    Returns:
        ``(N,)`` float64 px; NaN where nothing is observed.

    Raises:
        DataError: mismatched shapes.
    """
    S = np.asarray(shapes_normalized, np.float64)
    w = np.asarray(keypoints_2d, np.float64)
    if S.ndim != 3 or S.shape[:2] != w.shape[:2]:
        raise DataError(None, f"shapes {S.shape} and 2D {w.shape} do not match")
    obs = (np.asarray(visibility) > 0).astype(np.float64)
    xy = S[..., :2] * np.asarray(scale, np.float64)[:, None, None] + np.asarray(
        centre, np.float64)[:, None, :]
    cnt = obs.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = ((w - xy) * obs[..., None]).sum(1) / cnt[:, None]
        d2 = (((xy + shift[:, None]) - w) ** 2).sum(-1)
        return np.where(cnt > 0, np.sqrt((d2 * obs).sum(1) / cnt), np.nan)


def pose_scale(keypoints_3d: np.ndarray, skeleton: Skeleton | None) -> np.ndarray:
    """Per-sample size ``(N,)`` in the poses' units: mean bone length, else RMS radius."""
    x = np.asarray(keypoints_3d, np.float64)
    if skeleton is not None and len(skeleton.bones):
        b = skeleton.bones_array
        return np.linalg.norm(x[:, b[:, 1]] - x[:, b[:, 0]], axis=-1).mean(1)
    return np.sqrt(((x - x.mean(1, keepdims=True)) ** 2).sum(-1).mean(1))


def relative_uncertainty(keypoints_3d_std: np.ndarray, keypoints_3d: np.ndarray,
                         skeleton: Skeleton | None) -> np.ndarray:
    """``(N,)`` mean per-joint uncertainty in % of the sample's size (:func:`pose_scale`).

    Args:
        keypoints_3d_std: ``(N, J)`` per-joint uncertainty, units of ``keypoints_3d``.
        keypoints_3d: ``(N, J, 3)``.
    """
    std = np.asarray(keypoints_3d_std, np.float64)
    size = pose_scale(keypoints_3d, skeleton)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * std.mean(1) / np.where(size > 0, size, np.nan)


def bone_length_deviation(keypoints_3d: np.ndarray, skeleton: Skeleton
                          ) -> tuple[np.ndarray, float]:
    """Consistency of bone proportions across samples (scale-free; rigid bodies: near 0).

    Each sample's bone lengths are divided by their mean (proportions ``r_nb``); with ``m_b``
    the median over samples, ``dev_n = 100 · mean_b |r_nb / m_b − 1|`` and the set value is
    ``100 · median_b (std_n r_nb / mean_n r_nb)`` (coefficient of variation).

    Args:
        keypoints_3d: ``(N, J, 3)`` any units; skeleton: its bones.

    Returns:
        ``(dev (N,) %, set CV %)``; NaN without bones.
    """
    x = np.asarray(keypoints_3d, np.float64)
    if not len(skeleton.bones):
        return np.full(len(x), np.nan), float("nan")
    b = skeleton.bones_array
    L = np.linalg.norm(x[:, b[:, 1]] - x[:, b[:, 0]], axis=-1)  # (N, E)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = L / L.mean(1, keepdims=True)
        m = np.median(r, 0)
        dev = 100.0 * np.abs(r / m - 1.0).mean(1)
        cv = 100.0 * float(np.median(r.std(0) / r.mean(0)))
    return dev, cv


def restart_spread(extra: dict[str, Any]) -> float:
    """The kept restart's consensus distance to the others (no unit), NaN with one restart."""
    consensus = extra.get("consensus")
    sel = extra.get("selected")
    if not consensus or sel is None or len(consensus) < 2:
        return float("nan")
    return float(consensus[int(sel)])


def quality(result, keypoints_2d: np.ndarray, visibility: np.ndarray,
            skeleton: Skeleton | None = None, mm_per_unit: np.ndarray | None = None
            ) -> dict[str, Any]:
    """GT-free quality of a teacher result on its own samples.

    Args:
        result: an :class:`~poselab.nrsfm.result.NRSfMResult` (N samples); the optional
            ``keypoints_3d_std`` and ``reprojection_error_network`` are used when present.
        keypoints_2d, visibility: ``(N, J, 2)`` px / ``(N, J)`` of the same samples.
        skeleton: bones (default: the result's).
        mm_per_unit: ``(N,)`` millimetres per unit of ``keypoints_3d`` when a length is known
            (:mod:`poselab.core.metric_scale`): adds ``uncertainty_mm``.

    Returns:
        ``{"set": {name: float}, "per_sample": {name: (N,) float64}, "units": UNITS,
        "rank_by": "least_certain_score"}`` with names from :data:`UNITS`;
        ``per_sample["least_certain_score"]`` (:func:`least_certain_score`) ranks "least
        certain first".
    """
    sk = skeleton or result.skeleton
    k3 = np.asarray(result.keypoints_3d, np.float64)
    per: dict[str, np.ndarray] = {}
    out_set: dict[str, float] = {}
    net = getattr(result, "reprojection_error_network", None)
    if net is None:
        net = network_reprojection(result.shapes_normalized, result.centre, result.scale,
                                   keypoints_2d, visibility)
    per["reprojection_network_px"] = np.asarray(net, np.float64)
    std = getattr(result, "keypoints_3d_std", None)
    if std is not None:
        per["uncertainty_pct"] = relative_uncertainty(std, k3, sk)
        if mm_per_unit is not None:
            per["uncertainty_mm"] = np.asarray(std, np.float64).mean(1) * np.asarray(
                mm_per_unit, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):  # the shape model's 2D misfit
        per["reprojection_network_rel_pct"] = 100.0 * per["reprojection_network_px"] / (
            np.asarray(result.scale, np.float64))
    if sk is not None and len(sk.bones):
        per["bone_deviation_pct"], out_set["bone_deviation_pct"] = bone_length_deviation(k3, sk)
    per["least_certain_score"] = least_certain_score(
        per["reprojection_network_rel_pct"], per.get("bone_deviation_pct"))
    extra = getattr(result, "extra", {}) or {}
    suspect = extra.get("label_outliers") or {}
    swaps = extra.get("label_swaps") or {}
    if suspect.get("count") or swaps.get("count"):
        # labels that look like gross errors (outliers.py) or left/right swaps (swaps.py)
        counts = np.bincount(np.asarray(suspect.get("samples", []), int),
                             minlength=len(k3)).astype(np.float64)
        for i, pairs in zip(swaps.get("samples", []), swaps.get("pairs", []), strict=True):
            counts[i] += 2 * len(pairs)
        per["suspect_labels"] = counts
        out_set["suspect_labels"] = float(counts.sum())
        if swaps.get("count"):
            out_set["suspect_swaps"] = float(swaps["count"])
    for name, arr in per.items():
        if name not in out_set:
            out_set[name] = float(np.nanmean(arr)) if np.isfinite(arr).any() else float("nan")
    out_set["restart_spread"] = restart_spread(extra)
    if extra.get("noise_px") is not None:
        out_set["noise_px"] = float(extra["noise_px"])
    if (extra.get("sequence_smoothing") or {}).get("samples"):
        out_set["smoothing_samples"] = float(extra["sequence_smoothing"]["samples"])
    denoised = (extra.get("label_denoising")
                or (extra.get("sequence_smoothing") or {}).get("denoised") or {})
    if denoised.get("noise_left") is not None:
        out_set["denoised_noise_px"] = float(denoised["noise_left"])
    if extra.get("output_mirrored"):  # samples given their depth mirror (output_signs.py)
        out_set["mirrored_turned"] = float(extra["output_mirrored"])
    code = extra.get("code_choice") or {}
    if code:  # a short sequence of many points fitted with two codes (code_choice.py)
        kept = int(code["kept"])
        out_set["code_atoms"] = float(code["dict_sizes"][kept][-1])
        out_set["depth_roughness"] = float(code["depth_roughness"][kept])
        if code.get("depth_spread"):  # RMS depth over RMS x, y (session 34 on)
            out_set["depth_spread"] = float(code["depth_spread"][kept])
    if extra.get("low_rank"):  # a short sequence's depth made low-rank (low_rank.py)
        out_set["low_rank_depth_px"] = float(extra["low_rank"]["depth_change_px"])
    completed = extra.get("hidden_completion") or {}
    if completed.get("used"):  # hidden landmarks predicted for the encoder (completion.py)
        out_set["completion_error_pct"] = 100.0 * float(completed["relative_error"])
    out_set.pop("least_certain_score", None)
    return {"set": out_set, "per_sample": per, "units": dict(UNITS),
            "rank_by": "least_certain_score"}


def least_certain_score(reprojection_rel: np.ndarray, bone_deviation: np.ndarray | None = None
                        ) -> np.ndarray:
    """``(N,)`` score in percentiles (0–100, larger = less certain): the mean of the samples'
    percentile ranks by the network's 2D reprojection error (% of the landmark box) and by the
    bone-length deviation (when the skeleton has bones). NaN inputs rank lowest.

    Chosen on samples 0–999 of the demo collection against the teacher's MPJPE (Spearman 0.45;
    network reprojection alone 0.36, bone deviation alone 0.41, the teacher's
    ``keypoints_3d_std`` of that older teacher −0.19; since issue 15's per-sample prior it
    ranks real errors on held-out h36m S7/S8, Spearman 0.30–0.37, but it was not re-chosen
    here); on samples 1000–1999:
    Spearman 0.40, and the 10 % it ranks least certain have MPJPE 71.5 mm against 41.7 mm for
    the rest (``scripts/bench_trust.py``, teacher of ``scripts/screenshot.py``'s demo tour).
    """
    from scipy.stats import rankdata

    def pct(v):
        v = np.nan_to_num(np.asarray(v, np.float64), nan=-np.inf)
        return 100.0 * (rankdata(v) - 1) / max(len(v) - 1, 1)

    parts = [pct(reprojection_rel)]
    if bone_deviation is not None and np.isfinite(bone_deviation).any():
        parts.append(pct(bone_deviation))
    return np.mean(parts, 0)
