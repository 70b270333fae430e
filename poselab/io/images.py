"""The one image reader of poselab (Pillow): sizes, EXIF orientation, pixels, finding images.

Every place that needs an image's size or pixels goes through here, so they agree: sizes come
from Pillow's lazy header read (no decoding; opening a folder of 2000 full-HD JPEGs stays
well under 2 s) with the EXIF orientation applied, exactly as :func:`read_image` returns the
pixels (``ImageOps.exif_transpose``). A truncated JPEG is caught by its missing end-of-image
marker ``FF D9``, a truncated PNG by its missing ``IEND`` chunk; :func:`probe_images` reports
such files per image instead of failing the whole dataset.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from poselab.core.errors import DataError

log = logging.getLogger(__name__)

#: File name suffixes treated as images (lower case).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")

_ORIENTATION = 0x0112  # EXIF tag
_SWAPS_AXES = (5, 6, 7, 8)  # orientations that transpose width and height

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


def _check_tail(fh, path: Path, fmt: str, sof: int = 0) -> None:
    """Raise DataError when a JPEG lacks its ``FF D9`` end marker or a PNG its IEND chunk.

    Fast path: the marker within the last KiB. Files with a long trailer after the image
    (e.g. phone "motion photos" that append a video) are read whole: the end marker must come
    after the main image's first scan (``FF DA``), where entropy-coded data cannot contain it.
    """
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(max(0, size - 1024))
    tail = fh.read()
    if fmt == "JPEG":
        if b"\xff\xd9" in tail:
            return
        fh.seek(0)
        data = fh.read()
        sos = data.find(b"\xff\xda", sof)
        if sos < 0 or data.find(b"\xff\xd9", sos) < 0:
            raise DataError(path, "truncated JPEG (no end-of-image marker FFD9)")
    elif fmt == "PNG" and b"IEND" not in tail[-64:]:
        raise DataError(path, "truncated PNG (no IEND chunk)")


def _open(path: Path):
    """Pillow's lazy open (reads the header only), errors as DataError naming the file."""
    from PIL import Image, UnidentifiedImageError

    try:
        return Image.open(path)
    except FileNotFoundError:
        raise DataError(path, "image file is listed but missing") from None
    except UnidentifiedImageError:
        raise DataError(path, "not a readable image (unknown or damaged header)") from None
    except OSError as err:
        if "truncated" in str(err).lower():
            kind = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}.get(path.suffix.lower(),
                                                                         "image")
            raise DataError(path, f"truncated {kind} (cut inside the header)") from None
        raise DataError(path, f"cannot read image ({err.strerror or err})") from None
    except Exception as err:  # Pillow raises many types for damaged headers
        raise DataError(path, f"not a readable image ({err})") from None


def _orientation(im) -> int:
    try:
        return int(im.getexif().get(_ORIENTATION, 1) or 1)
    except Exception:  # a damaged EXIF block: decoders ignore it, so do we
        return 1


def _probe(path: Path, check: bool) -> tuple[tuple[int, int], str]:
    """``((width, height), problem)``: the displayed size ((0, 0) when the header cannot be
    read) and "" or the one-line problem (missing, unreadable, truncated)."""
    try:
        with _open(path) as im:
            w, h = im.size
            if _orientation(im) in _SWAPS_AXES:
                w, h = h, w
            if check and im.format in ("JPEG", "PNG"):
                try:
                    with open(path, "rb") as fh:
                        _check_tail(fh, path, im.format)
                except DataError as err:
                    return (int(w), int(h)), err.problem
                except OSError as err:
                    return (int(w), int(h)), f"cannot read image ({err.strerror or err})"
    except DataError as err:
        return (0, 0), err.problem
    return (int(w), int(h)), ""


def image_size(path: str | Path, check: bool = True) -> tuple[int, int]:
    """``(width, height)`` in pixels of an image as displayed, from its header (no decoding).

    EXIF orientation is applied: a phone photo stored 100×40 with orientation 6 (rotate 90°)
    is 40×100, as :func:`read_image` returns it and as the landmarks were clicked on it.

    Args:
        path: the image file.
        check: also check that a JPEG/PNG is complete (end marker present).

    Raises:
        DataError: the file is missing, unreadable, truncated, or not an image (names it).
    """
    path = Path(path)
    size, problem = _probe(path, check)
    if problem:
        raise DataError(path, problem)
    return size


