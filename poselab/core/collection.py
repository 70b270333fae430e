"""PoseCollection: what a user brings — images with 2D landmarks, sometimes 3D (DESIGN.md §2).

Arrays, not per-point objects (STYLE.md §5). Conventions:

- ``keypoints_2d``: ``(N, J, 2)`` float32, pixels, x right, y down, 0-indexed.
- ``visibility``: ``(N, J)`` uint8, COCO semantics — 0 not labelled, 1 labelled but occluded,
  2 visible. A landmark is *observed* when ``visibility > 0``; unobserved coordinates are 0.
- ``keypoints_3d``: ``(N, J, 3)`` float32, camera frame (x right, y down, z forward), in
  ``units_3d`` (e.g. ``"mm"``), or None.
- ``intrinsics``: ``(N, 3, 3)`` float32 pinhole matrices K (pixels), or None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from poselab.core.errors import DataError
from poselab.core.skeleton import Skeleton


@dataclass(eq=False)
class PoseCollection:
    """N samples of one skeleton: 2D landmarks, visibility, optional images and 3D.

    Attributes:
        skeleton: the landmark definition (J joints).
        keypoints_2d: ``(N, J, 2)`` float32 pixels; 0 where not observed.
        visibility: ``(N, J)`` uint8 in {0, 1, 2} (COCO).
        image_paths: ``N`` image paths, or None entries for samples without an image
            (2D-only data such as the classic NRSfM sequences).
        sample_ids: ``N`` unique ids (e.g. ``"img12.png#0"`` for instance 0 of an image).
        keypoints_3d: ``(N, J, 3)`` float32 camera frame, ``units_3d``; scoring only.
        intrinsics: ``(N, 3, 3)`` float32 camera matrices in pixels, or None.
        units_3d: the unit of ``keypoints_3d``: ``"mm"``, ``"px"``, ``"normalised"`` or
            ``"units"`` (the classic NRSfM sequences' mocap units).
        image_sizes: ``(N, 2)`` int32 (width, height) in pixels, or None when unknown.
        source: the annotation file (or folder) it was read from, for error messages.
        metadata: free-form JSON-ready information (subject, action, ...), or per-sample arrays
            under ``metadata["per_sample"]``.

    Raises:
        DataError: inconsistent shapes, NaN/inf in observed landmarks, visibility outside
            {0, 1, 2}, duplicate sample ids — naming ``source``.
    """

    skeleton: Skeleton
    keypoints_2d: np.ndarray
    visibility: np.ndarray | None = None
    image_paths: Sequence[str | Path | None] | None = None
    sample_ids: Sequence[str] | None = None
    keypoints_3d: np.ndarray | None = None
    intrinsics: np.ndarray | None = None
    units_3d: str = "mm"
    image_sizes: np.ndarray | None = None
    source: Path | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        src = self.source
        J = self.skeleton.num_joints
        # one float32 copy, edited in place (no float64 temporaries: a 300k-sample collection
        # built for an export peaked 110 MB higher with them; scripts/bench_export.py)
        kp = np.array(self.keypoints_2d, dtype=np.float32)
        if kp.ndim != 3 or kp.shape[1:] != (J, 2):
            raise DataError(src, f"keypoints_2d must have shape (N, {J}, 2) for skeleton "
                                 f"{self.skeleton.name!r}, got {kp.shape}")
        N = kp.shape[0]
        if self.visibility is None:
            vis = np.where(np.isfinite(kp).all(-1), 2, 0).astype(np.uint8)
        else:
            vis = np.asarray(self.visibility)
            if vis.shape != (N, J):
                raise DataError(src, f"visibility must have shape ({N}, {J}), got {vis.shape}")
            if vis.size and (vis.min() < 0 or vis.max() > 2):
                raise DataError(src, "visibility must be 0, 1 or 2 (COCO)")
            vis = vis.astype(np.uint8)
        observed = vis > 0
        bad = observed & ~np.isfinite(kp).all(-1)
        if bad.any():
            n, j = np.argwhere(bad)[0]
            raise DataError(src, f"landmark {self.skeleton.joint_names[j]!r} of sample {n} is "
                                 f"NaN or infinite ({int(bad.sum())} such landmarks)")
        kp[~observed] = 0.0
        self.keypoints_2d = kp
        self.visibility = vis

        if self.image_paths is None:
            self.image_paths = [None] * N
        else:
            self.image_paths = [None if p is None else Path(p) for p in self.image_paths]
            if len(self.image_paths) != N:
                raise DataError(src, f"{len(self.image_paths)} image paths for {N} samples")
        if self.sample_ids is None:
            self.sample_ids = [
                (p.name if p is not None else str(i)) for i, p in enumerate(self.image_paths)
            ]
            if len(set(self.sample_ids)) != N:
                self.sample_ids = [str(i) for i in range(N)]
        else:
            self.sample_ids = [str(s) for s in self.sample_ids]
            if len(self.sample_ids) != N:
                raise DataError(src, f"{len(self.sample_ids)} sample ids for {N} samples")
            if len(set(self.sample_ids)) != N:
                raise DataError(src, "sample ids are not unique")

        if self.keypoints_3d is not None:
            k3 = np.asarray(self.keypoints_3d, dtype=np.float32)
            if k3.shape != (N, J, 3):
                raise DataError(src, f"keypoints_3d must have shape ({N}, {J}, 3), got {k3.shape}")
            self.keypoints_3d = k3
        if not isinstance(self.units_3d, str) or not self.units_3d:
            raise DataError(src, f"units_3d must name a unit ('mm', 'px', 'normalised', "
                                 f"'units'), got {self.units_3d!r}")
        if self.intrinsics is not None:
            K = np.asarray(self.intrinsics, dtype=np.float32)
            if K.shape == (3, 3):
                K = np.broadcast_to(K, (N, 3, 3)).copy()
            if K.shape != (N, 3, 3):
                raise DataError(src, f"intrinsics must have shape ({N}, 3, 3), got {K.shape}")
            self.intrinsics = K
        if self.image_sizes is not None:
            sz = np.asarray(self.image_sizes, dtype=np.int32)
            if sz.shape == (2,):
                sz = np.broadcast_to(sz, (N, 2)).copy()
            if sz.shape != (N, 2):
                raise DataError(src, f"image_sizes must have shape ({N}, 2), got {sz.shape}")
            self.image_sizes = sz
        if self.source is not None:
            self.source = Path(self.source)

    # ------------------------------------------------------------------ properties
    def __len__(self) -> int:
        return self.keypoints_2d.shape[0]

    @property
    def num_samples(self) -> int:
        """N."""
        return self.keypoints_2d.shape[0]

    @property
    def num_joints(self) -> int:
        """J."""
        return self.skeleton.num_joints

    @property
    def observed(self) -> np.ndarray:
        """``(N, J)`` bool, True where a landmark is labelled (``visibility > 0``)."""
        return self.visibility > 0

    @property
    def unlabelled_share(self) -> float:
        """Share of the landmarks that is unlabelled (0 for an empty collection)."""
        observed = self.observed
        return float(1.0 - observed.mean()) if observed.size else 0.0

    @property
    def has_images(self) -> bool:
        """True when every sample has an image path."""
        return len(self) > 0 and all(p is not None for p in self.image_paths)

    @property
    def has_3d(self) -> bool:
        """True when 3D ground truth is attached (for scoring only)."""
        return self.keypoints_3d is not None

    # ------------------------------------------------------------------ operations
    def subset(self, indices: Sequence[int] | np.ndarray | slice) -> PoseCollection:
        """A new collection with the samples at ``indices`` (or a boolean mask / slice)."""
        idx = np.arange(len(self))[indices]
        per_sample = self.metadata.get("per_sample", {})
        meta = dict(self.metadata)
        if per_sample:
            meta["per_sample"] = {k: np.asarray(v)[idx] for k, v in per_sample.items()}
        return PoseCollection(
            skeleton=self.skeleton,
            keypoints_2d=self.keypoints_2d[idx],
            visibility=self.visibility[idx],
            image_paths=[self.image_paths[i] for i in idx],
            sample_ids=[self.sample_ids[i] for i in idx],
            keypoints_3d=None if self.keypoints_3d is None else self.keypoints_3d[idx],
            intrinsics=None if self.intrinsics is None else self.intrinsics[idx],
            units_3d=self.units_3d,
            image_sizes=None if self.image_sizes is None else self.image_sizes[idx],
            source=self.source,
            metadata=meta,
        )

    @staticmethod
    def concatenate(collections: Sequence[PoseCollection]) -> PoseCollection:
        """Join collections of the same skeleton; 3D/intrinsics kept only if all have them.

        Raises:
            DataError: empty list, different skeletons, or repeated sample ids.
        """
        if not collections:
            raise DataError(None, "nothing to concatenate")
        first = collections[0]
        for c in collections[1:]:
            if c.skeleton.joint_names != first.skeleton.joint_names:
                raise DataError(c.source, f"skeleton {c.skeleton.name!r} differs from "
                                          f"{first.skeleton.name!r}; cannot concatenate")
            if c.units_3d != first.units_3d and c.has_3d and first.has_3d:
                raise DataError(c.source, "3D units differ; cannot concatenate")

        def cat(name):
            parts = [getattr(c, name) for c in collections]
            return None if any(p is None for p in parts) else np.concatenate(parts)

        return PoseCollection(
            skeleton=first.skeleton,
            keypoints_2d=np.concatenate([c.keypoints_2d for c in collections]),
            visibility=np.concatenate([c.visibility for c in collections]),
            image_paths=[p for c in collections for p in c.image_paths],
            sample_ids=[s for c in collections for s in c.sample_ids],
            keypoints_3d=cat("keypoints_3d"),
            intrinsics=cat("intrinsics"),
            units_3d=first.units_3d,
            image_sizes=cat("image_sizes"),
            source=first.source,
            metadata={"concatenated_from": [str(c.source) for c in collections]},
        )

    def copy(self) -> PoseCollection:
        """A deep copy of the arrays (for editing without touching the original)."""
        return self.subset(np.arange(len(self)))
