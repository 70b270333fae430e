"""Blind-spot label denoising (poselab.nrsfm.denoise) and the second fit on denoised labels."""

from __future__ import annotations

import numpy as np
import pytest
from nrsfm_synthetic import labelled_bodies

from poselab.core import drain
from poselab.nrsfm import denoise, relabel
from poselab.nrsfm.denoise import blind_spot_predictions, denoise_labels


def _rms(a, b):
    return float(np.sqrt(((a - b) ** 2).sum(-1).mean()))


def test_a_landmark_prediction_never_reads_its_own_label():
    kp = _planar_low_rank(240, 10, seed=3)
    obs = np.ones(kp.shape[:2], bool)
    P = drain(blind_spot_predictions(kp, obs, steps=60))
    moved = kp.copy()
    moved[17, 4] += 80.0  # one label far off
    Q = drain(blind_spot_predictions(moved, obs, steps=60))
    assert np.array_equal(P[17, 4], Q[17, 4])  # masked itself, and trained without its sample
    assert not np.array_equal(P[17, 5], Q[17, 5])  # its neighbours do read it


def _planar_low_rank(n: int, joints: int, rank: int = 3, seed: int = 0) -> np.ndarray:
    """``(n, J, 2)`` pixels: a mean 2D shape plus ``rank`` 2D modes, each landmark a linear
    function of the others (the best blind-spot predictor is linear)."""
    rng = np.random.default_rng(seed)
    mean = rng.normal(0, 60, (joints, 2))
    modes = rng.normal(0, 20, (rank, joints, 2))
    return 320 + mean + np.einsum("nk,kjc->njc", rng.normal(size=(n, rank)), modes)


def test_noisy_low_rank_labels_come_closer_to_the_truth():
    clean = _planar_low_rank(1000, 12, seed=1)
    sigma = 4.0
    kp = clean + np.random.default_rng(5).normal(0, sigma, clean.shape)
    obs = np.ones(kp.shape[:2], bool)
    den = drain(denoise_labels(kp, obs, sigma, steps=600))
    before, after = _rms(kp, clean), _rms(den.keypoints_2d, clean)
    assert after < 0.8 * before, (before, after)
    assert np.all((den.weight > 0) & (den.weight < 1))
    # the noise it says is left matches the noise left, within 25 %
    left = after / np.sqrt(2)
    assert abs(den.noise_px - left) < 0.25 * left, (den.noise_px, left)


def test_hidden_landmarks_and_small_sets_keep_their_labels():
    rng = np.random.default_rng(2)
    kp = _planar_low_rank(400, 12, seed=2) + rng.normal(0, 3.0, (400, 12, 2))
    obs = rng.random((400, 12)) > 0.3
    den = drain(denoise_labels(kp, obs, 3.0, steps=200))
    assert np.array_equal(den.keypoints_2d[~obs], kp[~obs].astype(np.float32))
    assert not np.allclose(den.keypoints_2d[obs], kp[obs])
    small = drain(denoise_labels(kp[:50], obs[:50], 3.0, steps=200))
    assert np.array_equal(small.keypoints_2d, kp[:50].astype(np.float32))
    assert np.all(small.weight == 0) and small.noise_px == 3.0
    with pytest.raises(ValueError, match="positive"):
        drain(denoise_labels(kp, obs, 0.0))


def test_real_body_labels_come_closer_to_the_truth(shared_data):
    z = np.load(shared_data / "mocap17" / "h36m17_train35k.npz")
    idx = np.flatnonzero(z["subject"] == "S1")[:2000]
    clean = z["keypoints_2d"][idx].astype(np.float64)
    kp = clean + np.random.default_rng(0).normal(0, 5.0, clean.shape)
    den = drain(denoise_labels(kp, np.ones(kp.shape[:2], bool), 5.0, steps=600))
    before, after = _rms(kp, clean), _rms(den.keypoints_2d, clean)
    assert after < 0.9 * before, (before, after)
    # hips and spine are told by the rest of the body better than wrists and ankles
    assert den.weight[[0, 7]].min() > den.weight[[13, 16, 3, 6]].max()


