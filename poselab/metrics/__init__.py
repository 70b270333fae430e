"""Metrics we can trust (DESIGN.md §7): numpy/scipy only, no torch, no Qt.

- :mod:`~poselab.metrics.alignment`: root, similarity (Umeyama), scale, global rotation, one
  depth reflection per set.
- :mod:`~poselab.metrics.pose`: MPJPE (Protocol 1), PA-MPJPE (Protocol 2, no reflection),
  N-MPJPE, paper 000's bone-length-scaled MPJPE / PA-MPJPE / depth error.
- :mod:`~poselab.metrics.nrsfm`: ``e3d_akhter`` and ``e3d_frame`` for the classic sequences.
- :mod:`~poselab.metrics.summary`: ``evaluate`` (picks the family from the ground truth),
  ``reprojection_error`` and ``disagreement`` for data without 3D.
"""

from poselab.metrics.alignment import (
    best_scale,
    choose_depth_reflection,
    global_rotation,
    procrustes_align,
    reflect_depth,
    root_align,
    similarity_transform,
)
from poselab.metrics.nrsfm import e3d_akhter, e3d_frame
from poselab.metrics.pose import (
    bone_length_scale,
    mean_bone_length,
    mpjpe,
    n_mpjpe,
    pa_mpjpe,
    paper000_errors,
)
from poselab.metrics.summary import disagreement, evaluate, pose_size, reprojection_error

__all__ = [
    "best_scale", "bone_length_scale", "choose_depth_reflection", "disagreement", "e3d_akhter",
    "e3d_frame", "evaluate", "global_rotation", "mean_bone_length", "mpjpe", "n_mpjpe",
    "pa_mpjpe", "paper000_errors", "pose_size", "procrustes_align", "reflect_depth",
    "reprojection_error", "root_align", "similarity_transform",
]
