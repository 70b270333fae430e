"""Built-in skeletons: ``h36m17``, ``coco17``, ``lsp14``, ``mpii16``, ``face14``.

Joint orders follow each dataset's own files: H3.6M as in ../shared/data/mocap17 (and the
common 17-joint H3.6M subset), COCO keypoints, LSP ``joints.mat``, MPII, and the 14 facial points
of the Disguised Faces dataset (points 7–9 are the *left* eye; "right" is the subject's right).
"""

from __future__ import annotations

from pathlib import Path

from poselab.core.errors import DataError
from poselab.core.skeleton import Skeleton

H36M17 = Skeleton.from_parents(
    [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15],
    ["Hip", "RHip", "RKnee", "RFoot", "LHip", "LKnee", "LFoot", "Spine", "Thorax",
     "Neck/Nose", "Head", "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow", "RWrist"],
    "h36m17",
    left_right=[(4, 1), (5, 2), (6, 3), (11, 14), (12, 15), (13, 16)],
)

COCO17 = Skeleton(
    "coco17",
    ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
     "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
     "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"),
    ((15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7),
     (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6)),
    ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)),
)

LSP14 = Skeleton(
    "lsp14",
    ("right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
     "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow",
     "left_wrist", "neck", "head_top"),
    ((1, 0), (2, 1), (3, 4), (4, 5), (8, 7), (7, 6), (9, 10), (10, 11), (12, 13), (12, 8),
     (12, 9), (8, 2), (9, 3), (2, 3)),
    ((3, 2), (4, 1), (5, 0), (9, 8), (10, 7), (11, 6)),
)

MPII16 = Skeleton(
    "mpii16",
    ("right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle", "pelvis",
     "thorax", "upper_neck", "head_top", "right_wrist", "right_elbow", "right_shoulder",
     "left_shoulder", "left_elbow", "left_wrist"),
    ((6, 2), (2, 1), (1, 0), (6, 3), (3, 4), (4, 5), (6, 7), (7, 8), (8, 9), (7, 12), (12, 11),
     (11, 10), (7, 13), (13, 14), (14, 15)),
    ((3, 2), (4, 1), (5, 0), (13, 12), (14, 11), (15, 10)),
)

FACE14 = Skeleton(
    "face14",
    ("right_eyebrow_outer", "right_eyebrow_inner", "left_eyebrow_inner", "left_eyebrow_outer",
     "right_eye_outer", "right_eye_middle", "right_eye_inner", "left_eye_inner",
     "left_eye_middle", "left_eye_outer", "nose_tip", "lip_right_end", "lip_middle",
     "lip_left_end"),
    ((0, 1), (1, 2), (2, 3), (4, 5), (5, 6), (7, 8), (8, 9), (6, 10), (7, 10), (10, 12),
     (11, 12), (12, 13)),
    ((3, 0), (2, 1), (9, 4), (8, 5), (7, 6), (13, 11)),
)

BUILTIN: dict[str, Skeleton] = {s.name: s for s in (H36M17, COCO17, LSP14, MPII16, FACE14)}


def get_skeleton(name_or_path: str | Path | Skeleton) -> Skeleton:
    """A built-in skeleton by name, or one loaded from a JSON file.

    Args:
        name_or_path: ``"h36m17" | "coco17" | "lsp14" | "mpii16" | "face14"``, a path to a
            skeleton JSON (see :meth:`Skeleton.to_dict`), or a Skeleton (returned as is).

    Raises:
        DataError: unknown name and no such file, or a bad JSON file.
    """
    if isinstance(name_or_path, Skeleton):
        return name_or_path
    key = str(name_or_path)
    if key in BUILTIN:
        return BUILTIN[key]
    path = Path(key)
    if path.is_file():
        return Skeleton.load(path)
    raise DataError(path if path.suffix else None,
                    f"unknown skeleton {key!r}: use one of {sorted(BUILTIN)} or a JSON file")
