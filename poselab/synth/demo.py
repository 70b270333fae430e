"""The bundled demo: ~2000 rendered people from CMU mocap, built on first use and reused.

``resources/demo_poses.npz`` (made by ``scripts/make_demo_poses.py`` from CMU mocap only — never
Human3.6M) holds the poses and cameras. :func:`ensure_demo` renders them into
``platformdirs.user_data_dir("poselab")/demo`` the first time and returns that folder
afterwards; a hidden manifest (``.poselab_demo.json``) records the renderer version and
settings, and a missing or stale manifest triggers a rebuild. :func:`demo_2d_only` gives the
same poses as a 2D-only collection (no images) for the NRSfM-only path, and
:func:`ensure_demo_2d` writes it once as ``user_data_dir("poselab")/demo_2d/demo_2d.npz``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Generator
from pathlib import Path

import numpy as np

from poselab.core.atomic import atomic_write_text
from poselab.core.camera import project_perspective
from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.progress import CancelToken, Progress
from poselab.synth.body import build_body
from poselab.synth.collection import ANNOTATION_NAME, render_collection, subsample_evenly
from poselab.synth.render import occlusion_visibility

log = logging.getLogger(__name__)

#: Bump when the renderer's output changes, so existing demo folders are rebuilt.
DEMO_VERSION = 1
DEMO_SIZE = 160
DEMO_SEED = 0
MANIFEST = ".poselab_demo.json"


def demo_poses_path() -> Path:
    """``resources/demo_poses.npz`` of this installation (beside the ``poselab`` package)."""
    env = os.environ.get("POSELAB_DEMO_POSES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "resources" / "demo_poses.npz"


def default_demo_dir(name: str = "demo") -> Path:
    """``platformdirs.user_data_dir("poselab") / name`` (``"demo"`` or ``"demo_2d"``)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("poselab")) / name


def load_demo_poses(n: int | None = None, path: str | Path | None = None) -> PoseCollection:
    """The demo poses (mocap17 layout) as a collection, evenly subsampled to ``n``.

    Returns:
        PoseCollection (``h36m17``) with keypoints_2d ``(N, 17, 2)`` px in the original
        1000×1000 views, keypoints_3d ``(N, 17, 3)`` mm camera frame, intrinsics ``(N, 3, 3)``.

    Raises:
        DataError: the file is missing or unreadable.
    """
    from poselab.io.npz import read_npz

    path = Path(path) if path is not None else demo_poses_path()
    if not path.is_file():
        raise DataError(path, "demo pose set not found (run scripts/make_demo_poses.py)")
    coll = read_npz(path)
    if not coll.has_3d or coll.intrinsics is None:
        raise DataError(path, "demo pose set has no 3D poses or cameras")
    return coll.subset(subsample_evenly(len(coll), n))


