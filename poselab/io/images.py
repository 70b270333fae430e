"""Image files without decoding them: sizes from headers, truncation checks, finding images.

Opening a folder of 2000 full-HD JPEGs must take well under 2 s, so nothing here decodes pixels:
JPEG/PNG/BMP sizes come from their headers (a few hundred bytes), a truncated JPEG is caught by
its missing end-of-image marker ``FF D9``, a truncated PNG by its missing ``IEND`` chunk. Other
formats (TIFF) fall back to Pillow's lazy header reader, then to OpenCV (imported lazily).
"""

from __future__ import annotations

import logging
import os
import re
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from poselab.core.errors import DataError

log = logging.getLogger(__name__)

#: File name suffixes treated as images (lower case).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")

_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def is_image(path: str | Path) -> bool:
    """True when the file name ends in one of :data:`IMAGE_SUFFIXES`."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def natural_key(text: str | Path) -> list:
    """Sort key that orders ``img2.png`` before ``img10.png``."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", str(text))]


def find_images(folder: Path, max_depth: int = 3) -> list[Path]:
    """Image files under ``folder`` up to ``max_depth`` levels deep, in natural order.

    Hidden files and folders (starting with ``.``) are skipped.
    """
    found: list[tuple[list, str]] = []
    top = str(folder)
    for dirpath, dirnames, filenames in os.walk(top):
        rel = os.path.relpath(dirpath, top)
        depth = 0 if rel == "." else rel.count(os.sep) + 1
        keep = depth < max_depth - 1
        dirnames[:] = [d for d in dirnames if keep and not d.startswith(".")]
        prefix = "" if rel == "." else rel + "/"
        found.extend((natural_key(prefix + f), os.path.join(dirpath, f)) for f in filenames
                     if not f.startswith(".") and os.path.splitext(f)[1].lower() in IMAGE_SUFFIXES)
    found.sort(key=lambda t: t[0])
    return [Path(f) for _, f in found]


