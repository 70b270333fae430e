"""The network's error covariance learnt by EM (poselab.nrsfm.prior_covariance) on synthetic
articulated bodies: a "network" = the true body plus errors with a known covariance over the
joints, labels = the true 2D plus Gaussian noise of known σ."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from nrsfm_synthetic import labelled_bodies

from poselab.core import get_skeleton
from poselab.nrsfm.least_squares import NoiseModel, refine_lsq
from poselab.nrsfm.noise_aware import refine_noise_aware
from poselab.nrsfm.prior_covariance import EM_MIN_SAMPLES

SK = get_skeleton("h36m17")
PX = 200.0  # pixels per body unit: bodies ~300 px tall


def problem(sigma_px: float, correlated: bool, hide: float = 0.0, n: int = 400, seed: int = 0):
    """Inputs, true shapes (box units) and a network guess whose errors (about 0.04 box
    units per coordinate) are ``correlated``: six random modes over all joints plus a little
    independent error; else independent. Returns also the errors' true covariance."""
    inputs, truth, rng = labelled_bodies(sigma_px, hide, n, seed, PX)
    if correlated:
        B = rng.normal(0, 0.04 / np.sqrt(6), (51, 6))
        cov = B @ B.T + 0.01 ** 2 * np.eye(51)
    else:
        cov = 0.04 ** 2 * np.eye(51)
    err = rng.multivariate_normal(np.zeros(51), cov, n).reshape(n, 17, 3)
    return inputs, truth, truth + err, cov


def error(Y, truth, which=None):
    """Mean joint distance after centring both (box units), over ``which`` (N, J) joints."""
    d = np.linalg.norm((Y - Y.mean(1, keepdims=True)) - (truth - truth.mean(1, keepdims=True)),
                       axis=-1)
    return d.mean() if which is None else d[which].mean()


def independent(ref, X, inputs):
    """The same least squares with the joints' errors taken as independent."""
    model = replace(ref.model, prior_cov=None)
    return refine_lsq(X, X, inputs.n, inputs.mask, np.zeros((len(X), 2)), inputs.sigma,
                      inputs.ray_centre, inputs.scale, model, SK.bones_array, ref.proportions)[0]


def test_correlated_errors_are_learnt_and_used():
    inputs, truth, X, cov = problem(5.0, correlated=True)
    ref = refine_noise_aware(X, inputs, np.zeros((len(X), 2)), SK)
    assert not ref.exact and ref.model.prior_cov is not None
    est = ref.model.prior_cov
    # the learnt covariance follows the true one off the diagonal (the correlations); the
    # errors' common shift is free in the labels' frame, so compare centred over the joints
    C = np.kron(np.eye(17) - 1 / 17, np.eye(3))
    off = ~np.eye(51, dtype=bool)
    assert np.corrcoef((C @ est @ C)[off], (C @ cov @ C)[off])[0, 1] > 0.6
    e_full, e_ind = error(ref.shapes, truth), error(independent(ref, X, inputs), truth)
    assert e_full < 0.85 * e_ind, (e_full, e_ind)


def test_hidden_joints_follow_their_observed_neighbours():
    inputs, truth, X, _ = problem(0.0, correlated=True, hide=0.3)
    ref = refine_noise_aware(X, inputs, np.zeros((len(X), 2)), SK)
    assert ref.model.prior_cov is not None  # exact labels, but landmarks hidden
    hidden = inputs.mask < 1
    Y_ind = independent(ref, X, inputs)
    assert error(ref.shapes, truth, hidden) < 0.85 * error(Y_ind, truth, hidden)
    assert error(ref.shapes, truth, hidden) < 0.85 * error(X, truth, hidden)


def test_independent_errors_cost_little():
    # the residuals' correlations that the bones and the projection make are not all told
    # from the network's: with truly independent errors the output is about 2 % worse (4 %
    # without the shrinkage); this bounds that cost
    inputs, truth, X, _ = problem(5.0, correlated=False)
    ref = refine_noise_aware(X, inputs, np.zeros((len(X), 2)), SK)
    e_full, e_ind = error(ref.shapes, truth), error(independent(ref, X, inputs), truth)
    assert e_full < 1.035 * e_ind, (e_full, e_ind)
    assert e_full < 0.7 * error(X, truth)


def test_exact_fully_observed_labels_skip_it_and_the_model_round_trips():
    inputs, _, X, _ = problem(0.0, correlated=True)
    ref = refine_noise_aware(X, inputs, np.zeros((len(X), 2)), SK)
    assert ref.exact and ref.model.prior_cov is None  # through the labels: nothing to learn
    model = NoiseModel(noise_px=2.0, prior_xy=0.1, prior_z=0.2, bone=0.02,
                       prior_cov=np.diag(np.arange(1.0, 52.0)))
    back = NoiseModel.from_dict(model.to_dict())
    np.testing.assert_array_equal(back.prior_cov, model.prior_cov)
    np.testing.assert_allclose(back.prior_variance(17), np.arange(1.0, 52.0).reshape(17, 3).sum(1))
    assert NoiseModel.from_dict({k: v for k, v in model.to_dict().items()
                                 if k != "prior_cov"}).prior_cov is None


def test_few_samples_keep_independent_joints_and_a_given_model_is_kept():
    inputs, _, X, _ = problem(5.0, correlated=True, n=EM_MIN_SAMPLES // 2)
    tau = np.zeros((len(X), 2))
    assert refine_noise_aware(X, inputs, tau, SK).model.prior_cov is None  # too few to learn
    big_inputs, _, big_X, _ = problem(5.0, correlated=True, seed=1)
    fitted = refine_noise_aware(big_X, big_inputs, np.zeros((len(big_X), 2)), SK).model
    again = refine_noise_aware(X, inputs, tau, SK, model=fitted)  # new samples, the set's model
    np.testing.assert_array_equal(again.model.prior_cov, fitted.prior_cov)
    plain = refine_noise_aware(big_X, big_inputs, np.zeros((len(big_X), 2)), SK,
                               model=replace(fitted, prior_cov=None))
    assert plain.model.prior_cov is None  # an older file's model: not learnt on new samples