def _digest(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()[:16]


def _manifest(n: int, size: int, seed: int, poses: Path) -> dict:
    return {"version": DEMO_VERSION, "n": int(n), "size": int(size), "seed": int(seed),
            "poses_sha1": _digest(poses)}


def _count_poses(poses: Path, n: int | None) -> int:
    if not poses.is_file():
        raise DataError(poses, "demo pose set not found (run scripts/make_demo_poses.py)")
    try:
        with np.load(poses, allow_pickle=False) as z:
            total = int(z["K"].shape[0])
    except (OSError, ValueError, KeyError) as err:
        raise DataError(poses, f"cannot read the demo pose set ({err})") from None
    return total if n is None else min(int(n), total)


def demo_is_current(out: str | Path, n: int | None = None, size: int = DEMO_SIZE,
                    seed: int = DEMO_SEED, annotation: str = ANNOTATION_NAME) -> bool:
    """True when ``out`` holds a complete demo built with these settings and this version.

    Raises:
        DataError: the demo pose set is missing.
    """
    out = Path(out)
    poses = demo_poses_path()
    want = _manifest(_count_poses(poses, n), size, seed, poses)
    try:
        found = json.loads((out / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return found == want and (out / annotation).is_file()


def ensure_demo(out: str | Path | None = None, cancel: CancelToken | None = None, *,
                n: int | None = None, size: int = DEMO_SIZE, seed: int = DEMO_SEED,
                workers: int | None = None, force: bool = False
                ) -> Generator[Progress, None, Path]:
    """Build the demo collection on first use; reuse it afterwards.

    A generator: yields :class:`Progress` while rendering (nothing when the demo is current)
    and returns the folder, which :func:`poselab.io.open_folder` opens.

    Args:
        out: the demo folder; default :func:`default_demo_dir`.
        cancel: checked at every yield; a cancelled build leaves the previous state.
        n: number of images (default: every pose in the demo set, about 2000).
        size: image side, pixels.
        seed: appearance seed.
        workers: rendering processes (default: up to 2, one per core).
        force: rebuild even when current.

    Raises:
        DataError: the demo pose set is missing. Cancelled: when ``cancel`` was set.
    """
    out = Path(out) if out is not None else default_demo_dir()
    poses_file = demo_poses_path()
    if not force and demo_is_current(out, n, size, seed):
        log.info("demo collection is current: %s", out)
        yield Progress("demo", 1, 1, message=f"demo ready in {out}", kind="info")
        return out
    poses = load_demo_poses(n, poses_file)
    if workers is None:
        workers = max(1, min(2, os.cpu_count() or 1)) if len(poses) >= 200 else 1
    per = {k: v for k, v in poses.metadata.get("per_sample", {}).items()
           if k in ("action", "camera", "sequence", "frame")}
    meta = {"name": "poselab demo (CMU mocap mannequins)", "per_sample": per,
            "licence": "CMU Graphics Lab Motion Capture Database; rendered by poselab.synth"}
    log.info("building demo collection (%d images at %d px) in %s", len(poses), size, out)
    yield from render_collection(poses.keypoints_3d, poses.intrinsics, poses.skeleton, out,
                                 size=size, seed=seed, cancel=cancel, workers=workers,
                                 overwrite=True, metadata=meta)
    atomic_write_text(out / MANIFEST,
                      json.dumps(_manifest(_count_poses(poses_file, n), size, seed, poses_file)))
    return out


def demo_2d_only(n: int | None = None, write_to: str | Path | None = None) -> PoseCollection:
    """The demo poses as a 2D-only collection (no images), for the NRSfM-only path.

    2D landmarks are the projections in the original 1000×1000 views, visibility comes from
    the renderer's occlusion test (1 occluded, 2 visible), and keypoints_3d (mm, camera frame)
    and intrinsics are attached for scoring.

    Args:
        n: number of poses (default all).
        write_to: optionally also write the collection there as a poselab ``.npz``.

    Returns:
        PoseCollection (``h36m17``), ``image_paths`` all None.
    """
    poses = load_demo_poses(n)
    X = poses.keypoints_3d.astype(np.float64)
    K = poses.intrinsics.astype(np.float64)
    kp = project_perspective(X, K).astype(np.float32)
    vis = np.stack([occlusion_visibility(X[i], kp[i], K[i], build_body(X[i], poses.skeleton))
                    for i in range(len(poses))])
    coll = PoseCollection(
        skeleton=poses.skeleton, keypoints_2d=kp, visibility=vis,
        sample_ids=poses.sample_ids, keypoints_3d=poses.keypoints_3d,
        intrinsics=poses.intrinsics, units_3d="mm", image_sizes=poses.image_sizes,
        metadata={"name": "poselab demo, 2D only (CMU mocap)",
                  "per_sample": poses.metadata.get("per_sample", {})})
    if write_to is not None:
        from poselab.io.npz import write_npz

        write_npz(coll, write_to)
        coll.source = Path(write_to)
    return coll


DEMO_2D_NAME = "demo_2d.npz"


def ensure_demo_2d(out: str | Path | None = None, n: int | None = None) -> Path:
    """Write the 2D-only demo (:func:`demo_2d_only`) as ``demo_2d.npz`` in a folder, once.

    Args:
        out: the folder; default ``platformdirs.user_data_dir("poselab")/demo_2d``.
        n: number of poses (default all).

    Returns:
        The folder (``poselab.io.open_folder`` opens it as a collection without images).
    """
    out = Path(out) if out is not None else default_demo_dir("demo_2d")
    if demo_is_current(out, n, 0, 0, annotation=DEMO_2D_NAME):
        return out
    out.mkdir(parents=True, exist_ok=True)
    demo_2d_only(n, write_to=out / DEMO_2D_NAME)
    atomic_write_text(out / MANIFEST,
                      json.dumps(_manifest(_count_poses(demo_poses_path(), n), 0, 0,
                                           demo_poses_path())))
    return out
