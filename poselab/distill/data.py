"""Image crops and augmentation for the integral student (DESIGN.md §3, paper 000 §5.1).

Crops: per sample, the square of side ``CROP_MARGIN`` × the landmark box's larger side centred
on the box centre (:mod:`poselab.core.normalize`), resized to ``input_size`` pixels. Every image
is decoded once with :func:`poselab.io.images.read_image` (Pillow, EXIF orientation applied;
samples whose image is unreadable are left out first by :func:`drop_unusable_images`; large
images are area-downsampled first, so small crops do not alias) and the crops are kept in
memory as ``(N, S, S, 3)`` uint8 RGB. :func:`build_crops` is a generator yielding
:class:`Progress` so the GUI runs it in its worker thread; the last crop set is memoised so a
second training run on the same data skips the decoding.

Augmentation (:func:`augment_batch`, on the training device, batched): random scale, in-plane
rotation, horizontal flip with the skeleton's left/right swap, and per-channel colour gain. The
geometric part is one linear map ``A`` of the crop's camera frame (``A = s · R_z(θ) · F`` with
``F = diag(−1, 1, 1)`` when flipped) applied to the image, the 2D labels, every 3D target *and*
the teacher's rotated dictionary (``B ← A B``, joints permuted when flipped; the codes φ_nrsfm
do not change). So the distilling loss sees consistently flipped/rotated teacher terms and flip
augmentation stays on for it: a mirrored code is a valid code of the mirrored dictionary.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Generator
from pathlib import Path

import numpy as np

from poselab.core.errors import DataError
from poselab.core.normalize import CROP_MARGIN
from poselab.core.progress import CancelToken, EtaClock, Progress

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_MEMO: dict[tuple, np.ndarray] = {}


def _read_image(path: Path):
    """``(H, W, 3)`` uint8 RGB with EXIF orientation applied — poselab's one image reader
    (:func:`poselab.io.images.read_image`), so crops match the sizes the labels were read with."""
    from poselab.io.images import read_image

    return read_image(path)


def drop_unusable_images(collection):
    """The samples whose image can be decoded, with one warning naming how many were left out.

    Images flagged when the collection was opened (``metadata["per_sample"]["image_problem"]``,
    :func:`poselab.io.open_folder`) or whose header cannot be read now (missing, truncated)
    are excluded from image training and prediction; their landmarks stay in the collection
    for NRSfM.

    Returns:
        ``(subset, kept)``: the collection of usable samples and their ``(M,)`` int indices.

    Raises:
        DataError: no sample has a usable image.
    """
    from poselab.io.images import image_problems

    problems = image_problems(collection)
    kept = np.flatnonzero(problems == "")
    if len(kept) == len(collection):
        return collection, kept
    bad = [i for i in range(len(collection)) if problems[i]]
    if not len(kept):
        raise DataError(collection.source, f"no usable image: all {len(bad)} samples' images "
                                           f"are unreadable (e.g. {problems[bad[0]]})")
    log.warning("%d of %d samples left out: their images are unreadable (e.g. %s: %s)",
                len(bad), len(collection), collection.image_paths[bad[0]], problems[bad[0]])
    return collection.subset(kept), kept


def crop_image(image: np.ndarray, centre: np.ndarray, scale: float, size: int,
               margin: float = CROP_MARGIN) -> np.ndarray:
    """One square crop (DESIGN §3) of an RGB image.

    Args:
        image: ``(H, W, 3)`` uint8. centre: ``(2,)`` pixels (pixel centres at integers).
        scale: larger side of the landmark box, pixels. size: output side, pixels.

    Returns:
        ``(size, size, 3)`` uint8; continuous crop coordinate ``u`` (0 = left edge) shows image
        point ``x = c − margin·s/2 + u · margin·s/size``; outside the image is black.
    """
    import cv2

    side = margin * float(scale)
    a = side / size  # image pixels per crop pixel
    x0 = np.asarray(centre, np.float64) - side / 2
    f = 1
    while a / (f * 2) >= 1.5:
        f *= 2
    if f > 1:
        h, w = image.shape[:2]
        image = cv2.resize(image, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    # crop pixel k (centre at u = k + ½) → full-res x = x0 + (k+½)a → reduced (x + ½)/f − ½
    af = a / f
    bx = (x0[0] + 0.5 * a + 0.5) / f - 0.5
    by = (x0[1] + 0.5 * a + 0.5) / f - 0.5
    M = np.array([[af, 0, bx], [0, af, by]], np.float64)
    return cv2.warpAffine(image, M, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))


def build_crops(image_paths, centre: np.ndarray, scale: np.ndarray, size: int,
                cancel: CancelToken | None = None,
                ) -> Generator[Progress, None, np.ndarray]:
    """Decode each image once and cut every sample's crop (generator; returns the crops).

    Args:
        image_paths: ``N`` paths (several samples may share one image).
        centre: ``(N, 2)`` pixels. scale: ``(N,)`` pixels. size: crop side in pixels.

    Returns:
        ``(N, size, size, 3)`` uint8 RGB crops.

    An image that cannot be decoded gives blank (zero) crops and one warning for all of them,
    instead of failing; leave such samples out first with :func:`drop_unusable_images`.

    Raises:
        DataError: an image path is None, or no image can be decoded. Cancelled: via
            ``cancel``.
    """
    paths = [None if p is None else Path(p) for p in image_paths]
    key = (tuple(str(p) for p in paths), np.round(centre, 3).tobytes(),
           np.round(scale, 3).tobytes(), size)
    if key in _MEMO:
        return _MEMO[key]
    n = len(paths)
    out = np.zeros((n, size, size, 3), np.uint8)
    order = sorted(range(n), key=lambda i: str(paths[i]))
    clock = EtaClock(n)
    current, image = None, None
    unreadable: dict[Path, str] = {}
    for done, i in enumerate(order, 1):
        if paths[i] is None:
            raise DataError(None, f"sample {i} has no image; the integral student needs images")
        if paths[i] != current:
            current = paths[i]
            try:
                image = _read_image(current)
            except DataError as err:  # one bad image must not sink the job: blank crop
                image, unreadable[current] = None, err.problem
        if image is not None:
            out[i] = crop_image(image, centre[i], float(scale[i]), size)
        if done % 256 == 0 or done == n:
            if cancel is not None:
                cancel.check()
            yield Progress("crops", done, n, {}, clock.eta(done), f"cropping images {done}/{n}",
                           kind="step")
    if unreadable:
        if len(unreadable) == len(set(paths)):
            first = next(iter(unreadable))
            raise DataError(first, f"no image can be decoded ({unreadable[first]})")
        first = next(iter(unreadable))
        log.warning("%d unreadable image(s) give blank crops (e.g. %s: %s); "
                    "drop_unusable_images() leaves their samples out", len(unreadable), first,
                    unreadable[first])
        return out  # not memoised: the files may be repaired
    _MEMO.clear()  # keep one crop set in memory
    _MEMO[key] = out
    return out


def augment_batch(images, generator, *, rotation_deg: float, scale_range: float, flip: bool,
                  colour: bool, flip_perm):
    """Random similarity (scale, rotation, optional mirror) + colour gain for one batch.

    Args:
        images: ``(B, 3, S, S)`` float in [0, 1] on the training device.
        generator: ``torch.Generator`` on the CPU (reproducible, checkpointed).
        rotation_deg, scale_range: uniform ranges ``θ ∈ ±rotation_deg``, ``s ∈ 1 ± scale_range``.
        flip: mirror half of the samples. colour: per-channel gains in [0.8, 1.2].
        flip_perm: ``(J,)`` long tensor, the skeleton's left/right permutation.

    Returns:
        ``(images, A, perm)``: warped images, ``(B, 3, 3)`` linear maps of the crop camera
        frame (apply to x, y, z columns: ``X' = A X``; the 2D map is ``A[:, :2, :2]``), and
        ``(B, J)`` long joint index per output joint (``X'[:, j] = A X[:, perm[:, j]]``).
    """
    import torch
    import torch.nn.functional as F

    b = images.shape[0]
    dev = images.device
    u = torch.rand(b, 4, generator=generator)
    theta = (2 * u[:, 0] - 1) * math.radians(rotation_deg)
    s = 1 + (2 * u[:, 1] - 1) * scale_range
    mirrored = (u[:, 2] < 0.5) & flip
    c, si = torch.cos(theta), torch.sin(theta)
    A = torch.zeros(b, 3, 3)
    A[:, 0, 0], A[:, 0, 1], A[:, 1, 0], A[:, 1, 1] = c, -si, si, c
    A[:, 2, 2] = 1.0
    A[:, :, 0] *= torch.where(mirrored, -1.0, 1.0)[:, None]  # right-multiply by F
    A = A * s[:, None, None]
    theta_grid = torch.zeros(b, 2, 3)
    theta_grid[:, :, :2] = torch.linalg.inv(A[:, :2, :2])
    grid = F.affine_grid(theta_grid.to(dev), list(images.shape), align_corners=False)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if colour:
        gains = 0.8 + 0.4 * torch.rand(b, 3, 1, 1, generator=generator)
        out = (out * gains.to(dev)).clamp(0, 1)
    J = flip_perm.numel()
    ident = torch.arange(J)
    perm = torch.where(mirrored[:, None], flip_perm.cpu()[None, :], ident[None, :])
    return out, A.to(dev), perm.to(dev)


def to_network_input(images_uint8):
    """``(B, S, S, 3)`` uint8 → ``(B, 3, S, S)`` float32 in [0, 1] (same device)."""
    return images_uint8.permute(0, 3, 1, 2).float().div_(255.0)


def normalise_input(images):
    """ImageNet mean/std normalisation of ``(B, 3, S, S)`` [0, 1] images."""
    import torch

    mean = torch.tensor(IMAGENET_MEAN, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=images.device).view(1, 3, 1, 1)
    return (images - mean) / std
