"""Metric scale from one known length: 3D in pixel units → millimetres (issue 18).

NRSfM and the students give ``keypoints_3d`` in the input's pixel scale (x, y image pixels, z
depth relative to the sample's reference depth in the same pixel scale; DESIGN §2, poselab
``NRSfMResult``). Their size in pixels depends on how far the subject was from the camera, so the
scale is *per sample*. With one length the user knows — a bone (e.g. shoulder width) or the
subject's height — every sample gets a factor ``s_n`` (mm per pixel unit):

    ℓ_n   = mean bone length of sample n (pixel units), or its largest landmark distance
    m     = median_n (L_n / ℓ_n)          the known part's typical share of that size
    s_n   = L_known / (m · ℓ_n)           mm per pixel unit of sample n

so the known part measures ``L_known`` in every sample while each sample keeps its own shape
(for one subject at one distance this is ``L_known / median_n L_n``, the median bone length).
"Height" is the largest distance between two landmarks of a sample (head to ankle for a standing
person, chin to brow for a face): ``L_n = max_{j,k} ‖X_nj − X_nk‖``.

Then, with intrinsics ``K`` (focal length ``f`` px, principal point ``(c_x, c_y)``) the 3D is
absolute in the camera frame: a pixel at depth ``Z`` spans ``Z / f`` mm, so the sample's
reference depth is ``Z_n = f · s_n`` and

    X = (x − c_x) · s_n,   Y = (y − c_y) · s_n,   Z = Z_n + z · s_n        (mm, camera frame)

(weak perspective: one scale per sample at its reference depth). Without intrinsics the depth of
the subject is unknown: the 3D is in mm but centred on each sample's centroid (frame
``"camera_centred"``). Without a known length nothing is rescaled and the units are
``"relative"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from poselab.core.errors import DataError
from poselab.core.skeleton import Skeleton

#: Units / frames written with the 3D (export, panel).
RELATIVE = "relative"
FRAME_ABSOLUTE = "camera"
FRAME_CENTRED = "camera_centred"  # camera axes, origin at each sample's centroid


@dataclass(frozen=True)
class KnownLength:
    """A length the user knows, in millimetres.

    Attributes:
        mm: the length (> 0).
        joints: ``(a, b)`` joint names of the bone (or any two landmarks) it measures, or
            None for the subject's height (largest landmark distance).
    """

    mm: float
    joints: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if not np.isfinite(self.mm) or self.mm <= 0:
            raise DataError(None, f"a known length must be a positive number of mm, "
                                  f"got {self.mm}")

    def describe(self) -> str:
        what = "height" if self.joints is None else f"{self.joints[0]}–{self.joints[1]}"
        return f"{what} = {self.mm:g} mm"

    def to_dict(self) -> dict:
        return {"mm": float(self.mm), "joints": None if self.joints is None
                else list(self.joints)}

    @classmethod
    def from_dict(cls, data) -> KnownLength | None:
        """Inverse of :meth:`to_dict`; None for anything that is not one."""
        try:
            joints = data.get("joints")
            return cls(float(data["mm"]), None if joints is None else
                       (str(joints[0]), str(joints[1])))
        except (AttributeError, KeyError, TypeError, ValueError, IndexError, DataError):
            return None


def _sizes(x: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """ℓ_n: mean bone length, or the largest landmark distance without bones."""
    if len(skeleton.bones):
        b = skeleton.bones_array
        return np.linalg.norm(x[:, b[:, 1]] - x[:, b[:, 0]], axis=-1).mean(1)
    return _diameters(x)


def _diameters(x: np.ndarray) -> np.ndarray:
    d = np.linalg.norm(x[:, :, None] - x[:, None, :], axis=-1)
    return d.reshape(len(x), -1).max(1)


def scale_factors(keypoints_3d: np.ndarray, skeleton: Skeleton, known: KnownLength
                  ) -> np.ndarray:
    """``s_n`` (mm per unit of ``keypoints_3d``) of every sample (module doc).

    Args:
        keypoints_3d: ``(N, J, 3)`` camera frame, pixel units (rows of NaN are skipped and get
            NaN).
        skeleton: the joints named in ``known``; its bones give ℓ_n.
        known: the known length.

    Returns:
        ``(N,)`` float64 mm per unit.

    Raises:
        DataError: unknown joint names, or a known part of zero length in every sample.
    """
    x = np.asarray(keypoints_3d, np.float64)
    if x.ndim != 3 or x.shape[1:] != (skeleton.num_joints, 3):
        raise DataError(None, f"keypoints_3d must be (N, {skeleton.num_joints}, 3), "
                              f"got {x.shape}")
    ok = np.isfinite(x).all((1, 2))
    out = np.full(len(x), np.nan)
    if not ok.any():
        return out
    xs = x[ok]
    if known.joints is None:
        part = _diameters(xs)
    else:
        try:
            a, b = (skeleton.index(n) for n in known.joints)
        except KeyError as err:
            raise DataError(None, str(err.args[0])) from None
        part = np.linalg.norm(xs[:, b] - xs[:, a], axis=-1)
    size = _sizes(xs, skeleton)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.nanmedian(np.where(size > 0, part / size, np.nan))
    if not np.isfinite(share) or share <= 0:
        raise DataError(None, f"the known part ({known.describe()}) has no length in the 3D")
    with np.errstate(invalid="ignore", divide="ignore"):
        out[ok] = known.mm / (share * size)
    return out


def to_metric(keypoints_3d: np.ndarray, factors: np.ndarray,
              intrinsics: np.ndarray | None = None) -> tuple[np.ndarray, str]:
    """Rescale pixel-unit 3D to millimetres (module doc).

    Args:
        keypoints_3d: ``(N, J, 3)`` camera frame, pixel units (x, y image pixels, z relative).
        factors: ``(N,)`` mm per unit (:func:`scale_factors`).
        intrinsics: ``(N, 3, 3)`` or ``(3, 3)`` K in pixels, or None.

    Returns:
        ``((N, J, 3) float32 mm, frame)``: absolute camera frame with intrinsics
        (:data:`FRAME_ABSOLUTE`), else centred on each sample's centroid (:data:`FRAME_CENTRED`).
    """
    x = np.asarray(keypoints_3d, np.float64)
    s = np.asarray(factors, np.float64)[:, None, None]
    if intrinsics is not None:
        K = np.asarray(intrinsics, np.float64)
        K = np.broadcast_to(K, (len(x), 3, 3)) if K.ndim == 2 else K
        f = 0.5 * (K[:, 0, 0] + K[:, 1, 1])
        c = K[:, :2, 2]
        out = np.empty_like(x)
        out[..., :2] = (x[..., :2] - c[:, None, :]) * s
        out[..., 2] = (f[:, None] * s[:, :, 0]) + x[..., 2] * s[:, :, 0]
        return out.astype(np.float32), FRAME_ABSOLUTE
    centred = x - np.nanmean(x, axis=1, keepdims=True)
    return (centred * s).astype(np.float32), FRAME_CENTRED


def centre_like(keypoints_3d: np.ndarray) -> np.ndarray:
    """``(N, J, 3)`` centred on each sample's centroid (ground truth aligned as
    :func:`to_metric` aligns predictions without intrinsics)."""
    x = np.asarray(keypoints_3d, np.float64)
    return (x - np.nanmean(x, axis=1, keepdims=True)).astype(np.float32)
