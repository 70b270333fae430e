"""Thumbnails of a collection's images, made in a worker and cached on disk.

:func:`make_thumbnails` is a plain progress generator (no Qt): it yields batches of
``(sample index, (h, w, 3) uint8 RGB array)`` pairs wrapped in :class:`ThumbBatch`, reading
each thumbnail from the cache when it is there and otherwise decoding the image at reduced
resolution (:func:`poselab.io.images.read_image` with ``reduce``: a reduced JPEG DCT decode,
several times faster than a full decode for 1920×1080 JPEGs, EXIF orientation applied) and
writing the cache. With a landmark box per sample the thumbnail shows that box with a margin
(a face in a 1920×1080 frame fills its thumbnail), decoded at the coarsest reduction that
still gives the thumbnail's height. The cache lives in ``platformdirs.user_cache_dir
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


#: Margin around the landmarks' box, as a fraction of its larger side on each side.
BOX_MARGIN = 0.35


def landmark_boxes(keypoints_2d: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """``(N, 4)`` float ``x0, y0, x1, y1`` pixels: the observed landmarks' square box with
    :data:`BOX_MARGIN`; NaN rows where fewer than two landmarks are observed."""
    kp = np.asarray(keypoints_2d, float)
    obs = np.asarray(visibility) > 0
    out = np.full((len(kp), 4), np.nan)
    ok = obs.sum(1) >= 2
    if ok.any():
        big = np.where(obs[..., None], kp, np.nan)[ok]
        lo, hi = np.nanmin(big, 1), np.nanmax(big, 1)
        c = (lo + hi) / 2
        half = np.maximum((hi - lo).max(1), 16.0) * (0.5 + BOX_MARGIN)
        out[ok] = np.concatenate([c - half[:, None], c + half[:, None]], 1)
    return out


def _key(path: Path, box=None) -> str | None:
    try:
        st = path.stat()
    except OSError:
        return None
    crop = "" if box is None else "|" + ",".join(f"{v:.0f}" for v in box)
    raw = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{THUMB_HEIGHT}{crop}"
    return hashlib.sha1(raw.encode()).hexdigest()


def thumbnail(path: Path, height: int = THUMB_HEIGHT, box=None) -> np.ndarray | None:
    """Decode ``path`` into an ``(height, w, 3)`` uint8 RGB thumbnail, or None if unreadable.

    Args:
        box: ``(x0, y0, x1, y1)`` pixels of the full image to show (clipped to it), or None
            for the whole image.
    """
    import cv2

    from poselab.core.errors import DataError
    from poselab.io.images import read_image  # the one reader: EXIF orientation applied

    def decode(reduce: int) -> np.ndarray | None:  # RGB
        try:
            return read_image(path, reduce)
        except DataError:
            return None

    if box is not None and np.isfinite(box).all():
        side = max(box[2] - box[0], box[3] - box[1])
        r = next((r for r in (8, 4, 2) if side / r >= height), 1)
        img = decode(r)
        if img is not None:
            h, w = img.shape[:2]
            x0, y0, x1, y1 = (int(round(v / r)) for v in box)
            x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
            if x1 - x0 >= 2 and y1 - y0 >= 2:
                crop = img[y0:y1, x0:x1]
                ch, cw = crop.shape[:2]
                crop = cv2.resize(crop, (max(1, round(cw * height / ch)), height),
                                  interpolation=cv2.INTER_AREA if ch > height
                                  else cv2.INTER_LINEAR)
                return np.ascontiguousarray(crop)
    img = decode(8)
    if img is None or img.shape[0] < height:  # small image: decode at full size
        img = decode(1)
    if img is None:
        return None
    h, w = img.shape[:2]
    if h > height:
        img = cv2.resize(img, (max(1, round(w * height / h)), height),
                         interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img)


def make_thumbnails(paths: Sequence[Path | None], order: Sequence[int] | None = None,
                    cancel: CancelToken | None = None, batch: int = 16,
                    boxes: np.ndarray | None = None) -> Generator[ThumbBatch, None, int]:
    """Yield thumbnails of ``paths`` in ``order`` (default 0..N-1), cached on disk.

    Args:
        paths: N image paths (None entries are skipped).
        order: sample indices to process first-to-last (e.g. the visible rows first).
        cancel: checked at every yield.
        batch: thumbnails per yielded :class:`ThumbBatch`.
        boxes: ``(N, 4)`` pixel boxes to crop to (:func:`landmark_boxes`; NaN rows: whole
            image), or None.

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
        box = None
        if boxes is not None and np.isfinite(boxes[i]).all():
            box = boxes[i]
        key = _key(p, box)
        img = None
        cached = folder / f"{key}.jpg" if key else None
        if cached is not None and cached.exists():
            bgr = cv2.imread(str(cached), cv2.IMREAD_COLOR)
            img = None if bgr is None else np.ascontiguousarray(bgr[:, :, ::-1])
        if img is None:
            img = thumbnail(p, box=box)
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
