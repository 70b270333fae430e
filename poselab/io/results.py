"""3D result files: the teacher's ``nrsfm.npz`` and a student's ``predictions.npz``.

Both carry :data:`poselab.nrsfm.result.RESULT_FILE_KEYS` (``keypoints_3d``, ``sample_ids``,
``skeleton_json``, ``units``, ``frame``, ``kind``), so export and comparison read either with
:func:`read_result` without knowing which program wrote it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from poselab.core.errors import DataError
from poselab.core.skeleton import Skeleton
from poselab.io.images import join_image


@dataclass(eq=False)
class Result3D:
    """The 3D poses of a result file.

    Attributes:
        keypoints_3d: ``(N, J, 3)`` float32 in ``units``, ``frame`` (``"camera"``: x right,
            y down, z forward).
        sample_ids: ``N`` sample ids of the collection the result belongs to.
        skeleton: the J-joint skeleton.
        units: e.g. ``"px"``, ``"mm"``, ``"normalised"``.
        frame: e.g. ``"camera"``.
        kind: ``"nrsfm"`` (teacher) or ``"prediction"`` (student), or another writer's name.
        keypoints_2d: ``(N, J, 2)`` float32 pixels, or None.
        visibility: ``(N, J)`` uint8 COCO flags, or None.
        image_paths: ``N`` image paths (None entries allowed), or None.
        path: the file it was read from.
        extra: free-form information (e.g. the teacher's reflection sign).
    """

    keypoints_3d: np.ndarray
    sample_ids: list[str]
    skeleton: Skeleton
    units: str
    frame: str
    kind: str
    keypoints_2d: np.ndarray | None = None
    visibility: np.ndarray | None = None
    image_paths: list[Path | None] | None = None
    path: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def num_samples(self) -> int:
        """N."""
        return self.keypoints_3d.shape[0]


def read_result(path: str | Path) -> Result3D:
    """Read any poselab 3D result ``.npz`` (teacher or student).

    Raises:
        DataError: unreadable or damaged (a member fails its zip CRC, or the content hash
            stored by :meth:`poselab.nrsfm.result.NRSfMResult.save` no longer matches), a key of
            ``RESULT_FILE_KEYS`` missing, or shapes that disagree (names ``path``).
    """
    import zipfile
    import zlib

    path = Path(path)
    try:
        return _read_result(path)
    except (zipfile.BadZipFile, zlib.error, EOFError) as err:  # a member fails its CRC
        raise DataError(path, f"damaged file ({err})") from None


def _read_result(path: Path) -> Result3D:
    from poselab.core.digest import load_npz_verified
    from poselab.nrsfm.result import RESULT_FILE_KEYS  # lazily: keep poselab.io light

    try:
        z = load_npz_verified(path)  # CRCs and, when stored, the content hash
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except ValueError as err:
        if str(err).startswith("damaged"):
            raise DataError(path, str(err)) from None
        raise DataError(path, f"not a readable .npz file ({err})") from None
    except OSError as err:
        raise DataError(path, f"not a readable .npz file ({err})") from None
    with z:
        missing = [k for k in RESULT_FILE_KEYS if k not in z.files]
        if missing:
            raise DataError(path, f"not a poselab 3D result (lacks {', '.join(missing)}); "
                                  "expected a teacher nrsfm.npz or a predictions.npz")
        try:
            skeleton = Skeleton.from_dict(json.loads(str(z["skeleton_json"])), path)
        except json.JSONDecodeError:
            raise DataError(path, "skeleton_json is not valid JSON") from None
        k3 = np.asarray(z["keypoints_3d"], np.float32)
        ids = [str(s) for s in z["sample_ids"]]
        J = skeleton.num_joints
        if k3.ndim != 3 or k3.shape[1:] != (J, 3) or len(ids) != k3.shape[0]:
            raise DataError(path, f"keypoints_3d has shape {k3.shape}, expected "
                                  f"({len(ids)}, {J}, 3)")
        kp2 = np.asarray(z["keypoints_2d"], np.float32) if "keypoints_2d" in z.files else None
        vis = np.asarray(z["visibility"], np.uint8) if "visibility" in z.files else None
        if kp2 is not None and kp2.shape != (len(ids), J, 2):
            raise DataError(path, f"keypoints_2d has shape {kp2.shape}, expected "
                                  f"({len(ids)}, {J}, 2)")
        if vis is not None and vis.shape != (len(ids), J):
            raise DataError(path, f"visibility has shape {vis.shape}, expected ({len(ids)}, {J})")
        images = None
        if "image_paths" in z.files:
            images = [join_image(path.parent, str(p)) if str(p) else None
                      for p in z["image_paths"]]
        return Result3D(
            keypoints_3d=k3, sample_ids=ids, skeleton=skeleton, units=str(z["units"]),
            frame=str(z["frame"]), kind=str(z["kind"]), keypoints_2d=kp2, visibility=vis,
            image_paths=images, path=path,
            extra={"reflection": int(z["reflection"])} if "reflection" in z.files else {},
        )