def test_labels_are_cleaned_only_when_found_noisy(monkeypatch):
    from poselab.core import PoseCollection, get_skeleton
    from poselab.nrsfm import NRSfMConfig
    from poselab.nrsfm.relabel import cleaner_labels

    monkeypatch.setattr(denoise, "STEPS", 100)
    monkeypatch.setattr(relabel, "DENOISE_MIN_SAMPLES", 300)
    sk = get_skeleton("h36m17")
    config = NRSfMConfig()
    for sigma in (5.0, 0.0):
        # the network's shapes are the true ones: the residual is the label noise alone
        inputs, truth, _ = labelled_bodies(sigma, n=400)
        kp = inputs.n * inputs.scale[:, None, None] + inputs.centre[:, None, :]
        coll = PoseCollection(sk, kp.astype(np.float32))
        messages: list = []
        cleaner = drain(cleaner_labels(truth, np.zeros((400, 2)), inputs, coll, config),
                        messages.append)
        if sigma:
            assert cleaner.kind == "label_denoising"
            assert abs(cleaner.noise_px - sigma) < 0.25 * sigma, cleaner.noise_px
            assert cleaner.known_noise == cleaner.info["noise_left"] < cleaner.noise_px
            assert np.array_equal(cleaner.collection.visibility, coll.visibility)
            assert messages[-1][0] == messages[-1][1] > 0  # the denoiser's steps, to the end
        else:
            assert cleaner is None and not messages
    off = config.replace(denoise_labels=False)
    inputs, truth, _ = labelled_bodies(5.0, n=400)
    kp = inputs.n * inputs.scale[:, None, None] + inputs.centre[:, None, :]
    coll = PoseCollection(sk, kp.astype(np.float32))
    assert drain(cleaner_labels(truth, np.zeros((400, 2)), inputs, coll, off)) is None
    # short sets (on the quick schedule) are denoised only as bodies with rigid bones
    # (relabel.short_body_set; test_short_body_sets.py)
    monkeypatch.setattr(relabel, "DENOISE_MIN_SAMPLES", 1501)
    free = config.replace(bone_lengths="free", smooth_sequences=False)
    assert drain(cleaner_labels(truth, np.zeros((400, 2)), inputs, coll, free)) is None
    assert drain(cleaner_labels(truth, np.zeros((400, 2)), inputs, coll, config)).kind == \
        "label_denoising"
    monkeypatch.setattr(relabel, "DENOISE_MIN_SAMPLES", 300)
    # many landmarks unlabelled: not denoised (not measured there)
    inputs, truth, _ = labelled_bodies(5.0, hide=0.3, n=400)
    kp = inputs.n * inputs.scale[:, None, None] + inputs.centre[:, None, :]
    coll = PoseCollection(sk, kp.astype(np.float32), np.where(inputs.mask > 0, 2, 0))
    assert coll.unlabelled_share > 0.2
    assert drain(cleaner_labels(truth, np.zeros((400, 2)), inputs, coll, config)) is None


def test_fit_denoises_noisy_bodies_and_fits_again(monkeypatch):
    from poselab.core import PoseCollection, get_skeleton
    from poselab.nrsfm import NRSfMConfig, fit

    monkeypatch.setattr(denoise, "STEPS", 300)
    monkeypatch.setattr(relabel, "DENOISE_MIN_SAMPLES", 250)
    config = NRSfMConfig(dict_sizes=(32, 16, 8), steps=600, restarts=1, batch_size=128,
                         self_training=1)
    inputs, _, _ = labelled_bodies(6.0, n=300)
    kp = inputs.n * inputs.scale[:, None, None] + inputs.centre[:, None, :]
    coll = PoseCollection(get_skeleton("h36m17"), kp.astype(np.float32))
    steps: list = []
    result = drain(fit(coll, config), steps.append)
    den = result.extra["label_denoising"]
    assert 3.0 < den["label_noise"] < 12.0, den  # found noisy by the first (short) fit
    assert 0 < den["noise_left"] < den["label_noise"]
    assert result.extra["noise_px"] == den["label_noise"]
    assert any("predicting each landmark" in p.message for p in steps)
    done = [p.step for p in steps if p.kind == "step"]
    assert done == sorted(done) and done[-1] > 2 * 600  # denoiser and second fit go on
    assert result.config["denoise_labels"]  # the config as asked, not the inner fit's


def test_frames_whose_order_says_exact_are_not_denoised(monkeypatch):
    from nrsfm_synthetic import articulated_poses

    from poselab.core import PoseCollection, get_skeleton
    from poselab.nrsfm import NRSfMConfig, noise_aware
    from poselab.nrsfm.data import prepare_inputs
    from poselab.nrsfm.relabel import cleaner_labels

    monkeypatch.setattr(denoise, "STEPS", 50)
    monkeypatch.setattr(relabel, "DENOISE_MIN_SAMPLES", 250)
    # a short fit whose residual passes for noise (CMU directing traffic, exact labels)
    monkeypatch.setattr(noise_aware, "label_noise", lambda *a, **k: 6.0)
    body = articulated_poses(1, seed=4)[0][0]
    t = np.radians(np.arange(300) * 1.0)  # one body turning 1° per frame: smooth motion
    rot = np.stack([np.stack([np.cos(t), np.zeros_like(t), np.sin(t)], -1),
                    np.tile([0.0, 1.0, 0.0], (300, 1)),
                    np.stack([-np.sin(t), np.zeros_like(t), np.cos(t)], -1)], 1)
    kp = np.einsum("nij,kj->nki", rot, body)[..., :2] * 200 + 400
    kp[..., 1] += 40 * np.sin(3 * t)[:, None]  # and bobbing up and down
    X = np.zeros((300, 17, 3))
    for order, expect_denoised in ((np.arange(300), False),
                                   (np.random.default_rng(0).permutation(300), True)):
        coll = PoseCollection(get_skeleton("h36m17"), kp[order].astype(np.float32))
        inputs = prepare_inputs(coll.keypoints_2d, None, None)
        config = NRSfMConfig(smooth_sequences=False)
        cleaner = drain(cleaner_labels(X, np.zeros((300, 2)), inputs, coll, config))
        assert (cleaner is not None) == expect_denoised
