"""New inputs for a trained student: a folder of unlabelled images, or the frames of a video.

Both give a :class:`~poselab.core.collection.PoseCollection` without landmarks (``visibility``
all 0, ``keypoints_2d`` zeros) but with ``image_paths`` and ``image_sizes``, which is what an
image student needs to predict 3D (it crops the whole image of a sample that has no observed
2D). Images are read by the one image reader (:mod:`poselab.io.images`: Pillow, EXIF
orientation applied); an unreadable or truncated image flags its sample
(``metadata["per_sample"]["image_problem"]``, as :func:`poselab.io.folder.flag_images`)
instead of failing the folder.

Video frames are decoded with sleap-io's reader (:func:`sleap_io.load_video`; in this
environment its OpenCV backend, with imageio-ffmpeg and PyAV as the alternatives it knows), and
every ``every``-th frame is written as a PNG into a cache folder (atomically), so that the
frames can be browsed, cropped and exported like any image collection.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Generator
from pathlib import Path

import numpy as np

from poselab.core.atomic import atomic_write_bytes
from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.progress import CancelToken, Progress
from poselab.core.skeleton import Skeleton
from poselab.core.skeletons import get_skeleton
from poselab.io.images import find_images, probe_images

log = logging.getLogger(__name__)

#: Video file suffixes sleap-io's media reader opens.
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".mj2", ".webm", ".mpg", ".mpeg", ".m4v")


def is_video(path: str | Path) -> bool:
    """True when ``path`` is a file whose suffix is one of :data:`VIDEO_SUFFIXES`."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES and Path(path).is_file()


def blank_collection(skeleton: Skeleton, images: list[Path], sample_ids: list[str],
                     source: Path, per_sample: dict | None = None) -> PoseCollection:
    """A collection of ``images`` without landmarks: ``keypoints_2d`` (N, J, 2) zeros,
    ``visibility`` (N, J) zeros, ``metadata["unlabelled"] = True``."""
    n, j = len(images), skeleton.num_joints
    return PoseCollection(
        skeleton=skeleton, keypoints_2d=np.zeros((n, j, 2), np.float32),
        visibility=np.zeros((n, j), np.uint8), image_paths=list(images),
        sample_ids=sample_ids, source=source,
        metadata={"unlabelled": True,
                  "per_sample": {"instance": np.zeros(n, np.int32), **(per_sample or {})}},
    )


def open_unlabelled_images(folder: str | Path, skeleton: str | Path | Skeleton
                           ) -> PoseCollection:
    """Every image of ``folder`` (up to three levels deep, natural order) as one sample.

    Args:
        folder: a folder of images (jpg, jpeg, png, bmp, tif, tiff).
        skeleton: the student's skeleton (built-in name, JSON path or Skeleton).

    Returns:
        PoseCollection with ``image_sizes`` (N, 2) int32 (width, height, EXIF-oriented),
        ``sample_ids`` the paths relative to ``folder``, ``source`` the folder, and unusable
        images flagged in ``metadata["per_sample"]["image_problem"]`` (N,) str.

    Raises:
        DataError: not a folder, or no image in it (naming the folder).
    """
    from poselab.io.folder import flag_images

    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(folder, "not a folder of images")
    images = find_images(folder)
    if not images:
        raise DataError(folder, "no images found (jpg, jpeg, png, bmp, tif, tiff)")
    coll = blank_collection(get_skeleton(skeleton), images,
                            [p.relative_to(folder).as_posix() for p in images], folder)
    sizes, problems = probe_images(images)
    coll.image_sizes = sizes
    flag_images(coll, problems)
    return coll


def _open_video(video: Path):
    import sleap_io

    if not video.is_file():
        raise DataError(video, "no such video file")
    try:
        reader = sleap_io.load_video(str(video), grayscale=False)
        shape = reader.shape
    except Exception as err:  # noqa: BLE001 - the backends raise many types
        raise DataError(video, f"cannot read the video ({type(err).__name__}: {err})") from None
    if shape is None or shape[0] <= 0:
        reader.close()
        raise DataError(video, "cannot read the video (no decodable frames; is it a video "
                               "file sleap-io's reader supports?)")
    return reader, int(shape[0])


def _png_bytes(frame: np.ndarray) -> bytes:
    from PIL import Image

    arr = np.asarray(frame)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    buf = io.BytesIO()
    Image.fromarray(arr.astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def open_video_frames(video: str | Path, skeleton: str | Path | Skeleton, every: int = 1,
                      cache_dir: str | Path | None = None, cancel: CancelToken | None = None
                      ) -> Generator[Progress, None, PoseCollection]:
    """Every ``every``-th frame of ``video`` (frames 0, k, 2k, ...) as one sample.

    Frames are read with :func:`sleap_io.load_video` and written as
    ``<cache_dir>/<video stem>_<frame:06d>.png`` (atomic writes; a frame already there is
    reused).

    Args:
        video: a video file (:data:`VIDEO_SUFFIXES`).
        skeleton: the student's skeleton (built-in name, JSON path or Skeleton).
        every: keep every k-th frame, ``k >= 1``.
        cache_dir: where the PNGs go (created); default ``<video stem>_frames`` beside it.
        cancel: checked before every frame.

    Yields:
        :class:`Progress` records (stage ``"frames"``, one per written frame).

    Returns:
        PoseCollection with ``sample_ids`` ``"<video name>#<frame index>"``, ``image_paths``
        the PNGs, ``image_sizes`` (N, 2) int32, ``metadata["per_sample"]["frame"]`` (N,)
        int64 frame indices, ``metadata["video"]`` the video path, ``source`` the video.

    Raises:
        DataError: ``every < 1``, a missing or unreadable video, a frame that cannot be
            decoded (each naming the video file).
        Cancelled: ``cancel`` was set (frames already written stay in the cache).
    """
    video = Path(video)
    if int(every) < 1:
        raise DataError(video, f"every must be at least 1, not {every}")
    cancel = cancel or CancelToken()
    sk = get_skeleton(skeleton)
    cache = Path(cache_dir) if cache_dir is not None else video.with_name(f"{video.stem}_frames")
    reader, n_frames = _open_video(video)
    indices = list(range(0, n_frames, int(every)))
    paths: list[Path] = []
    try:
        cache.mkdir(parents=True, exist_ok=True)
        for k, f in enumerate(indices):
            cancel.check()
            out = cache / f"{video.stem}_{f:06d}.png"
            if not out.is_file():
                try:
                    frame = reader[f]
                except Exception as err:  # noqa: BLE001 - decoder errors vary by backend
                    raise DataError(video, f"cannot decode frame {f} ({err})") from None
                atomic_write_bytes(out, _png_bytes(frame))
            paths.append(out)
            yield Progress("frames", k + 1, len(indices),
                           message=f"frame {f} of {n_frames} ({video.name})")
    finally:
        reader.close()
    coll = blank_collection(sk, paths, [f"{video.name}#{f}" for f in indices], video,
                            {"frame": np.asarray(indices, np.int64)})
    coll.metadata["video"] = str(video)
    from poselab.io.folder import flag_images

    sizes, problems = probe_images(paths)
    coll.image_sizes = sizes
    flag_images(coll, problems)
    log.info("%s: %d of %d frames (every %d) in %s", video, len(indices), n_frames, every, cache)
    return coll
