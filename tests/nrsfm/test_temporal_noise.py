"""The label noise of sequences (poselab.nrsfm.noise_aware.temporal_noise_bound) and what it
changes for free bones: a synthetic marker set turning slowly in front of the camera, a
"network" = the true shape plus independent errors, labels = the true 2D plus Gaussian noise."""

from __future__ import annotations

import numpy as np
import pytest
from nrsfm_synthetic import articulated_poses

from poselab.core import Skeleton
from poselab.nrsfm.data import prepare_inputs
from poselab.nrsfm.noise_aware import refine_noise_aware, temporal_noise_bound

PX = 200.0  # pixels per body unit: bodies ~300 px tall
MARKERS = Skeleton("markers", tuple(f"m{i}" for i in range(17)))  # no bones: free


def sequence(sigma_px: float, net_err: float, n: int = 300, order=None, seed: int = 0):
    """One articulated body turning about the vertical (0.02 rad per frame), nodding and
    swaying; returns the inputs, the true shapes and the network's guess, both in box units."""
    body, _ = articulated_poses(1, seed=seed)
    t = np.arange(n)
    a = 0.02 * t
    Ry = np.zeros((n, 3, 3))
    Ry[:, 0, 0], Ry[:, 0, 2], Ry[:, 1, 1], Ry[:, 2, 0], Ry[:, 2, 2] = (
        np.cos(a), np.sin(a), 1, -np.sin(a), np.cos(a))
    b = 0.4 * np.sin(0.05 * t)
    Rx = np.zeros((n, 3, 3))
    Rx[:, 0, 0], Rx[:, 1, 1], Rx[:, 1, 2], Rx[:, 2, 1], Rx[:, 2, 2] = (
        1, np.cos(b), -np.sin(b), np.sin(b), np.cos(b))
    gt = np.einsum("nij,njk,lk->nli", Rx, Ry, body[0])
    gt[..., 0] += 0.2 * np.sin(0.03 * t)[:, None]  # sway
    rng = np.random.default_rng(seed + 1)
    kp = gt[..., :2] * PX + 400 + rng.normal(0, sigma_px, gt[..., :2].shape) if sigma_px \
        else gt[..., :2] * PX + 400
    if order is not None:
        kp, gt = kp[order], gt[order]
    inputs = prepare_inputs(kp, None, None)
    s, c = inputs.scale[:, None, None], inputs.centre[:, None, :]
    truth = np.concatenate([(gt[..., :2] * PX + 400 - c) / s, gt[..., 2:] * PX / s], -1)
    X = truth + rng.normal(0, net_err, truth.shape)
    return inputs, truth, X


def error(Y, truth):
    return np.linalg.norm((Y - Y.mean(1, keepdims=True))
                          - (truth - truth.mean(1, keepdims=True)), axis=-1).mean()


@pytest.mark.parametrize("sigma_px", [1.0, 4.0])
def test_the_bound_finds_the_noise_of_a_sequence_and_not_of_a_shuffled_set(sigma_px):
    inputs, _, _ = sequence(sigma_px, 0.02)
    assert abs(temporal_noise_bound(inputs) - sigma_px) < 0.15 * sigma_px
    exact, _, _ = sequence(0.0, 0.02)
    assert temporal_noise_bound(exact) < 0.1  # the motion alone: far below a pixel
    # without the order the bound is the spread of the poses, not the noise
    shuffled, _, _ = sequence(0.0, 0.02, order=np.random.default_rng(5).permutation(300))
    assert temporal_noise_bound(shuffled) > 1.0


def test_too_few_consecutive_landmarks_give_no_bound():
    inputs = prepare_inputs(np.random.default_rng(0).normal(size=(2, 17, 2)), None, None)
    assert temporal_noise_bound(inputs) == float("inf")


def test_a_noisy_sequence_with_free_bones_averages_labels_and_network():
    # labels (2 px) far better than the network (0.04 box ≈ 12 px): with the noise known the
    # output leans on the labels and beats both the network and the raw labels
    inputs, truth, X = sequence(2.0, 0.04)
    ref = refine_noise_aware(X, inputs, np.zeros((len(X), 2)), MARKERS)
    assert ref.model.temporal == 1 and not ref.exact
    assert abs(ref.model.noise_px - 2.0) < 0.25 * 2.0
    labels = X.copy()
    labels[..., :2] = inputs.n  # the joints through the noisy labels, the network's depth
    e_out, e_net, e_lab = error(ref.shapes, truth), error(X, truth), error(labels, truth)
    assert e_out < 0.7 * e_net and e_out < e_lab, (e_out, e_net, e_lab)


def test_a_sequence_whose_network_beats_its_labels_keeps_the_network():
    # pickup-like: 1 % label noise, a network that is better than the labels. The residual
    # alone took such labels as exact (e3d_akhter 0.095 against the network's 0.061)
    inputs, truth, X = sequence(8.0, 0.01)
    ref = refine_noise_aware(X, inputs, np.zeros((len(X), 2)), MARKERS)
    assert ref.model.temporal == 1 and not ref.exact
    e_out, e_net = error(ref.shapes, truth), error(X, truth)
    assert e_out <= 1.02 * e_net, (e_out, e_net)
    # the same without the order: the residual-only rule, the network's own shape
    order = np.random.default_rng(1).permutation(len(X))
    sh = prepare_inputs((inputs.n * inputs.scale[:, None, None]
                         + inputs.centre[:, None, :])[order], None, None)
    ref = refine_noise_aware(X[order], sh, np.zeros((len(X), 2)), MARKERS)
    assert ref.model.temporal == 0
    np.testing.assert_array_equal(ref.shapes, X[order].astype(np.float32))


def test_exact_labels_of_a_sequence_go_through_the_labels():
    inputs, truth, X = sequence(0.0, 0.04)
    ref = refine_noise_aware(X, inputs, np.zeros((len(X), 2)), MARKERS)
    assert ref.exact
    np.testing.assert_allclose(ref.shapes[..., :2], inputs.n, atol=1e-5)
