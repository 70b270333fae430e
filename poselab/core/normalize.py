"""Bounding-box normalisation of 2D landmarks and the matching square crop (DESIGN.md §3).

Paper 000 §5.3: "the best we can do is to normalize 2D points by the size of 2D bounding box".
Per sample: ``n = (x − c) / s`` with ``c`` the centre of the bounding box of the observed
landmarks and ``s`` its larger side. The student's crop is the square of side ``margin · s``
centred on ``c`` resized to ``size`` pixels, so crop pixels ``u`` and normalised coordinates ``n``
are related affinely: ``u = (n / margin + 1/2) · size``.
"""

from __future__ import annotations

import numpy as np

from poselab.core.errors import DataError

CROP_MARGIN = 1.2


def bbox_normalization(keypoints_2d: np.ndarray, visibility: np.ndarray,
                       min_scale: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale of each sample's observed-landmark bounding box.

    Args:
        keypoints_2d: ``(N, J, 2)`` pixels.
        visibility: ``(N, J)``; landmarks with ``visibility > 0`` count.
        min_scale: scales below this raise (a sample whose landmarks all coincide).

    Returns:
        centre ``(N, 2)`` float32 pixels and scale ``(N,)`` float32 pixels (larger box side).

    Raises:
        DataError: a sample with no observed landmark, or a degenerate box.
    """
    kp = np.asarray(keypoints_2d, dtype=np.float64)
    obs = np.asarray(visibility) > 0
    empty = ~obs.any(axis=1)
    if empty.any():
        raise DataError(None, f"sample {int(np.argmax(empty))} has no observed landmark "
                              f"({int(empty.sum())} such samples)")
    big = np.inf
    lo = np.where(obs[..., None], kp, big).min(axis=1)
    hi = np.where(obs[..., None], kp, -big).max(axis=1)
    centre = (lo + hi) / 2
    scale = (hi - lo).max(axis=1)
    tiny = scale < min_scale
    if tiny.any():
        raise DataError(None, f"sample {int(np.argmax(tiny))} has a degenerate landmark box "
                              f"(all observed landmarks coincide)")
    return centre.astype(np.float32), scale.astype(np.float32)


def normalize_keypoints(keypoints_2d: np.ndarray, centre: np.ndarray, scale: np.ndarray,
                        visibility: np.ndarray | None = None) -> np.ndarray:
    """Pixels → normalised units: ``n = (x − c) / s``.

    Args:
        keypoints_2d: ``(N, J, 2)`` pixels. centre: ``(N, 2)``. scale: ``(N,)``.
        visibility: optional ``(N, J)``; unobserved landmarks are set to 0.

    Returns:
        ``(N, J, 2)`` float32 normalised coordinates (box fits in [-0.5, 0.5]).
    """
    n = (np.asarray(keypoints_2d, np.float32) - centre[:, None, :]) / scale[:, None, None]
    if visibility is not None:
        n = np.where(np.asarray(visibility)[..., None] > 0, n, 0.0)
    return n.astype(np.float32)


def denormalize_keypoints(normalised: np.ndarray, centre: np.ndarray,
                          scale: np.ndarray) -> np.ndarray:
    """Inverse of :func:`normalize_keypoints` for 2D ``(N, J, 2)`` or 3D ``(N, J, 3)`` points.

    x and y are scaled and shifted back to pixels; a third (depth) column is only scaled, since
    depth shares the 2D scale (DESIGN.md §3) and has no pixel origin.
    """
    out = np.asarray(normalised, np.float32) * scale[:, None, None]
    out = out.copy()
    out[..., :2] += centre[:, None, :]
    return out.astype(np.float32)


def crop_boxes(centre: np.ndarray, scale: np.ndarray, margin: float = CROP_MARGIN) -> np.ndarray:
    """Square crop boxes ``(N, 3)``: ``x0, y0, side`` in pixels, side = ``margin · scale``."""
    side = np.asarray(scale, np.float32) * margin
    return np.stack([centre[:, 0] - side / 2, centre[:, 1] - side / 2, side], axis=1)


def normalized_to_crop(normalised: np.ndarray, size: int,
                       margin: float = CROP_MARGIN) -> np.ndarray:
    """Normalised xy → pixels of a ``size``×``size`` crop: ``u = (n/margin + ½)·size``."""
    return ((np.asarray(normalised, np.float32) / margin) + 0.5) * size


def crop_to_normalized(crop_xy: np.ndarray, size: int, margin: float = CROP_MARGIN) -> np.ndarray:
    """Inverse of :func:`normalized_to_crop`."""
    return (np.asarray(crop_xy, np.float32) / size - 0.5) * margin
