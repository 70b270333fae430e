"""Targets, batches and augmentation of the lifter students (paper 001; DESIGN.md §5b–c).

Everything is in the student's normalised units (DESIGN §3, the collection's own landmark box,
:func:`poselab.distill.inputs.prepare_targets`), crop camera frame (x right, y down, z forward).
The 3D target of the lifting encoder (paper 001 Eq. 6) depends on ``lifter_target``:

- ``"gt"`` (paper 001's supervised setting): x, y = the observed 2D, z = the ground-truth depth
  converted to normalised units by the weak-perspective fit of
  :func:`poselab.distill.losses.gt_depth_normalized`.
- ``"teacher3d"``: the teacher's 3D as pseudo-labels: z = its depth; x, y = the observed 2D,
  or for unobserved landmarks the teacher's x, y shifted onto the observed ones.
- ``"distill"``: x, y as ``teacher3d``; the depth is scored by paper 000's distilling loss
  (Eq. 13–14, :func:`poselab.distill.losses.distill_depth_loss`) instead of a target.

Geometric augmentation is a linear map ``A`` of the crop camera frame with a joint permutation
(:func:`poselab.distill.data.augment_batch`); :func:`transform_batch` applies it to the 2D, the
3D target, the masks and the teacher's rotated dictionary alike, so all terms stay consistent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.distill.inputs import Targets, prepare_targets


@dataclass
class LifterTargets:
    """Per-sample arrays for lifter training.

    Attributes:
        base: the shared :class:`~poselab.distill.inputs.Targets` (w, observed, centre, scale,
            teacher terms, ground-truth depth).
        target_3d: ``(N, J, 3)`` float32 encoder target, normalised units (zeros where unknown).
        xy_mask, z_mask: ``(N, J)`` bool, joints whose target x, y / depth is known.
        distill: True when depth is scored by the distilling loss (``lifter_target="distill"``).
    """

    base: Targets
    target_3d: np.ndarray
    xy_mask: np.ndarray
    z_mask: np.ndarray
    distill: bool = False


def lifter_targets(collection: PoseCollection, teacher, lifter_target: str) -> LifterTargets:
    """Build the encoder targets of :class:`LifterTargets` (module doc).

    Args:
        collection: N samples (its 3D is read only for ``lifter_target="gt"``).
        teacher: :class:`poselab.nrsfm.result.NRSfMResult` on the same samples, or None.
        lifter_target: ``"gt" | "teacher3d" | "distill"``.

    Raises:
        DataError: ``"gt"`` without 3D ground truth; a teacher target without a teacher.
    """
    src = collection.source
    if lifter_target == "gt" and not collection.has_3d:
        raise DataError(src, "lifter_target='gt' needs 3D ground truth; the collection has "
                             "none (use 'teacher3d' or 'distill' with an NRSfM teacher)")
    if lifter_target in ("teacher3d", "distill") and teacher is None:
        raise DataError(src, f"lifter_target={lifter_target!r} needs an NRSfM teacher "
                             f"(run `poselab nrsfm` first)")
    if lifter_target not in ("gt", "teacher3d", "distill"):
        raise DataError(src, f"unknown lifter_target {lifter_target!r}")
    base = prepare_targets(collection, teacher)
    obs = base.observed
    N, J = obs.shape
    target = np.zeros((N, J, 3), np.float32)
    if lifter_target == "gt":
        target[..., :2] = base.w
        target[..., 2] = base.gt_z
        return LifterTargets(base, target, obs.copy(), np.ones_like(obs))
    t3 = base.teacher_3d
    m = obs[..., None].astype(np.float32)
    cnt = np.maximum(m.sum(1, keepdims=True), 1)
    offset = ((base.w - t3[..., :2]) * m).sum(1, keepdims=True) / cnt
    target[..., :2] = np.where(obs[..., None], base.w, t3[..., :2] + offset)
    target[..., 2] = t3[..., 2]
    ones = np.ones_like(obs)
    return LifterTargets(base, target, ones, ones.copy(), distill=lifter_target == "distill")


def gather_batch(t: LifterTargets, idx: np.ndarray, device) -> dict:
    """Torch tensors of samples ``idx``: ``w (B,J,2)``, ``observed``, ``target (B,J,3)``,
    ``xy_mask``, ``z_mask`` ``(B,J)`` and, for the distilling loss, ``B (B,J,3,K)`` (the
    teacher's rotated dictionary, paper 000 Eq. 6) and ``codes (B,K)``."""
    import torch

    from poselab.distill.losses import rotated_dictionary

    def tt(a):
        return torch.from_numpy(np.ascontiguousarray(a[idx])).to(device)

    out = {"w": tt(t.base.w), "observed": tt(t.base.observed), "target": tt(t.target_3d),
           "xy_mask": tt(t.xy_mask), "z_mask": tt(t.z_mask)}
    if t.distill:
        D = torch.from_numpy(t.base.dictionary).to(device)
        out["B"] = rotated_dictionary(D, tt(t.base.rotations))
        out["codes"] = tt(t.base.codes)
    return out


def transform_batch(batch: dict, A, perm) -> dict:
    """Apply the frame map ``X' = A X[perm]`` (``A (B,3,3)``, ``perm (B,J)`` long) to a batch
    from :func:`gather_batch`: 2D uses ``A[:, :2, :2]``; masks and codes only permute/keep."""
    import torch

    def p(x):
        return torch.gather(x, 1, perm.view(*perm.shape, *([1] * (x.ndim - 2))).expand_as(x))

    out = dict(batch)
    out["w"] = torch.einsum("bac,bjc->bja", A[:, :2, :2], p(batch["w"]))
    out["target"] = torch.einsum("bac,bjc->bja", A, p(batch["target"]))
    for k in ("observed", "xy_mask", "z_mask"):
        out[k] = p(batch[k])
    if "B" in batch:
        out["B"] = torch.einsum("bac,bjck->bjak", A, p(batch["B"]))
    return out


def random_flip(batch_size: int, flip_perm, generator, device, enabled: bool = True):
    """Mirror half the samples: ``A = diag(−1, 1, 1)`` and the left/right permutation.

    Returns ``(A (B,3,3), perm (B,J))`` for :func:`transform_batch` (identity when disabled).
    """
    import torch

    J = flip_perm.numel()
    flip = (torch.rand(batch_size, generator=generator) < 0.5) & enabled
    A = torch.eye(3).repeat(batch_size, 1, 1)
    A[:, 0, 0] = torch.where(flip, -1.0, 1.0)
    ident = torch.arange(J)
    perm = torch.where(flip[:, None], flip_perm.cpu()[None, :], ident[None, :])
    return A.to(device), perm.to(device)
