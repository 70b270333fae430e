"""Landmark file formats, one per module (DESIGN §6, §8), and 3D export.

``open_folder`` opens what a user drops (a folder or an annotation file); the readers
(``read_coco``, ``read_npz``, and the DeepLabCut, YOLO, ``.mat`` and long-CSV readers reached
through ``open_folder``/``read_annotation``) return a :class:`poselab.core.PoseCollection`.
Importing this package loads numpy only: no torch, Qt or OpenCV (scipy, pandas and OpenCV are
imported by the readers that need them).
"""

from poselab.io.coco import read_coco, write_coco, write_sidecar_3d
from poselab.io.export import export_csv, export_json, read_export
from poselab.io.folder import (
    SkeletonNeeded,
    edits_path,
    find_annotations,
    open_folder,
    read_annotation,
)
from poselab.io.npz import read_npz, write_npz
from poselab.io.results import Result3D, read_result
from poselab.io.sleap import read_slp, write_slp

__all__ = [
    "Result3D", "SkeletonNeeded", "edits_path", "export_csv", "export_json", "find_annotations",
    "open_folder", "read_annotation", "read_coco", "read_export", "read_npz", "read_result",
    "read_slp", "write_coco", "write_npz", "write_sidecar_3d", "write_slp",
]
