"""Inputs of the teacher: validation and normalisation of 2D landmarks (DESIGN.md §3).

Only 2D, visibility and (optionally) intrinsics are read. Ground-truth 3D is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poselab.core.errors import DataError
from poselab.core.normalize import bbox_normalization


@dataclass
class NRSfMInputs:
    """Normalised 2D ready for the network (numpy, float32).

    Attributes:
        n: ``(N, J, 2)`` normalised coordinates ``(x − c)/s`` (perspective: ray-normalised
            ``(r − r_c)/σ``, equal to the former when fx = fy); 0 where unobserved.
        mask: ``(N, J)`` 1.0 where observed (``visibility > 0``).
        centre: ``(N, 2)`` pixels; scale: ``(N,)`` pixels (bounding box, DESIGN §3).
        sigma: ``(N,)`` box side / focal length (0 for weak perspective).
        ray_centre: ``(N, 2)`` ray of the box centre ``K⁻¹ c`` (0 for weak perspective).
        camera_model: ``"weak_perspective"`` or ``"perspective"``.
        completion: ``(N, J, 2)`` predicted normalised 2D of unobserved landmarks (NaN at
            observed ones) shown to the encoder in their place
            (:mod:`poselab.nrsfm.completion`), or None: the encoder sees them as missing.
            Never a label: losses and the output step use ``n`` and ``mask`` only.
    """

    n: np.ndarray
    mask: np.ndarray
    centre: np.ndarray
    scale: np.ndarray
    sigma: np.ndarray
    ray_centre: np.ndarray
    camera_model: str
    completion: np.ndarray | None = None


def prepare_inputs(keypoints_2d: np.ndarray, visibility: np.ndarray | None,
                   intrinsics: np.ndarray | None, camera_model: str = "auto",
                   source: str | Path | None = None, min_samples: int = 2) -> NRSfMInputs:
    """Check and normalise 2D landmarks for the teacher.

    Args:
        keypoints_2d: ``(N, J, 2)`` pixels. visibility: ``(N, J)`` COCO 0/1/2 or None (all
            finite landmarks observed). intrinsics: ``(N, 3, 3)`` or ``(3, 3)`` pixels, or None.
        camera_model: ``"auto"`` (perspective iff intrinsics), ``"weak_perspective"``,
            ``"perspective"``.
        source: file named in errors. min_samples: fewest samples accepted.

    Raises:
        DataError: wrong shapes, fewer than ``min_samples`` samples, NaN/inf in an observed
            landmark, a sample with fewer than 2 observed landmarks or a degenerate box,
            perspective requested without intrinsics.
    """
    kp = np.asarray(keypoints_2d, np.float64)
    if kp.ndim != 3 or kp.shape[-1] != 2:
        raise DataError(source, f"keypoints_2d must have shape (N, J, 2), got {kp.shape}")
    N, J = kp.shape[:2]
    if N < min_samples:
        raise DataError(source, f"NRSfM needs at least {min_samples} samples, got {N}")
    if J < 3:
        raise DataError(source, f"NRSfM needs at least 3 landmarks per sample, got {J}")
    if visibility is None:
        obs = np.isfinite(kp).all(-1)
    else:
        vis = np.asarray(visibility)
        if vis.shape != (N, J):
            raise DataError(source, f"visibility must have shape ({N}, {J}), got {vis.shape}")
        obs = vis > 0
    bad = obs & ~np.isfinite(kp).all(-1)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(source, f"landmark {j} of sample {i} is NaN or infinite "
                                f"({int(bad.sum())} such landmarks)")
    few = obs.sum(1) < 2
    if few.any():
        raise DataError(source, f"sample {int(np.argmax(few))} has fewer than 2 observed "
                                f"landmarks ({int(few.sum())} such samples); remove it or label it")
    kp = np.where(obs[..., None], kp, 0.0)
    try:
        centre, scale = bbox_normalization(kp, obs)
    except DataError as err:
        raise DataError(source, err.problem) from None
    n = (kp - centre[:, None, :]) / scale[:, None, None]
    sigma = np.zeros(N, np.float32)
    ray_centre = np.zeros((N, 2), np.float32)
    model = camera_model
    if model == "auto":
        model = "perspective" if intrinsics is not None else "weak_perspective"
    if model == "perspective":
        if intrinsics is None:
            raise DataError(source, "the perspective camera model needs intrinsics (K)")
        K = np.asarray(intrinsics, np.float64)
        K = np.broadcast_to(K, (N, 3, 3)) if K.shape == (3, 3) else K
        if K.shape != (N, 3, 3) or not np.isfinite(K).all() or (K[:, 0, 0] <= 0).any() \
                or (K[:, 1, 1] <= 0).any():
            raise DataError(source, f"intrinsics must be finite (N, 3, 3) with positive focal "
                                    f"lengths, got shape {K.shape}")
        fx, fy = K[:, 0, 0], K[:, 1, 1]
        f = np.sqrt(fx * fy)
        n = n * np.stack([f / fx, f / fy], -1)[:, None, :]
        sigma = (scale / f).astype(np.float32)
        ray_centre = np.stack([(centre[:, 0] - K[:, 0, 2]) / fx,
                               (centre[:, 1] - K[:, 1, 2]) / fy], -1).astype(np.float32)
    n = np.where(obs[..., None], n, 0.0)
    return NRSfMInputs(n=n.astype(np.float32), mask=obs.astype(np.float32), centre=centre,
                       scale=scale, sigma=sigma, ray_centre=ray_centre, camera_model=model)
