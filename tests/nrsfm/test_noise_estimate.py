"""The label-noise estimate (poselab.nrsfm.noise_estimate): which samples it uses, and that
its variance-component rounds are run until the noise settles."""

from __future__ import annotations

import numpy as np
from nrsfm_synthetic import labelled_bodies

from poselab.core import get_skeleton
from poselab.nrsfm.articulation import refine
from poselab.nrsfm.noise_estimate import NOISE_TOLERANCE, estimate_model, vce_rows

SK = get_skeleton("h36m17")


def test_vce_rows_take_the_least_hidden_samples():
    hidden = np.array([3, 0, 2, 1, 1, 5, 1, 0, 4, 1])
    mask = (np.arange(6)[None] >= hidden[:, None]).astype(float)  # (10, 6)
    noise_rows, model_rows = vce_rows(mask, 5)
    np.testing.assert_array_equal(model_rows, [0, 2, 4, 6, 9])  # evenly spaced
    # samples 1, 7 hide none; of the four hiding one (3, 4, 6, 9), three evenly spaced
    np.testing.assert_array_equal(noise_rows, [1, 3, 4, 7, 9])
    # every landmark labelled: both kinds are the same evenly spaced rows
    full = np.ones((10, 6))
    a, b = vce_rows(full, 4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(b, [0, 3, 6, 9])
    a, b = vce_rows(full, 50)  # fewer samples than the limit: all of them
    np.testing.assert_array_equal(a, np.arange(10))


def _estimate(sigma_px, converge, seed=0):
    inputs, truth, rng = labelled_bodies(sigma_px, 0.3, 600, seed, 200.0)
    hidden = (inputs.mask < 1).sum(1)
    # a network whose error grows with the landmarks a sample hides
    X = truth + rng.normal(0, 0.02, truth.shape) * (1 + hidden / 2)[:, None, None]
    tau = np.zeros((len(X), 2))
    Y0, p = refine(X, inputs, tau, SK)
    args = (inputs.n, inputs.mask, tau, inputs.sigma, inputs.ray_centre, inputs.scale)
    return estimate_model(X, Y0, *args, SK.bones_array, p, rows=vce_rows(inputs.mask, 200),
                          converge=converge)


def test_the_noise_is_estimated_once_it_has_settled():
    # 8 variance-component iterations from the start above the noise stop far above it
    # (2.8 px for exact labels, 3.2 for σ = 2 px here); run until it settles, the estimate
    # is near the truth
    for sigma_px in (0.0, 2.0):
        short = _estimate(sigma_px, converge=False).noise_px
        settled = _estimate(sigma_px, converge=True).noise_px
        assert short - sigma_px > max(0.25 * sigma_px, 1.0), (sigma_px, short)
        if sigma_px == 0:
            assert settled < 0.8, settled  # bodies ~300 px tall: about exact
        else:
            assert abs(settled - sigma_px) < 0.25 * sigma_px, settled


def test_settled_means_another_round_changes_little():
    inputs, truth, rng = labelled_bodies(2.0, 0.0, 300, 1, 200.0)
    X = truth + rng.normal(0, 0.04, truth.shape)
    tau = np.zeros((len(X), 2))
    Y0, p = refine(X, inputs, tau, SK)
    args = (inputs.n, inputs.mask, tau, inputs.sigma, inputs.ray_centre, inputs.scale)
    model = estimate_model(X, Y0, *args, SK.bones_array, p, converge=True)
    again = estimate_model(X, Y0, *args, SK.bones_array, p, start=model)
    assert abs(again.noise_px / model.noise_px - 1) < 3 * NOISE_TOLERANCE
