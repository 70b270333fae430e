"""Anchor targets for fine-tuning a fitted Deep NRSfM network (beyond paper 000).

Both feed the anchor term of :func:`poselab.nrsfm.train.forward` (camera-frame shapes, box
units): :func:`reflection_targets` give every sample the set's depth sign (the reflection repair
of :mod:`poselab.nrsfm.fit`, :mod:`poselab.nrsfm.reflection`), :func:`rigid_targets` the
network's own 3D with rigid bones (the self-training rounds, :mod:`poselab.nrsfm.articulation`,
:mod:`poselab.nrsfm.noise_aware`).
"""

from __future__ import annotations

import numpy as np

from poselab.nrsfm.config import NRSfMConfig
from poselab.nrsfm.data import NRSfMInputs


def depth_signs(X: np.ndarray, skeleton=None, prior_weight: float | None = None) -> np.ndarray:
    """``(M,)`` int8 −1 where a sample of ``X`` ``(M, J, 3)`` (camera frame, any unit) looks
    depth-mirrored against the rest (:func:`poselab.nrsfm.reflection.consistent_signs`), +1
    elsewhere. With a ``skeleton`` that names both legs, each sample's knees are evidence too
    (:mod:`poselab.nrsfm.anatomy`), weighted ``prior_weight`` (None: the labelling's
    default)."""
    from poselab.nrsfm.anatomy import knee_evidence, leg_joints
    from poselab.nrsfm.reflection import consistent_signs

    legs = None if skeleton is None else leg_joints(skeleton)
    return consistent_signs(X, prior=None if legs is None else knee_evidence(X, legs),
                            prior_weight=prior_weight)


def sign_fixed(X: np.ndarray, skeleton=None) -> tuple[np.ndarray, int]:
    """Shapes ``(M, J, 3)`` with mirrored samples (:func:`depth_signs`) replaced by their depth
    mirror; the count."""
    from poselab.nrsfm.reflection import depth_mirror

    signs = depth_signs(X, skeleton)
    return np.where(signs[:, None, None] < 0, depth_mirror(X), X), int((signs < 0).sum())


def reflection_targets(run, data, extra: dict, min_fraction: float = 0.0, skeleton=None):
    """Targets that give every sample the set's depth sign, or None.

    The targets are the network's own camera-frame shapes ``(N, J, 3)`` (box units) with the
    mirrored samples (:func:`poselab.nrsfm.reflection.consistent_signs`) replaced by their
    depth mirror, as a tensor for the anchor term of :func:`poselab.nrsfm.train.forward`;
    None when at most ``min_fraction`` of the samples (none, by default) are mirrored.
    ``skeleton``: as :func:`sign_fixed`.
    Records ``reflection_mirrored`` in ``extra``. Perspective (``data.sigma`` > 0): the
    set's sign is the one whose shapes reproject better (mean 2D error of the targets and of
    their depth mirror), not the one that mirrors fewer samples.
    """
    import torch

    from poselab.nrsfm.camera import project
    from poselab.nrsfm.reflection import depth_mirror

    X = run.infer(data)["X"]
    fixed, count = sign_fixed(X, skeleton)
    if bool((data.sigma > 0).any()) and count:
        def err(Y):
            Y = torch.as_tensor(Y, dtype=torch.float32, device=data.n.device)
            n_hat, _ = project(Y, data.n, data.mask, data.sigma, data.rc)
            return float(((n_hat - data.n) * data.mask[..., None]).norm(dim=-1).sum())

        if err(depth_mirror(fixed)) < err(fixed):
            fixed, count = depth_mirror(fixed), len(fixed) - count
    extra["reflection_mirrored"] = count
    if count == 0 or count <= min_fraction * len(fixed):
        return None
    return torch.as_tensor(fixed, dtype=torch.float32, device=run.device)


def rigid_targets(run, data, inputs: NRSfMInputs, skeleton, config: NRSfMConfig,
                   noise=None):
    """The network's current 3D with rigid bones, centred, as a ``(N, J, 3)`` tensor for the
    anchor term of :func:`poselab.nrsfm.train.forward` (camera frame, box units), with the
    ``(N, J)`` per-joint confidence weights (None without ``config.noise_aware``) and the
    noise model used (:mod:`poselab.nrsfm.noise_aware`; ``noise`` starts its estimate —
    the previous round's — with fewer iterations).

    The targets go through the labels (:func:`poselab.nrsfm.articulation.refine`) even when
    they are noisy — averaged over many samples the network learns less of their noise than
    of their bone lengths (figures in :mod:`poselab.nrsfm.noise_aware`);
    with ``noise_aware`` each joint is weighted by its confidence (cheap conditional
    variances of the least-squares model). Weak perspective with ``reflection_repair``:
    samples :func:`sign_fixed` finds mirrored are targeted at their depth mirror.
    """
    import torch

    from poselab.nrsfm.articulation import refine

    out = run.infer(data)
    X = out["X"]
    weight = None
    if config.noise_aware and config.exact_2d:
        from poselab.nrsfm.noise_aware import refine_noise_aware

        ref = refine_noise_aware(X, inputs, out["tau"], skeleton, config.bone_lengths,
                                 start=noise, full_covariance=False,
                                 iterations=4 if noise is None else 2, through_labels=True,
                                 converge=False)
        Y, noise = ref.shapes, ref.model
        weight = torch.as_tensor(ref.confidence, dtype=torch.float32, device=run.device)
    else:
        Y, _ = refine(X, inputs, out["tau"], skeleton, config.exact_2d,
                      config.bone_lengths)
    Y -= Y.mean(1, keepdims=True)
    if config.reflection_repair and inputs.camera_model == "weak_perspective":
        Y = sign_fixed(Y, skeleton)[0]  # mirrored samples learn their mirror (the same 2D)
    return torch.as_tensor(Y, dtype=torch.float32, device=run.device), weight, noise
