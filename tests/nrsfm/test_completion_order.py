"""Hidden landmarks of sequences (session 30): interpolation along the samples' order
(poselab.nrsfm.temporal.interpolate_along) and its inverse-variance blend with the
predictor's guesses (poselab.nrsfm.completion.blend_along_order)."""

from __future__ import annotations

import numpy as np
import pytest

from poselab.nrsfm.completion import blend_along_order
from poselab.nrsfm.data import prepare_inputs
from poselab.nrsfm.temporal import interpolate_along


def test_interpolation_between_and_beyond_the_labelled_samples():
    v = np.arange(6.0)[:, None, None] * np.array([1.0, -2.0])  # a landmark moving on a line
    obs = np.array([1, 0, 1, 0, 0, 1], bool)[:, None]
    filled, loo = interpolate_along(v, obs)
    assert np.isnan(filled[obs[:, 0]]).all()
    np.testing.assert_allclose(filled[[1, 3, 4], 0], v[[1, 3, 4], 0])  # on the line: exact
    np.testing.assert_allclose(loo[2, 0], v[2, 0])  # from samples 0 and 5
    assert np.isnan(loo[[0, 5]]).all()  # the ends have one neighbour: no leave-one-out
    obs = np.array([0, 1, 1, 0, 1, 0], bool)[:, None]
    filled, _ = interpolate_along(v, obs)
    np.testing.assert_allclose(filled[[0, 5], 0], v[[1, 4], 0])  # ends: the one neighbour
    none, _ = interpolate_along(v, np.zeros((6, 1), bool))
    assert np.isnan(none).all()  # a landmark labelled nowhere stays unknown


def _walking_sequence(n=400, J=12, hide=0.3, seed=0):
    """Landmarks circling smoothly (one turn per 200 frames, each its own radius and phase)
    while the body drifts right: pixels, the true 2D and the visibility."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    r, ph = rng.uniform(20, 80, J), rng.uniform(0, 2 * np.pi, J)
    a = 2 * np.pi * t / 200 + ph
    kp = np.stack([400 + 0.5 * t + r * np.cos(a), 300 + r * np.sin(a)], -1)
    vis = np.where(rng.random((n, J)) < hide, 0, 2).astype(np.uint8)
    vis[(vis > 0).sum(1) < 3] = 2
    return kp, vis


@pytest.mark.parametrize("shuffled", [False, True])
def test_the_blend_trusts_the_order_only_where_samples_are_a_sequence(shuffled):
    kp, vis = _walking_sequence()
    if shuffled:
        order = np.random.default_rng(5).permutation(len(kp))
        kp, vis = kp[order], vis[order]
    inputs = prepare_inputs(kp, vis, None)
    hidden = inputs.mask < 1
    truth = (kp - inputs.centre[:, None]) / inputs.scale[:, None, None]
    # a predictor's guesses: the truth plus independent errors of known size
    sd = 0.05
    guess = truth + np.random.default_rng(2).normal(0, sd, truth.shape)
    guess[~hidden] = np.nan
    blended, weight = blend_along_order(guess, np.full(12, 2 * sd ** 2), inputs.n,
                                        inputs.mask > 0, inputs.centre, inputs.scale)
    assert np.isnan(blended[~hidden]).all() and np.isfinite(blended[hidden]).all()
    rms = lambda p: float(np.sqrt(((p - truth) ** 2).sum(-1)[hidden].mean()))  # noqa: E731
    if shuffled:  # neighbours in the order are unrelated: the guesses are kept
        assert weight.max() < 0.1, weight
        assert rms(blended) <= rms(guess) * 1.01
    else:  # a smooth sequence: the interpolation is nearly exact and takes over
        assert weight.min() > 0.9, weight
        assert rms(blended) < 0.3 * rms(guess), (rms(blended), rms(guess))


def test_the_blend_keeps_the_guesses_where_the_order_cannot_be_judged():
    kp, vis = _walking_sequence(n=30, hide=0.6)  # too few landmarks interpolated both ways
    inputs = prepare_inputs(kp, vis, None)
    hidden = inputs.mask < 1
    guess = np.where(hidden[..., None], np.full(inputs.n.shape, 0.1), np.nan)
    blended, weight = blend_along_order(guess, np.full(12, 0.01), inputs.n, inputs.mask > 0,
                                        inputs.centre, inputs.scale)
    assert (weight == 0).all()
    np.testing.assert_array_equal(blended, guess.astype(np.float32))
