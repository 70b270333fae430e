"""Restarts of human bodies turned the right way round early in training (issue 15; beyond
paper 000).

The Deep NRSfM network (:mod:`poselab.nrsfm.model`) can represent a body and its depth mirror
equally well, and its random initialisation decides within the first 50 steps which one it
learns: every sample of a restart then comes out as the mirror image, knees bending forward
(:mod:`poselab.nrsfm.anatomy`). Under weak perspective the mirror projects to the same 2D and
only the set's handedness is wrong. Under perspective it does not: the mirrored network has to
bend its shapes to fit the labels, lands in a worse minimum, and no later repair of the
output's signs undoes that. Found on h36m17_train35k (exact labels; ground truth for scoring
only): of restarts seeded 0–4 after 1500 steps only seed 2 implied little label noise (1.2–1.4
px against 2.2–2.8, :func:`poselab.nrsfm.selection.implied_noise`), and trained to the end
alone, seeds 0 / 1 / 2 gave 74.7 / 73.7 / 38.1 mm (tuning split S1/S5/S6, 22040 samples). The
networks of seeds 0 and 3 had the knee evidence negative for every sample (median −0.58 and
−0.73), seed 2's positive for every one (0.67): the bad restarts were the mirrored ones.

So after :data:`CHECK_STEP` steps each restart's shapes of :data:`CHECK_SAMPLES` samples are
asked which way their knees bend, and a restart whose median evidence is negative is turned
into its exact mirror (:func:`mirror_network`) and trained on from there. At step 50 the
evidence was already −1.1 for every sample of seed 0 and +1.1 for seed 2; turned at step 300,
seed 0's objective fell at once (0.1730 → 0.1713) and after 1500 steps it implied 1.03 px
(2.45 unturned; seed 2: 1.14) with MPJPE 100.6 (seed 2: 103.4).

Objects without named legs (:func:`poselab.nrsfm.anatomy.leg_joints`) have no anatomy to ask,
but under perspective the physics tells: the mirror of a restart that learnt the wrong
handedness fits the labels better at once. So a restart is turned when its mirror's NRSfM
objective on the check samples is lower. On the tuning split this verdict agreed with the
knees' for every restart seeded 0–5 at steps 50, 100 and 200 (18 of 18; the mirror's objective
0.4–1.5 % lower for the mirrored ones, 0.4–1.6 % higher for the others). Under weak
perspective the two project alike and such objects keep whichever handedness they found.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

#: Steps each restart trains before its handedness is checked (it is decided by step 50).
CHECK_STEP = 100
#: Samples whose shapes are asked (evenly spaced; the evidence is unanimous in practice).
CHECK_SAMPLES = 512


def mirror_network(run) -> None:
    """Turn a restart into its exact depth mirror, in place, Adam's state included.

    Negating the depth row of every atom of ``D1`` (``S → S F``, ``F = diag(1, 1, −1)``) turns
    each encoder block ``Ψi[k] = φik M`` into ``F Ψi[k]`` (the group thresholds see only block
    norms; the deeper dictionaries mix atoms, not rows), so the camera becomes ``F M`` and the
    codes are unchanged; the camera-frame shape ``S Rᵀ`` then has its depth negated and the
    same x, y (``R``'s third row is ``m1 × m2``, and ``(F m1) × (F m2) = −F (m1 × m2)``). The
    learned response to missing landmarks is negated on the same rows, and Adam's first moment
    with the parameters so that the next step continues the mirrored path.

    Args:
        run: a :class:`poselab.nrsfm.train.Run`.
    """
    import torch

    model = run.model
    J, _, K1 = model.D1.shape
    with torch.no_grad():
        tensors = [(model.D1, model.D1), (model.missing.view(J, 6, K1), model.missing)]
        state = run.opt.state
        for view, param in list(tensors):
            if param in state and "exp_avg" in state[param]:
                tensors.append((state[param]["exp_avg"].view(view.shape), None))
        for t, _ in tensors:
            rows = [2] if t.shape[1] == 3 else [2, 5]  # depth rows: (d) or (c, d) layouts
            t[:, rows, :] *= -1


def turn_mirrored(runs: list, data, skeleton, perspective: bool) -> list[int]:
    """Mirror each restart that learnt the mirror image of its objects (module docstring):
    by the knees for skeletons that name both legs, else under perspective by the objective.

    Args:
        runs: :class:`poselab.nrsfm.train.Run` objects after :data:`CHECK_STEP` steps.
        data: their :class:`poselab.nrsfm.train.Batches`. skeleton: the set's skeleton.
        perspective: whether the camera model is perspective.

    Returns:
        The indices of the restarts turned (empty for objects without named legs under weak
        perspective).
    """
    from poselab.nrsfm.anatomy import knee_evidence, leg_joints

    legs = leg_joints(skeleton)
    if (legs is None and not perspective) or not runs:
        return []
    idx = np.unique(np.linspace(0, data.N - 1, min(data.N, CHECK_SAMPLES)).astype(int))
    turned = []
    for i, run in enumerate(runs):
        out = run.infer(data, idx)
        if legs is not None:
            wrong = np.median(knee_evidence(out["X"], legs)) < 0
        else:  # the mirror fits the labels better: keep it
            mirror_network(run)
            wrong = float(run.infer(data, idx)["obj"].mean()) < float(out["obj"].mean())
            if not wrong:
                mirror_network(run)  # back as it was
        if wrong and legs is not None:
            mirror_network(run)
        if wrong:
            turned.append(i)
            log.info("restart %d learnt the mirror image (%s); turned", i + 1,
                     "knees bending forward" if legs is not None else "its mirror fits better")
    return turned
