"""The label noise of sequences (poselab.nrsfm.temporal) and what it changes for free bones:
a synthetic marker set turning slowly in front of the camera, a "network" = the true shape plus
independent errors, labels = the true 2D plus Gaussian noise."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from nrsfm_synthetic import articulated_poses

from poselab.core import Skeleton
from poselab.nrsfm.data import prepare_inputs
from poselab.nrsfm.noise_aware import refine_noise_aware, sequence_smoothing
from poselab.nrsfm.temporal import choose_width, smooth, temporal_noise
from poselab.nrsfm.temporal import temporal_noise_bound as _bound

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


def temporal_noise_bound(inputs):
    return _bound(inputs.n * inputs.scale[:, None, None] + inputs.centre[:, None, :],
                  inputs.mask)


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


def test_the_motion_corrected_estimate_leaves_exact_labels_near_zero():
    for sigma_px in (0.0, 1.0, 3.0):
        coll, _ = low_rank_sequence(sigma_px)
        kp, m = coll.keypoints_2d.astype(float), coll.observed
        bound, est = _bound(kp, m), temporal_noise(kp, m)
        if sigma_px == 0:  # the bound is the motion's share; the estimate removes it
            assert bound > 0.03 and est < 0.1 * bound
        else:
            assert abs(est - sigma_px) < 0.1 * sigma_px and est <= bound * 1.01


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


def test_smoothing_keeps_a_line_and_leaves_the_expected_share_of_noise():
    t = np.arange(50, dtype=float)
    line = np.stack([2 * t + 1, -t], -1)[:, None, :].repeat(3, 1)  # (50, 3, 2)
    mask = np.ones((50, 3))
    mask[10, 1] = 0
    line[10, 1] = 999.0  # unobserved: ignored, and left as it was
    sm, self_w, share = smooth(line, mask, 2.0)
    # a local line keeps a moving landmark everywhere: at the ends, where an average of one
    # side would lag it by about a width (2 samples · 2 px per sample), and beside the hole
    np.testing.assert_allclose(sm[:, 0], line[:, 0], atol=1e-9)
    assert sm[10, 1, 0] == 999.0  # its 999 does not leak into the neighbours
    np.testing.assert_allclose(sm[np.arange(50) != 10, 1], line[np.arange(50) != 10, 0],
                               atol=1e-9)
    ends = np.r_[0:6, 44:50]  # the equivalent kernel at the ends weighs noise more
    assert (share[ends, 0] > share[25, 0]).all() and (share[ends, 0] < 1).all()
    k = np.exp(-0.5 * (np.arange(-6, 7) / 2.0) ** 2)
    np.testing.assert_allclose(self_w[25, 0], k[6] / k.sum())
    np.testing.assert_allclose(share[25, 0], (k ** 2).sum() / k.sum() ** 2)
    rng = np.random.default_rng(0)  # the share is the variance left of independent noise
    noise = rng.normal(size=(20000, 1, 1))
    sm, _, share = smooth(noise, np.ones((20000, 1)), 2.0)
    assert abs(sm[100:-100].var() / share[5000, 0] - 1) < 0.05


def test_the_width_of_least_risk_smooths_sequences_and_not_shuffled_sets():
    inputs, _, _ = sequence(4.0, 0.02)
    kp = inputs.n * inputs.scale[:, None, None] + inputs.centre[:, None, :]
    clean, _, _ = sequence(0.0, 0.02)
    true = clean.n * clean.scale[:, None, None] + clean.centre[:, None, :]
    width, risks = choose_width(kp, inputs.mask, 4.0)
    assert width > 0
    sm, _, _ = smooth(kp, inputs.mask, width)
    err = np.sqrt(((sm - true) ** 2).mean())
    assert err < 0.6 * np.sqrt(((kp - true) ** 2).mean())
    assert abs(risks[width] - err ** 2) < 0.3 * err ** 2  # SURE ≈ the real risk
    order = np.random.default_rng(2).permutation(len(kp))
    assert choose_width(kp[order], inputs.mask[order], 4.0)[0] == 0
    # exact labels: nothing to gain at the order's own noise estimate (what the fit passes)
    assert choose_width(true, clean.mask, temporal_noise(true, clean.mask))[0] == 0


def test_smoothing_a_noisy_sequence_before_the_output_beats_the_raw_labels():
    inputs, truth, X = sequence(8.0, 0.02, seed=3)
    tau = np.zeros((len(X), 2))
    width, noise = sequence_smoothing(X, inputs, tau, MARKERS)
    assert width > 0 and abs(noise - 8.0) < 0.25 * 8.0
    shuffled = np.random.default_rng(0).permutation(len(X))
    s_in, _, s_X = sequence(8.0, 0.02, order=shuffled, seed=3)
    assert sequence_smoothing(s_X, s_in, tau, MARKERS)[0] == 0  # no order: no smoothing
    # what fit() does next: the labels smoothed, their remaining noise known
    kp = inputs.n * inputs.scale[:, None, None] + inputs.centre[:, None, :]
    sm, _, share = smooth(kp, inputs.mask, width)
    smoothed = replace(inputs, n=((sm - inputs.centre[:, None, :])
                                  / inputs.scale[:, None, None]).astype(np.float32))
    left = noise * float(np.sqrt(share.mean()))
    ref = refine_noise_aware(X, smoothed, tau, MARKERS, known_noise=left)
    plain = refine_noise_aware(X, inputs, tau, MARKERS)
    assert not ref.exact and ref.model.noise_px == pytest.approx(left, rel=0.01)
    e_s, e_p, e_n = error(ref.shapes, truth), error(plain.shapes, truth), error(X, truth)
    assert e_s < 0.8 * min(e_p, e_n), (e_s, e_p, e_n)


def low_rank_sequence(sigma_px: float, n: int = 300, joints: int = 15, seed: int = 0):
    """A rank-3 non-rigid shape deforming smoothly under a slowly turning orthographic camera
    (100 px per unit); returns the 2D collection and the clean 2D."""
    from poselab.core import PoseCollection

    rng = np.random.default_rng(seed)
    mean = rng.normal(size=(joints, 3))
    basis = rng.normal(size=(3, joints, 3)) * 0.35
    t = np.arange(n)[:, None]
    coeff = np.sin(t * np.array([0.05, 0.03, 0.07]) + rng.uniform(0, 6, 3))
    shapes = mean + np.einsum("nk,kjc->njc", coeff, basis)
    a, b = 0.015 * t[:, 0], 0.3 * np.sin(0.02 * t[:, 0])
    Ry = np.zeros((n, 3, 3))
    Ry[:, 0, 0], Ry[:, 0, 2], Ry[:, 1, 1], Ry[:, 2, 0], Ry[:, 2, 2] = (
        np.cos(a), np.sin(a), 1, -np.sin(a), np.cos(a))
    Rx = np.zeros((n, 3, 3))
    Rx[:, 0, 0], Rx[:, 1, 1], Rx[:, 1, 2], Rx[:, 2, 1], Rx[:, 2, 2] = (
        1, np.cos(b), -np.sin(b), np.sin(b), np.cos(b))
    cam = np.einsum("nij,njk,nlk->nli", Rx, Ry, shapes - shapes.mean(1, keepdims=True))
    clean = cam[..., :2] * 100.0 + np.array([320.0, 240.0])
    kp = clean + rng.normal(0, sigma_px, clean.shape) if sigma_px else clean
    skel = Skeleton("markers", tuple(f"p{j}" for j in range(joints)))
    return PoseCollection(skel, kp.astype(np.float32)), clean


@pytest.mark.parametrize("frames", [300, 1600])
def test_fit_runs_on_the_smoothed_labels_of_a_noisy_sequence(frames):
    """A short sequence (at most SMALL_SET frames) is smoothed from its order before the fit
    and fitted once; a longer one is smoothed after a first fit and fitted again."""
    from poselab.core import drain
    from poselab.nrsfm import NRSfMConfig, fit
    from poselab.nrsfm.config import SMALL_SET

    config = NRSfMConfig(dict_sizes=(32, 16, 8), steps=800, restarts=1, batch_size=128)
    coll, clean = low_rank_sequence(3.0, n=frames)
    steps: list = []
    result = drain(fit(coll, config), steps.append)
    done = [p.step for p in steps if p.kind == "step"]
    assert done == sorted(done)
    assert any("smoothed over" in p.message for p in steps)
    sm = result.extra["sequence_smoothing"]
    if frames <= SMALL_SET:  # one fit: its own steps only
        assert sm["decided_by"] == "order" and done[-1] <= 1000
        assert steps[0].stage == "label cleaning"  # said before the fit starts
    else:  # the second fit continues the first's count
        assert "decided_by" not in sm and done[-1] >= 2 * 800
    assert sm["samples"] > 0 and abs(sm["label_noise"] - 3.0) < 0.25 * 3.0
    assert result.extra["noise_px"] == sm["label_noise"]
    # new data given to reconstruct() is not smoothed: it is weighted by the labels' own noise
    assert result.extra["noise_model"]["noise_px"] == sm["label_noise"]
    assert result.config["smooth_sequences"] and result.config["code_choice"]  # the user's
    # the output's x, y are far closer to the clean 2D than the labels were
    err = np.sqrt(((result.keypoints_3d[..., :2] - clean) ** 2).mean())
    assert err < 0.6 * 3.0, err
    coll, _ = low_rank_sequence(0.0, n=frames)
    result = drain(fit(coll, config))
    assert "sequence_smoothing" not in result.extra  # exact labels: one fit, no smoothing


def test_a_short_noisy_sequence_is_smoothed_from_its_order_alone():
    from poselab.nrsfm import NRSfMConfig
    from poselab.nrsfm.relabel import smoothed_in_order

    config = NRSfMConfig()
    coll, clean = low_rank_sequence(3.0)
    cleaner = smoothed_in_order(coll, config)
    assert cleaner.kind == "sequence_smoothing" and cleaner.info["decided_by"] == "order"
    assert abs(cleaner.noise_px - 3.0) < 0.25 * 3.0 and cleaner.info["samples"] > 0
    assert cleaner.known_noise < 0.7 * cleaner.noise_px  # smoothing leaves part of the noise
    before = np.sqrt(((coll.keypoints_2d - clean) ** 2).mean())
    after = np.sqrt(((cleaner.collection.keypoints_2d - clean) ** 2).mean())
    assert after < 0.7 * before and coll.keypoints_2d is not cleaner.collection.keypoints_2d
    assert smoothed_in_order(low_rank_sequence(0.0)[0], config) is None  # exact labels
    shuffled = coll.copy()
    shuffled.keypoints_2d = coll.keypoints_2d[np.random.default_rng(0).permutation(300)]
    assert smoothed_in_order(shuffled, config) is None  # no order: the first fit decides
    assert smoothed_in_order(coll, config.replace(smooth_sequences=False)) is None
    long, _ = low_rank_sequence(3.0, n=1600)  # a first fit may clean more than the order
    assert smoothed_in_order(long, config) is None
