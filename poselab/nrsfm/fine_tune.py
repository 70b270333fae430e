"""A short set of bodies trained on after its labels were cleaned (issue 15).

:func:`poselab.nrsfm.relabel.cleaner_labels` cleans the labels of a short set of bodies
(:func:`poselab.nrsfm.relabel.short_body_set`) as a large set's, but :func:`poselab.nrsfm.fit`
then does not fit again from new restarts: the first fit's kept network trains on the cleaned
labels (:func:`fine_tune`), then self-trains and places the output as usual. Why and the
figures: :mod:`poselab.nrsfm.relabel`, *Short sets of bodies*.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator

import numpy as np

from poselab.core.progress import Progress
from poselab.nrsfm.relabel import Cleaner


def fine_tune(run, cleaner: Cleaner, config, bar, device: str, before
              ) -> Generator[Progress, None, tuple]:
    """A short set of bodies (:func:`poselab.nrsfm.relabel.short_body_set`) after its labels
    were cleaned: the first fit's kept network trains on the cleaned labels (half of
    ``config.steps``, a third of its learning rate, as the self-training rounds) instead of a
    second fit from new restarts (module docstring).

    Args:
        run: the first fit's kept :class:`poselab.nrsfm.train.Run` (trained further here).
        cleaner: the cleaned labels; config: the fit's :class:`NRSfMConfig`; bar: the fit's
            :class:`poselab.nrsfm.stepping.Stepper` (its ``data`` becomes the cleaned labels');
            device: the fit's torch device; before: the first fit's
            :class:`poselab.nrsfm.data.NRSfMInputs`, whose predictions of hidden landmarks
            (``completion``) the encoder goes on seeing.

    Returns:
        ``(inputs, data)``: :class:`poselab.nrsfm.data.NRSfMInputs` and
        :class:`poselab.nrsfm.train.Batches` of the cleaned labels, for the self-training
        and the output step (their noise: ``cleaner.known_noise``).
    """
    from poselab.nrsfm.data import prepare_inputs
    from poselab.nrsfm.train import Batches

    c = cleaner.collection
    inputs = prepare_inputs(c.keypoints_2d, c.visibility, c.intrinsics, config.camera_model,
                            c.source)
    if before.completion is not None:
        inputs = dataclasses.replace(inputs, completion=renormalised(before.completion,
                                                                     before, inputs))
    bar.data = data = Batches(inputs, device)
    n = max(1, config.steps // 2)
    bar.grow(n)
    yield bar.progress("label cleaning", {"refit": 1.0}, "training on the cleaned labels",
                       kind="info")
    yield from bar.steps(run, n, "fine-tune", True, dict(lr=config.lr / 3))
    return inputs, data


def renormalised(n: np.ndarray, old, new) -> np.ndarray:
    """``(N, J, 2)`` normalised 2D of ``old`` (:class:`poselab.nrsfm.data.NRSfMInputs`) in the
    normalisation of ``new``: pixels ``n·scale + centre`` for weak perspective, rays
    ``n·sigma + ray_centre`` for perspective (DESIGN §3)."""
    persp = old.camera_model == "perspective"
    a0, b0 = (old.sigma, old.ray_centre) if persp else (old.scale, old.centre)
    a1, b1 = (new.sigma, new.ray_centre) if persp else (new.scale, new.centre)
    return ((n * a0[:, None, None] + b0[:, None, :] - b1[:, None, :])
            / a1[:, None, None]).astype(n.dtype)