def read_image(path: str | Path, reduce: int = 1) -> np.ndarray:
    """Decode an image as ``(H, W, 3)`` uint8 RGB with its EXIF orientation applied.

    The one pixel reader of poselab (GUI view, thumbnails, training crops, prediction), so
    pixels and :func:`image_size` agree. Files that decoders accept with "corrupt data"
    warnings (damaged entropy-coded data, extraneous bytes) load; files whose data stop
    early do not.

    Args:
        path: the image file.
        reduce: 1, 2, 4 or 8: decode at 1/reduce of the size in each direction (JPEGs at a
            reduced DCT scale, others resized), ``(ceil(H / reduce), ceil(W / reduce), 3)``.

    Raises:
        DataError: missing, truncated or not an image (names the file).
    """
    from PIL import Image, ImageOps

    path = Path(path)
    with _open(path) as im:
        try:
            w, h = im.size
            full = (h, w) if _orientation(im) in _SWAPS_AXES else (w, h)
            if reduce > 1 and im.format == "JPEG":
                im.draft("RGB", (-(-w // reduce), -(-h // reduce)))
            im.load()
            im = ImageOps.exif_transpose(im)
            rgb = im.convert("RGB")
        except DataError:
            raise
        except Exception as err:  # Pillow: OSError("image file is truncated"), SyntaxError, ...
            raise DataError(path, f"cannot decode image ({err})") from None
    target = (-(-full[0] // reduce), -(-full[1] // reduce))
    if rgb.size != target:
        rgb = rgb.resize(target, Image.Resampling.BOX)
    return np.asarray(rgb, np.uint8)


def read_thumbnail(path: str | Path, height: int) -> np.ndarray:
    """A ``(≤height, w, 3)`` uint8 RGB preview, EXIF orientation applied, aspect kept.

    JPEGs are decoded at a reduced DCT scale (``read_image(reduce=…)``), so a 12-megapixel
    photo costs a fraction of a full decode.

    Raises:
        DataError: as :func:`read_image`.
    """
    from PIL import Image

    _, h = image_size(path, check=False)
    reduce = next((r for r in (8, 4, 2) if h / r >= height), 1)
    img = Image.fromarray(read_image(path, reduce))
    if img.height > height:
        img = img.resize((max(1, round(img.width * height / img.height)), height),
                         Image.Resampling.BOX)
    return np.asarray(img, np.uint8)


def probe_images(paths: Sequence[str | Path | None], check: bool = True
                 ) -> tuple[np.ndarray | None, dict[Path, str]]:
    """Sizes of every listed image, and the problems of those that cannot be used.

    Each distinct file is read once (several samples may share one image). A missing,
    truncated or unreadable image does not stop the others: its problem is returned, and its
    size is the header's (a truncated file) or ``(0, 0)`` (no readable header).

    Returns:
        ``(sizes, problems)``: sizes ``(N, 2)`` int32 (width, height) as displayed (None when
        any path is None); problems ``{path: one-line problem}`` for the unusable images.
    """
    if not paths or any(p is None for p in paths):
        return None, {}
    cache: dict[Path, tuple[int, int]] = {}
    problems: dict[Path, str] = {}
    out = np.zeros((len(paths), 2), np.int32)
    for i, p in enumerate(paths):
        p = Path(p)
        if p not in cache:
            cache[p], problem = _probe(p, check)
            if problem:
                problems[p] = problem
        out[i] = cache[p]
    return out, problems


def image_sizes(paths: Sequence[str | Path | None], check: bool = True) -> np.ndarray | None:
    """``(N, 2)`` int32 (width, height) of every image; None when any path is None.

    Raises:
        DataError: a listed image is missing, truncated or unreadable (names the first).
    """
    sizes, problems = probe_images(paths, check)
    if problems:
        path, problem = next(iter(problems.items()))
        raise DataError(path, problem)
    return sizes


def image_problems(collection, probe: bool = True) -> np.ndarray:
    """``(N,)`` str: why each sample's image cannot be used ("" when it can).

    Read from ``metadata["per_sample"]["image_problem"]`` (set by
    :func:`poselab.io.open_folder`); when absent and ``probe``, the headers are read now
    (no decoding). Samples without an image get "".
    """
    per = collection.metadata.get("per_sample", {})
    if "image_problem" in per:
        return np.asarray(per["image_problem"], dtype=str)
    out = np.full(len(collection), "", dtype=object)
    if probe:
        listed = [i for i, p in enumerate(collection.image_paths) if p is not None]
        _, problems = probe_images([collection.image_paths[i] for i in listed])
        for i in listed:
            out[i] = problems.get(Path(collection.image_paths[i]), "")
    return out.astype(str)


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