def _jpeg_size(fh, path: Path) -> tuple[int, int, int]:
    """Walk the JPEG marker segments up to the first frame header (SOFn): (width, height,
    offset of the frame header). Embedded EXIF thumbnails sit inside APP segments, skipped."""
    buf = fh.read(4096)
    if buf[:2] != b"\xff\xd8":
        raise DataError(path, "not a JPEG file (no start-of-image marker)")
    pos = 2
    while True:
        if pos + 4 > len(buf):  # segment beyond the first chunk (large EXIF): read on
            fh.seek(pos)
            more = fh.read(65536)
            if not more:
                raise DataError(path, "truncated JPEG (no frame header)")
            buf, pos = buf[:pos] + more, pos
            continue
        if buf[pos] != 0xFF:
            pos += 1
            continue
        marker = buf[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", buf, pos + 2)
        if marker in _SOF:
            if pos + 9 > len(buf):
                fh.seek(pos)
                buf, pos = buf[:pos] + fh.read(16), pos
                if pos + 9 > len(buf):
                    raise DataError(path, "truncated JPEG (cut inside the frame header)")
            height, width = struct.unpack_from(">HH", buf, pos + 5)
            return width, height, pos
        pos += 2 + length


def _check_tail(fh, path: Path, suffix: str, size: int, sof: int = 0) -> None:
    """Raise DataError when a JPEG lacks its ``FF D9`` end marker or a PNG its IEND chunk.

    Fast path: the marker within the last KiB. Files with a long trailer after the image
    (e.g. phone "motion photos" that append a video) are read whole: the end marker must come
    after the main image's first scan (``FF DA``), where entropy-coded data cannot contain it.
    """
    fh.seek(max(0, size - 1024))
    tail = fh.read()
    if suffix in (".jpg", ".jpeg"):
        if b"\xff\xd9" in tail:
            return
        fh.seek(0)
        data = fh.read()
        sos = data.find(b"\xff\xda", sof)
        if sos < 0 or data.find(b"\xff\xd9", sos) < 0:
            raise DataError(path, "truncated JPEG (no end-of-image marker FFD9)")
    elif suffix == ".png" and b"IEND" not in tail[-64:]:
        raise DataError(path, "truncated PNG (no IEND chunk)")


def image_size(path: str | Path, check: bool = True) -> tuple[int, int]:
    """``(width, height)`` in pixels of an image file, read from its header (no decoding).

    Args:
        path: the image file.
        check: also check that a JPEG/PNG is complete (end marker present).

    Raises:
        DataError: the file is missing, unreadable, truncated, or not an image (names it).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(32)
            fh.seek(0)
            sof = 0
            if head[:2] == b"\xff\xd8":
                *wh, sof = _jpeg_size(fh, path)
                suffix = ".jpg"
            elif head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
                wh = struct.unpack(">II", head[16:24])
                suffix = ".png"
            elif head[:2] == b"BM" and len(head) >= 26:
                w, h = struct.unpack("<ii", head[18:26])
                wh = (abs(w), abs(h))
            else:
                wh = None
            if wh is not None and check:
                _check_tail(fh, path, suffix, size, sof)
    except FileNotFoundError:
        raise DataError(path, "image file is listed but missing") from None
    except OSError as err:
        raise DataError(path, f"cannot read image ({err.strerror})") from None
    if wh is None:
        wh = _fallback_size(path)
    return int(wh[0]), int(wh[1])


def _fallback_size(path: Path) -> tuple[int, int]:
    try:
        from PIL import Image

        with Image.open(path) as im:
            return im.size
    except ImportError:
        pass
    except Exception as err:  # Pillow raises many types for bad files
        raise DataError(path, f"not a readable image ({err})") from None
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise DataError(path, "not a readable image")
    return img.shape[1], img.shape[0]


def image_sizes(paths: Sequence[str | Path | None], check: bool = True) -> np.ndarray | None:
    """``(N, 2)`` int32 (width, height) of every image; None when any path is None.

    Each distinct file is read once (several samples may share one image).

    Raises:
        DataError: a listed image is missing, truncated or unreadable (names the file).
    """
    if not paths or any(p is None for p in paths):
        return None
    cache: dict[Path, tuple[int, int]] = {}
    out = np.empty((len(paths), 2), np.int32)
    for i, p in enumerate(paths):
        p = Path(p)
        if p not in cache:
            cache[p] = image_size(p, check=check)
        out[i] = cache[p]
    return out


def resolve_image_root(bases: Iterable[Path], names: Sequence[str]) -> Path:
    """The first folder in ``bases`` where the first and last of ``names`` exist.

    Annotation files store image paths relative to different roots (COCO: an ``images/``
    folder; DeepLabCut: the project folder two levels up); this picks the one that fits.
    Returns the first base when none fits (missing images are reported later, by name).
    """
    bases = list(dict.fromkeys(Path(b) for b in bases))
    probe = [n for n in (names[:1] + names[-1:]) if n] if names else []
    for base in bases:
        if probe and all((base / n).is_file() for n in probe):
            return base
    return bases[0]


def join_image(root: Path, name: str) -> Path:
    """``root / name`` with ``..`` and ``.`` removed (absolute names are kept as they are)."""
    return Path(os.path.normpath(root / name))


def relative_name(path: Path | None, folder: Path) -> str | None:
    """``path`` relative to ``folder`` with forward slashes (``..`` allowed), or None."""
    if path is None:
        return None
    try:
        rel = os.path.relpath(Path(path).resolve(), Path(folder).resolve())
    except ValueError:  # different drives on Windows
        return Path(path).as_posix()
    return Path(rel).as_posix()


def check_points_inside(keypoints_2d: np.ndarray, visibility: np.ndarray,
                        sizes: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: every observed landmark lies inside ``[0, w] × [0, h]`` of its image."""
    obs = visibility > 0
    w = sizes[:, None, 0]
    h = sizes[:, None, 1]
    x, y = keypoints_2d[..., 0], keypoints_2d[..., 1]
    ok = (x >= 0) & (y >= 0) & (x <= w) & (y <= h)
    return (ok | ~obs).all(axis=1)
