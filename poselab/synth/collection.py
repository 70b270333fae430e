"""Render many poses into an ordinary image collection (JPEG + COCO JSON + 3D sidecar).

Layout of ``out_dir`` (readable by :func:`poselab.io.open_folder`)::

    images/000000.jpg …          square person crops, ``size`` × ``size`` px
    annotations.json             COCO keypoints (2D landmarks in crop pixels, visibility 1/2)
    annotations.3d.npz           sidecar: sample_ids, keypoints_3d (mm, camera frame),
                                 intrinsics (crop K, pixels), units

Projecting ``keypoints_3d`` with the stored crop intrinsics gives the stored 2D landmarks.
Everything is written into a temporary folder beside ``out_dir`` and renamed at the end, so a
cancelled or failed job leaves nothing partial.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
from collections.abc import Generator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.progress import CancelToken, EtaClock, Progress
from poselab.core.skeleton import Skeleton
from poselab.synth.render import render_pose

log = logging.getLogger(__name__)

ANNOTATION_NAME = "annotations.json"
IMAGE_DIR = "images"


def sample_rng(seed: int, index: int) -> np.random.Generator:
    """The random generator of sample ``index`` (independent of chunking and worker count)."""
    return np.random.default_rng([int(seed), int(index)])


def _render_chunk(indices: np.ndarray, keypoints_3d: np.ndarray, intrinsics: np.ndarray,
                  skeleton: Skeleton, size: int, seed: int, quality: int, image_dir: str
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Render and write samples ``indices``; returns their indices, 2D, visibility and K."""
    n = len(indices)
    J = skeleton.num_joints
    kp = np.zeros((n, J, 2), np.float32)
    vis = np.zeros((n, J), np.uint8)
    K = np.zeros((n, 3, 3), np.float32)
    for k, i in enumerate(indices):
        try:
            r = render_pose(keypoints_3d[k], intrinsics[k], skeleton, size,
                            rng=sample_rng(seed, i))
        except DataError as err:  # DataError does not survive pickling across processes
            raise ValueError(f"pose {int(i)}: {err.problem}") from None
        path = os.path.join(image_dir, f"{int(i):06d}.jpg")
        ok = cv2.imwrite(path, cv2.cvtColor(r.image, cv2.COLOR_RGB2BGR),
                         [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if not ok:
            raise OSError(f"cannot write {path}")
        kp[k], vis[k], K[k] = r.keypoints_2d, r.visibility, r.intrinsics
    return np.asarray(indices), kp, vis, K


def _check_inputs(keypoints_3d, intrinsics, skeleton: Skeleton) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(keypoints_3d, np.float32)
    J = skeleton.num_joints
    if X.ndim != 3 or X.shape[1:] != (J, 3) or len(X) == 0:
        raise DataError(None, f"keypoints_3d must have shape (N, {J}, 3) with N > 0, "
                              f"got {X.shape}")
    K = np.asarray(intrinsics, np.float32)
    if K.shape == (3, 3):
        K = np.broadcast_to(K, (len(X), 3, 3))
    if K.shape != (len(X), 3, 3):
        raise DataError(None, f"intrinsics must have shape (3, 3) or ({len(X)}, 3, 3), "
                              f"got {K.shape}")
    bad = ~np.isfinite(X).all(axis=(1, 2)) | (X[..., 2] <= 0).any(axis=1)
    if bad.any():
        raise DataError(None, f"pose {int(np.argmax(bad))} has a joint that is not finite or "
                              f"not in front of the camera ({int(bad.sum())} such poses)")
    return X, np.ascontiguousarray(K)


def render_collection(
    keypoints_3d: np.ndarray,
    intrinsics: np.ndarray,
    skeleton: Skeleton,
    out_dir: str | Path,
    size: int = 256,
    seed: int = 0,
    cancel: CancelToken | None = None,
    *,
    workers: int = 1,
    quality: int = 92,
    overwrite: bool = False,
    metadata: dict[str, Any] | None = None,
    chunk: int = 32,
) -> Generator[Progress, None, PoseCollection]:
    """Render every pose into an image collection in ``out_dir`` (see the module docstring).

    A generator: yields :class:`Progress` (stage ``"render"``, step = images done) and returns
    the written :class:`PoseCollection` (image paths in ``out_dir``, keypoints_2d in crop
    pixels, visibility from the occlusion test, keypoints_3d in mm, crop intrinsics).
    The same ``seed`` gives the same images for any ``workers``.

    Args:
        keypoints_3d: ``(N, J, 3)`` joints, camera frame (x right, y down, z forward), mm.
        intrinsics: ``(N, 3, 3)`` or ``(3, 3)`` camera matrices of the original views, pixels.
        skeleton: the joints' skeleton (``h36m17`` renders the full mannequin).
        out_dir: the collection folder to create.
        size: image side in pixels.
        seed: appearance seed.
        cancel: checked at every yield; on cancel raises :class:`Cancelled`, writing nothing.
        workers: processes rendering in parallel (1 renders in this process).
        quality: JPEG quality.
        overwrite: replace an existing non-empty ``out_dir`` (else it is an error).
        metadata: JSON-ready collection metadata; ``metadata["per_sample"]`` may hold ``(N,)``
            arrays (e.g. action names) written per annotation.
        chunk: samples per task.

    Raises:
        DataError: bad shapes, joints behind the camera, or an existing non-empty ``out_dir``
            without ``overwrite``.
        Cancelled: when ``cancel`` was set.
    """
    from poselab.io.coco import write_coco

    X, K = _check_inputs(keypoints_3d, intrinsics, skeleton)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise DataError(out_dir, "exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise DataError(out_dir, "folder exists and is not empty (choose another or overwrite)")
    N = len(X)
    token = cancel or CancelToken()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / IMAGE_DIR).mkdir(parents=True)
    kp = np.zeros((N, skeleton.num_joints, 2), np.float32)
    vis = np.zeros((N, skeleton.num_joints), np.uint8)
    Kc = np.zeros((N, 3, 3), np.float32)
    clock = EtaClock(N)
    done = 0
    chunks = [np.arange(s, min(N, s + chunk)) for s in range(0, N, chunk)]
    image_dir = str(tmp / IMAGE_DIR)
    pool = None
    try:
        token.check()
        yield Progress("render", 0, N, message=f"rendering {N} images at {size} px")
        todo = {int(c[0]): c for c in chunks}
        if workers > 1 and len(chunks) > 1:
            pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            pending = {pool.submit(_render_chunk, c, X[c], K[c], skeleton, size, seed, quality,
                                   image_dir) for c in chunks}
            while pending:
                finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                try:
                    for fut in finished:
                        idx, a, b, c = fut.result()
                        kp[idx], vis[idx], Kc[idx] = a, b, c
                        done += len(idx)
                        del todo[int(idx[0])]
                except ValueError as err:
                    raise DataError(None, str(err)) from None
                except BrokenProcessPool:  # e.g. a __main__ without the spawn guard
                    log.warning("rendering processes failed to start; rendering in-process")
                    break
                token.check()
                yield Progress("render", done, N, {"images_per_s": done / clock.elapsed()},
                               clock.eta(done), f"{done}/{N} images")
        for c in list(todo.values()):
            try:
                idx, a, b, c = _render_chunk(c, X[c], K[c], skeleton, size, seed, quality,
                                             image_dir)
            except ValueError as err:
                raise DataError(None, str(err)) from None
            kp[idx], vis[idx], Kc[idx] = a, b, c
            done += len(idx)
            token.check()
            yield Progress("render", done, N, {"images_per_s": done / clock.elapsed()},
                           clock.eta(done), f"{done}/{N} images")
        names = [f"{i:06d}.jpg" for i in range(N)]
        meta = dict(metadata or {})
        meta.setdefault("generator", "poselab.synth")
        meta.update({"size": int(size), "seed": int(seed)})
        collection = PoseCollection(
            skeleton=skeleton, keypoints_2d=kp, visibility=vis,
            image_paths=[tmp / IMAGE_DIR / n for n in names], sample_ids=names,
            keypoints_3d=X, intrinsics=Kc, units_3d="mm",
            image_sizes=np.tile(np.array([size, size], np.int32), (N, 1)), metadata=meta)
        write_coco(collection, tmp / ANNOTATION_NAME)
        token.check()
        _replace_dir(tmp, out_dir)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(tmp, ignore_errors=True)
    collection.image_paths = [out_dir / IMAGE_DIR / n for n in names]
    collection.source = out_dir / ANNOTATION_NAME
    log.info("rendered %d images into %s in %.1f s", N, out_dir, clock.elapsed())
    yield Progress("render", N, N, {"images_per_s": N / max(clock.elapsed(), 1e-9)}, 0.0,
                   f"wrote {out_dir}", kind="info")
    return collection


def _replace_dir(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst``, replacing a previous ``dst`` (moved aside, then removed)."""
    old = None
    if dst.exists():
        old = dst.parent / f".{dst.name}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(dst, old)
    os.replace(src, dst)
    if old is not None:
        with contextlib.suppress(OSError):
            shutil.rmtree(old)


def subsample_evenly(n_total: int, n: int | None) -> np.ndarray:
    """``min(n, n_total)`` indices evenly spread over ``range(n_total)`` (all when n is None)."""
    if n is None or n >= n_total:
        return np.arange(n_total)
    if n <= 0:
        raise DataError(None, f"number of samples must be positive, got {n}")
    return np.unique(np.linspace(0, n_total - 1, n).round().astype(np.int64))


def per_sample_subset(per_sample: dict[str, Sequence], index: np.ndarray) -> dict[str, np.ndarray]:
    """``{key: array[index]}`` for 1-D per-sample arrays (for collection metadata)."""
    return {k: np.asarray(v)[index] for k, v in per_sample.items() if np.asarray(v).ndim == 1}
