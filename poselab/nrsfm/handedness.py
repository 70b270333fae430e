"""Restarts that learnt the mirror image of their objects, found early in training (issue 15;
beyond paper 000).

The Deep NRSfM network (:mod:`poselab.nrsfm.model`) can represent a body and its depth mirror
equally well, and its random initialisation decides within the first 50 steps which one it
learns: every sample of a restart then comes out as the mirror image, knees bending forward
(:mod:`poselab.nrsfm.anatomy`). Under weak perspective the mirror projects to the same 2D and
only the set's handedness is wrong (the fit orients the set at the end). Under perspective it
does not: the mirrored network has to bend its shapes to fit the labels, lands in a worse
minimum, and no later repair of the output's signs undoes that. Found on h36m17_train35k
(exact labels; ground truth for scoring only): of restarts seeded 0–4 after 1500 steps only
seed 2 implied little label noise (1.2–1.4 px against 2.2–2.8,
:func:`poselab.nrsfm.selection.implied_noise`), and trained to the end alone, seeds 0 / 1 / 2
gave 74.7 / 73.7 / 38.1 mm (tuning split S1/S5/S6, 22040 samples). The networks of seed 0 there
and of seed 3 on the whole set had the knee evidence negative for every sample (median −0.58
and −0.73), seed 2's on the tuning split positive for every one (0.67): the bad restarts were
the mirrored ones.

So under perspective, after :data:`CHECK_STEP` steps, each restart is asked whether it learnt
the mirror image (:func:`mirrored`, on :data:`CHECK_SAMPLES` samples): bodies by their knees
(median evidence negative); objects without named legs by the physics, since the mirror of
such a restart fits the labels better at once (its NRSfM objective is lower). On the tuning
split the two verdicts agreed for every restart seeded 0–5 at steps 50, 100 and 200 (18 of 18;
the mirror's objective 0.4–1.5 % lower for the mirrored ones, 0.4–1.6 % higher for the others),
and at step 100 for cmu17_train seeds 0–4 and the tuning split with σ = 5 px seeds 0–3.

:func:`keep_right_handed` then explores on only the restarts that learnt the right handedness
by themselves, or, when every one learnt the mirror, turns them all into their exact mirrors
(:func:`mirror_network`) and explores on. Turning works: turned at step 300, seed 0's objective
fell at once (0.1730 → 0.1713), after 1500 steps it implied 1.03 px (2.45 unturned; seed 2:
1.14), and trained alone to the end its output scored 39.2 mm (74.7 unturned; seed 2 38.1);
cmu17_train with seed 2, whose three restarts were all mirrored, 88.2 → 25.7 mm. But turned
restarts beside a natural one were kept and ended worse than the natural one had (the whole
h36m17_train35k, exact, seed 0: 42.6 against 37.5 mm; S7/S8 with σ = 5 px 68.9 against 61.1,
σ = 10 px 81.2 against 76.2), so they are dropped instead — which also saves their
exploration time.
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
    with torch.no_grad():  # depth rows: D1 (J, 3, K1) row d = 2; missing (J, 6, K1), c·3 + d
        for param, shape, rows in ((model.D1, (J, 3, K1), [2]),
                                   (model.missing, (J, 6, K1), [2, 5])):
            for t in (param, run.opt.state.get(param, {}).get("exp_avg")):
                if t is not None:
                    t.view(shape)[:, rows, :] *= -1


def mirrored(runs: list, data, skeleton, perspective: bool) -> list[bool]:
    """Which restarts learnt the mirror image of their objects (module docstring): by the
    knees for skeletons that name both legs, else under perspective by the objective; under
    weak perspective without legs nothing tells (all False).

    Args:
        runs: :class:`poselab.nrsfm.train.Run` objects after :data:`CHECK_STEP` steps.
        data: their :class:`poselab.nrsfm.train.Batches`. skeleton: the set's skeleton.
        perspective: whether the camera model is perspective.
    """
    from poselab.nrsfm.anatomy import knee_evidence, leg_joints

    legs = leg_joints(skeleton)
    if legs is None and not perspective:
        return [False] * len(runs)
    idx = np.unique(np.linspace(0, data.N - 1, min(data.N, CHECK_SAMPLES)).astype(int))
    flags = []
    for run in runs:
        out = run.infer(data, idx)
        if legs is not None:
            flags.append(bool(np.median(knee_evidence(out["X"], legs)) < 0))
            continue
        mirror_network(run)  # does the mirror fit the labels better?
        flags.append(float(run.infer(data, idx)["obj"].mean()) < float(out["obj"].mean()))
        mirror_network(run)  # back as it was
    return flags


def keep_right_handed(runs: list, data, skeleton, perspective: bool) -> tuple[list, dict]:
    """Under perspective, the restarts to explore on: those that learnt the right handedness by
    themselves, or, when every one learnt the mirror image, all of them turned (module
    docstring). Under weak perspective all of them, as they are.

    Args: as :func:`mirrored`.

    Returns:
        The runs kept (in their order) and what was done, for ``NRSfMResult.extra``:
        ``{"mirrored_dropped": [indices]}``, ``{"mirrored_turned": [indices]}`` or ``{}``.
    """
    if not perspective:  # the mirror projects alike: the set is oriented at the end (fit.py)
        return runs, {}
    flags = mirrored(runs, data, skeleton, perspective)
    which = [i for i, f in enumerate(flags) if f]
    if not which:
        return runs, {}
    if len(which) == len(runs):
        for run in runs:
            mirror_network(run)
        log.info("every restart learnt the mirror image; all %d turned", len(runs))
        return runs, {"mirrored_turned": which}
    log.info("restarts %s learnt the mirror image; explored no further",
             [i + 1 for i in which])
    return [r for r, f in zip(runs, flags, strict=True) if not f], {"mirrored_dropped": which}
