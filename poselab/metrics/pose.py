"""Pose errors with ground truth in a metric unit (DESIGN.md §7): MPJPE, PA-MPJPE, N-MPJPE and
the paper-000 protocol (bone-length scaling, depth error, one reflection for the whole set).

Inputs are ``(N, J, 3)`` poses in the camera frame (x right, y down, z forward); errors come out
in the ground truth's unit (millimetres for mocap17). ``reduce=True`` returns the mean over all
(unmasked) joints of all samples; ``reduce=False`` the per-sample mean ``(N,)`` (the GUI shows
per-sample metrics; NaN for a sample whose every joint is masked out). ``mask`` ``(N, J)`` bool
marks the joints to score (e.g. joints with ground truth); alignments are fitted on them only.
"""

from __future__ import annotations

import logging

import numpy as np

from poselab.core.errors import DataError
from poselab.core.skeleton import Skeleton
from poselab.metrics.alignment import (
    best_scale,
    check_mask,
    check_pair,
    choose_depth_reflection,
    procrustes_align,
    reflect_depth,
    root_align,
)

log = logging.getLogger(__name__)


def _reduce(err: np.ndarray, mask: np.ndarray, reduce: bool) -> float | np.ndarray:
    """Mean of ``err`` ``(N, J)`` over masked joints: a float, or per sample ``(N,)``."""
    w = mask.astype(np.float64)
    if reduce:
        total = w.sum()
        return float((err * w).sum() / total) if total > 0 else float("nan")
    count = w.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (err * w).sum(1) / count, np.nan)


def mpjpe(pred: np.ndarray, gt: np.ndarray, root: int = 0, reduce: bool = True,
          mask: np.ndarray | None = None) -> float | np.ndarray:
    """Mean per-joint position error after aligning the root joint (Human3.6M Protocol 1).

    ``MPJPE = mean_{n,j} ‖(pred_nj − pred_n,root) − (gt_nj − gt_n,root)‖₂``
    (Ionescu et al., "Human3.6M", TPAMI 2014, Eq. 8 with root alignment).

    Args:
        pred, gt: ``(N, J, 3)`` (or ``(J, 3)``) camera frame, the same unit (e.g. mm).
        root: root joint index; reduce: see module doc; mask: ``(N, J)`` joints to score.

    Returns:
        float, or ``(N,)`` float64 with ``reduce=False``; in gt's unit.

    Raises:
        DataError: mismatched shapes, NaN, or a mask of the wrong shape.
    """
    p, g = check_pair(pred, gt)
    m = check_mask(mask, p.shape)
    err = np.linalg.norm(root_align(p, root) - root_align(g, root), axis=-1)
    return _reduce(err, m, reduce)


def pa_mpjpe(pred: np.ndarray, gt: np.ndarray, reduce: bool = True,
             mask: np.ndarray | None = None) -> float | np.ndarray:
    """MPJPE after the best similarity transform per sample, reflection NOT allowed (Protocol 2).

    ``PA-MPJPE = mean_{n,j} ‖s_n R_n pred_nj + t_n − gt_nj‖₂`` with ``(s, R, t)`` from
    :func:`poselab.metrics.alignment.similarity_transform` (Umeyama 1991, Eq. 40–42),
    ``det R = +1``: a mirrored prediction is an error, not a perfect match.

    Args:
        pred, gt: ``(N, J, 3)``, same unit; mask: ``(N, J)`` joints fitted and scored.

    Returns:
        float, or ``(N,)`` with ``reduce=False``; in gt's unit.
    """
    p, g = check_pair(pred, gt)
    m = check_mask(mask, p.shape)
    aligned = procrustes_align(p, g, mask=m, scale=True, allow_reflection=False)
    return _reduce(np.linalg.norm(aligned - g, axis=-1), m, reduce)


def n_mpjpe(pred: np.ndarray, gt: np.ndarray, root: int = 0, reduce: bool = True,
            mask: np.ndarray | None = None) -> float | np.ndarray:
    """MPJPE after root alignment and the best per-sample scale only (N-MPJPE).

    ``s_n = ⟨p̄_n, ḡ_n⟩ / ⟨p̄_n, p̄_n⟩`` on root-aligned poses ``p̄, ḡ``; error
    ``mean ‖s_n p̄_nj − ḡ_nj‖`` (Rhodin et al., CVPR 2018, §4).

    Returns:
        float, or ``(N,)`` with ``reduce=False``; in gt's unit.
    """
    p, g = check_pair(pred, gt)
    m = check_mask(mask, p.shape)
    pr, gr = root_align(p, root), root_align(g, root)
    s = best_scale(pr, gr, m)
    return _reduce(np.linalg.norm(s[:, None, None] * pr - gr, axis=-1), m, reduce)


