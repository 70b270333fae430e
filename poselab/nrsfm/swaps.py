"""Left/right swaps: samples whose left and right labels of a limb look exchanged (issue 15).

Annotators and 2D detectors exchange left and right: the legs of an animal seen from the side,
the arms of a person seen from behind. A sample whose labels are swapped for some limbs and not
for others describes no body, and the teacher places it badly. Measured on h36m17_train35k
S1/S5/S6 (the tuning split, 5000 samples, exact labels, 2026-12-05; MPJPE mm of the output):
with the arms (shoulder, elbow, wrist) swapped in 2 % of the samples the set went from 40.1 to
44.8 — 218 mm on the swapped samples, 41.1 on the others; with the knees and feet swapped,
41.9 (114 mm on the swapped samples, 40.4 on the others). The shape model learnt from the set
barely suffers; the swapped samples themselves do.

The check re-encodes every sample with the labels of each limb swapped (:func:`hypotheses`:
one limb's chain of left/right pairs from the body's centre outwards, each end of it too) and
compares the network's 2D fit: a swapped sample is fitted far better the right way round,
since the network learnt bodies from the rest of the set. A sample is suspect when its best
swap divides its root-mean-square reprojection error by more than ``1 / RATIO``. A swap of
every pair is the body's depth mirror, as good a fit either way (exactly so under weak
perspective), so it cannot be told from one sample's 2D, and a swap of some pairs fits about
as well as that of the others; under perspective the right one mostly fits better (S7/S8,
arms swapped: the arms chosen for 168 of 187 found, the legs for 18).

Suspect samples are listed (``extra["label_swaps"]``; the GUI counts their landmarks among the
suspect labels; ``poselab nrsfm`` names them) for the user to correct, and by default
(``NRSfMConfig.label_swaps = "correct"``) their output 3D is that of their labels with the
best swap applied (:func:`corrected`; the labels themselves are never changed). :data:`RATIO`
was chosen on the tuning split (found / clean samples flagged: arms 73 of 104 / 6 of 4896,
knees and feet 41 of 104 / 5 of 4896; 0.65 flagged 16 and 11 clean samples). Reported on
h36m17_train35k S7/S8 (12960 samples, exact labels, 246 samples swapped): arms recall 0.76,
precision 0.96, output 38.1 / 29.9 / 35.6 mm as labelled → 35.7 / 28.4 / 34.2 corrected (the
found samples 225.8 → 54.5 mm; the 7 clean ones flagged 50.3 → 111.7); knees and feet recall
0.52, precision 0.88, 33.4 / 26.7 / 31.9 → 32.8 / 26.1 / 31.5 (found 99.1 → 26.6 mm; 17
clean ones 39.5 → 91.6). Every figure is on exact labels with swaps made at random.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

#: A sample is suspect when its best swap's RMS reprojection error is below this share of
#: its error as labelled (chosen on the tuning split, see :func:`check_swaps`).
RATIO = 0.6


def hypotheses(skeleton) -> list[tuple[tuple[int, int], ...]]:
    """The swaps tried: for each left/right pair, that pair and every pair further out along
    its limb (its left joint's and right joint's descendants in the breadth-first tree of the
    bones from the body's centre, :func:`poselab.nrsfm.articulation.spanning_tree`). Without
    bones, each pair alone. Swaps of more than half the
    pairs are left out: with the depth mirror (a swap of every pair, which fits as well) such
    a swap is the swap of the other pairs.

    Returns:
        Distinct tuples of ``(left, right)`` joint index pairs (empty without pairs); for
        h36m17: hips–knees–feet, knees–feet, feet and the same three for the arms.
    """
    pairs = tuple(tuple(int(v) for v in p) for p in skeleton.left_right)
    if not pairs:
        return []
    from poselab.nrsfm.articulation import spanning_tree

    J = skeleton.num_joints
    parent = [-1] * J
    for p, c, _ in spanning_tree(J, skeleton.bones_array):
        parent[c] = p

    def below(j: int) -> set[int]:
        out = {j}
        changed = True
        while changed:
            grown = {k for k in range(J) if parent[k] in out} | out
            changed, out = grown != out, grown
        return out

    found: list[tuple[tuple[int, int], ...]] = []
    for left, right in pairs:
        under_l, under_r = below(left), below(right)
        group = tuple(p for p in pairs if p[0] in under_l and p[1] in under_r)
        if group and group not in found and 2 * len(group) <= len(pairs):
            found.append(group)
    return found


@dataclass
class SwapCheck:
    """Outcome of :func:`check_swaps`.

    Attributes:
        ratio: ``(N,)`` each sample's best swap's RMS reprojection error over its error as
            labelled (1 where no swap fitted better or none could be tried).
        best: ``(N,)`` index into ``groups`` of that swap (-1 where none).
        groups: the swaps tried (:func:`hypotheses`).
        flagged: ``(N,)`` bool, ``ratio < RATIO``.
    """

    ratio: np.ndarray
    best: np.ndarray
    groups: list = field(default_factory=list)

    @property
    def flagged(self) -> np.ndarray:
        return self.ratio < RATIO

    def info(self) -> dict:
        """JSON-ready summary: the suspect samples, the pairs swapped in each, their ratio."""
        s = np.flatnonzero(self.flagged)
        return {"count": int(len(s)), "ratio_threshold": RATIO, "samples": s.tolist(),
                "pairs": [[list(p) for p in self.groups[self.best[i]]] for i in s],
                "ratio": [round(float(self.ratio[i]), 4) for i in s]}


def swapped_columns(a: np.ndarray | None, group) -> np.ndarray | None:
    """A copy of ``a`` (``(N, J, ...)``) with the joints of each pair in ``group`` exchanged."""
    if a is None:
        return None
    out = np.array(a, copy=True)
    for left, right in group:
        out[:, [left, right]] = out[:, [right, left]]
    return out


def check_swaps(errors: Callable[[tuple | None], np.ndarray], mask: np.ndarray,
                skeleton) -> SwapCheck | None:
    """Samples whose labels look left/right swapped for some limbs (module docstring).

    Args:
        errors: ``group → (N,)`` each sample's 2D error of the network re-run on its labels
            with ``group``'s pairs swapped (None: as labelled), any unit proportional to the
            RMS over its labelled landmarks (the fit's relative error ``err``).
        mask: ``(N, J)`` 1 where labelled; a swap counts for a sample only when both joints
            of one of its pairs are labelled.
        skeleton: gives the left/right pairs and bones.

    Returns:
        :class:`SwapCheck`, or None for a skeleton without left/right pairs.
    """
    groups = hypotheses(skeleton)
    if not groups:
        return None
    m = np.asarray(mask) > 0
    e0 = np.asarray(errors(None), np.float64)
    ratio = np.ones(len(e0))
    best = np.full(len(e0), -1)
    for g, group in enumerate(groups):
        both = np.zeros(len(e0), bool)
        for left, right in group:
            both |= m[:, left] & m[:, right]
        with np.errstate(divide="ignore", invalid="ignore"):
            rg = np.asarray(errors(group), np.float64) / e0
        better = both & np.isfinite(rg) & (rg < ratio)
        ratio[better], best[better] = rg[better], g
    return SwapCheck(ratio, best, groups)


def network_check(run, inputs, skeleton, as_labelled: np.ndarray | None = None
                  ) -> SwapCheck | None:
    """:func:`check_swaps` with a fitted network: ``run`` a
    :class:`poselab.nrsfm.train.Run`, ``inputs`` its :class:`poselab.nrsfm.data.NRSfMInputs`
    (hidden landmarks' completions are swapped with the rest); ``as_labelled`` the ``(N,)``
    relative 2D errors ``err`` of :meth:`Run.infer` on ``inputs`` when already computed.
    Seven passes of the encoder for h36m17 (about 7 s on 35k samples, one CPU thread)."""
    import dataclasses

    from poselab.nrsfm.train import Batches

    def errors(group) -> np.ndarray:
        if group is None and as_labelled is not None:
            return as_labelled
        inp = inputs if group is None else dataclasses.replace(
            inputs, n=swapped_columns(inputs.n, group), mask=swapped_columns(inputs.mask, group),
            completion=swapped_columns(inputs.completion, group))
        return run.infer(Batches(inp, run.device))["err"]

    return check_swaps(errors, inputs.mask, skeleton)


def corrected(inputs, check: SwapCheck):
    """``inputs`` (:class:`poselab.nrsfm.data.NRSfMInputs`) with each suspect sample's best
    swap applied (its labels, labelled mask and hidden-landmark completions); the box, and so
    the centre and scale, is the same set of points."""
    import dataclasses

    n, mask = np.array(inputs.n, copy=True), np.array(inputs.mask, copy=True)
    completion = None if inputs.completion is None else np.array(inputs.completion, copy=True)
    for g, group in enumerate(check.groups):  # every sample with the same swap at once
        rows = check.flagged & (check.best == g)
        n[rows] = swapped_columns(n[rows], group)
        mask[rows] = swapped_columns(mask[rows], group)
        if completion is not None:
            completion[rows] = swapped_columns(completion[rows], group)
    return dataclasses.replace(inputs, n=n, mask=mask, completion=completion)
