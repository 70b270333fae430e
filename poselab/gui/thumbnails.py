"""Thumbnails of a collection's images, made in a worker and cached on disk.

:func:`make_thumbnails` is a plain progress generator (no Qt): it yields batches of
``(sample index, (h, w, 3) uint8 RGB array)`` pairs wrapped in :class:`ThumbBatch`, reading
each thumbnail from the cache when it is there and otherwise decoding the image at reduced
resolution (OpenCV's ``IMREAD_REDUCED_COLOR_*``, several times faster than a full decode for
1920×1080 JPEGs) and writing the cache. The cache lives in ``platformdirs.user_cache_dir
("poselab")/thumbnails``; a key is the image's absolute path, size and modification time, so an
edited image gets a new thumbnail.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poselab.core.progress import CancelToken

log = logging.getLogger(__name__)

THUMB_HEIGHT = 72


@dataclass(frozen=True)
class ThumbBatch:
    """Thumbnails ready for display: ``items`` = [(sample index, (h, w, 3) uint8 RGB)]."""

    items: list[tuple[int, np.ndarray]]
    done: int
    total: int


def cache_dir() -> Path:
    """``user_cache_dir("poselab")/thumbnails`` (``$POSELAB_CACHE_DIR/thumbnails`` if set)."""
    root = os.environ.get("POSELAB_CACHE_DIR")
    if root is None:
        import platformdirs

        root = platformdirs.user_cache_dir("poselab")
    return Path(root) / "thumbnails"


def _key(path: Path) -> str | None:
    try:
        st = path.stat()
    except OSError:
        return None
    raw = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{THUMB_HEIGHT}"
    return hashlib.sha1(raw.encode()).hexdigest()


def thumbnail(path: Path, height: int = THUMB_HEIGHT) -> np.ndarray | None:
    """Decode ``path`` into an ``(height, w, 3)`` uint8 RGB thumbnail, or None if unreadable."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_REDUCED_COLOR_8)
    if img is None or img.shape[0] < height:  # small image: decode at full size
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        return None
    h, w = img.shape[:2]
    if h > height:
        img = cv2.resize(img, (max(1, round(w * height / h)), height),
                         interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img[:, :, ::-1])


def make_thumbnails(paths: Sequence[Path | None], order: Sequence[int] | None = None,
                    cancel: CancelToken | None = None, batch: int = 16
                    ) -> Generator[ThumbBatch, None, int]:
    """Yield thumbnails of ``paths`` in ``order`` (default 0..N-1), cached on disk.

    Args:
        paths: N image paths (None entries are skipped).
        order: sample indices to process first-to-last (e.g. the visible rows first).
        cancel: checked at every yield.
        batch: thumbnails per yielded :class:`ThumbBatch`.

    Returns:
        The number of thumbnails produced.
    """
    import cv2

    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    order = list(range(len(paths))) if order is None else list(order)
    items: list[tuple[int, np.ndarray]] = []
    made = 0
    for done, i in enumerate(order, 1):
        p = paths[i]
        if p is None:
            continue
        p = Path(p)
        key = _key(p)
        img = None
        cached = folder / f"{key}.jpg" if key else None
        if cached is not None and cached.exists():
            bgr = cv2.imread(str(cached), cv2.IMREAD_COLOR)
            img = None if bgr is None else np.ascontiguousarray(bgr[:, :, ::-1])
        if img is None:
            img = thumbnail(p)
            if img is not None and cached is not None:
                tmp = cached.with_suffix(f".{os.getpid()}.tmp.jpg")
                if cv2.imwrite(str(tmp), img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85]):
                    os.replace(tmp, cached)
        if img is not None:
            items.append((i, img))
            made += 1
        if len(items) >= batch:
            if cancel is not None:
                cancel.check()
            yield ThumbBatch(items, done, len(order))
            items = []
    if items:
        yield ThumbBatch(items, len(order), len(order))
    return made