def mean_bone_length(poses: np.ndarray, skeleton: Skeleton,
                     mask: np.ndarray | None = None) -> np.ndarray:
    """Per-sample mean length of the skeleton's bones ``(N,)``.

    Args:
        poses: ``(N, J, 3)``; skeleton: its ``bones`` (parent, child) are measured;
        mask: ``(N, J)``: a bone counts only when both its joints are True.

    Raises:
        DataError: the skeleton has no bones or a different joint count.
    """
    x = np.asarray(poses, dtype=np.float64)
    if x.ndim == 2:
        x = x[None]
    bones = skeleton.bones_array
    if len(bones) == 0:
        raise DataError(None, f"skeleton {skeleton.name!r} has no bones to measure")
    if x.shape[1] != skeleton.num_joints:
        raise DataError(None, f"poses have {x.shape[1]} joints, skeleton {skeleton.name!r} "
                              f"has {skeleton.num_joints}")
    m = check_mask(mask, x.shape)
    lengths = np.linalg.norm(x[:, bones[:, 1]] - x[:, bones[:, 0]], axis=-1)  # (N, E)
    valid = (m[:, bones[:, 0]] & m[:, bones[:, 1]]).astype(np.float64)
    count = valid.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (lengths * valid).sum(1) / count, np.nan)


def bone_length_scale(pred: np.ndarray, gt: np.ndarray, skeleton: Skeleton,
                      mask: np.ndarray | None = None) -> np.ndarray:
    """Per-sample factor making pred's mean bone length equal gt's (paper 000 §5.1) ``(N,)``.

    Paper 000 (Wang et al. 2019, "Distill Knowledge from NRSfM for Weakly Supervised 3D Pose
    Learning", §5.1) scales predictions this way "following Sun et al. 2018" before MPJPE.
    Returns 1 for a sample whose prediction has zero (or undefined) bone length.
    """
    lp = mean_bone_length(pred, skeleton, mask)
    lg = mean_bone_length(gt, skeleton, mask)
    ok = np.isfinite(lp) & np.isfinite(lg) & (lp > 1e-12)
    return np.where(ok, lg / np.where(ok, lp, 1.0), 1.0)


def paper000_errors(
    pred: np.ndarray,
    gt: np.ndarray,
    skeleton: Skeleton,
    root: int = 0,
    reflection: str | int = "set",
    reduce: bool = True,
    mask: np.ndarray | None = None,
) -> dict:
    """The evaluation protocol of paper 000 §5.1: bone-length scaling, MPJPE, PA-MPJPE, depth.

    Per sample n: ``p̂_n = c_n · (pred_n − pred_n,root)`` with ``c_n`` =
    mean bone length of gt / of pred (:func:`bone_length_scale`), ``ḡ_n = gt_n − gt_n,root``;
    ``mpjpe = mean_j ‖p̂_nj − ḡ_nj‖``, ``depth_error = mean_j |ẑ_nj − z̄_nj|`` (both over all
    joints, the root counting with zero error), ``pa_mpjpe`` = :func:`pa_mpjpe` of ``p̂`` (its
    scale is refitted, so the bone scaling does not change it). Paper 000 follows Sun et al.,
    "Integral Human Pose Regression", ECCV 2018 for the scaling.

    The depth sign is ambiguous for any reconstruction from 2D (DESIGN §4), so ONE reflection
    ``z → −z`` (about the root's depth) is chosen for the whole set:

    - ``"set"``: the sign with the lower set-mean MPJPE (never per sample);
    - ``"none"`` or ``+1``: keep; ``−1``: mirror every sample.

    Args:
        pred, gt: ``(N, J, 3)`` camera frame (x right, y down, z forward); ``gt`` in mm for
            mocap17 (the unit of the results).
        skeleton: gives the bones for the scaling.
        root: root joint index (Hip = 0 for h36m17).
        reduce: True: set means (floats); False: per-sample ``(N,)`` arrays.
        mask: ``(N, J)`` bool joints with ground truth (fits and means use only these).

    Returns:
        ``{"mpjpe", "pa_mpjpe", "depth_error"}`` (floats or ``(N,)`` arrays, gt's unit) and
        ``"reflection"`` (+1 or −1, the sign applied to the whole set).

    Raises:
        DataError: mismatched shapes, NaN, skeleton without bones or of another joint count;
            ValueError: an unknown ``reflection``.
    """
    p, g = check_pair(pred, gt)
    if p.shape[-1] != 3:
        raise DataError(None, f"paper-000 errors need 3D poses, got {p.shape}")
    m = check_mask(mask, p.shape)
    gr = root_align(g, root)

    def scaled(x: np.ndarray) -> np.ndarray:
        xr = root_align(x, root)
        return xr * bone_length_scale(xr, gr, skeleton, m)[:, None, None]

    if reflection == "set":
        sign = choose_depth_reflection(
            p, g, lambda a, b: mpjpe(scaled(a), b, root=root, mask=m), root=root)
    elif reflection == "none":
        sign = 1
    elif reflection in (1, -1):
        sign = int(reflection)
    else:
        raise ValueError(f"reflection must be 'set', 'none', +1 or -1, got {reflection!r}")
    ps = scaled(reflect_depth(p, sign, root))
    depth = np.abs(ps[..., 2] - gr[..., 2])
    return {
        "mpjpe": _reduce(np.linalg.norm(ps - gr, axis=-1), m, reduce),
        "pa_mpjpe": pa_mpjpe(ps, gr, reduce=reduce, mask=m),
        "depth_error": _reduce(depth, m, reduce),
        "reflection": sign,
    }
