"""Gross label errors (poselab.nrsfm.outliers): found without 3D, set aside, fitted again."""

from __future__ import annotations

import numpy as np
from nrsfm_synthetic import labelled_bodies

from poselab.core import PoseCollection, drain, get_skeleton
from poselab.nrsfm import denoise, outliers, relabel
from poselab.nrsfm.outliers import check_labels, combined_scores, per_joint_scores


def test_scores_are_in_units_of_each_joints_robust_sigma():
    r = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    obs = np.ones(r.shape, bool)
    s = per_joint_scores(r, obs)
    # median 2 (joint 0) and 20 (joint 1) → σ = median / √(2 ln 2) = 1.6986 and 16.986
    assert np.allclose(s[:, 0], r[:, 0] / (2 / np.sqrt(2 * np.log(2))))
    assert np.allclose(s[:, 0], s[:, 1])  # a joint predicted worse is not flagged for it
    obs[2, 0] = False  # unobserved: 0, and left out of its joint's median
    s = per_joint_scores(r, obs)
    assert s[2, 0] == 0 and np.isclose(s[0, 0], 1 / (1.5 / np.sqrt(2 * np.log(2))))
    c = combined_scores(r, r, np.ones(r.shape, bool))
    assert np.isclose(np.median(c), 1.0)  # in units of its median


def _bodies_with_gross_errors(share: float, n: int = 600, seed: int = 0,
                              far: tuple[float, float] = (60.0, 100.0)):
    """Labelled bodies (1 px noise, ~300 px tall); a ``share`` of the landmarks moved ``far``
    (60–100 px) in a random direction. Returns inputs (moved), the true shapes (the "network"), the
    pixels, and the moved mask."""
    inputs, truth, _ = labelled_bodies(1.0, n=n, seed=seed)
    rng = np.random.default_rng(seed + 1)
    moved = rng.random(inputs.mask.shape) < share
    angle = rng.uniform(0, 2 * np.pi, moved.shape)
    dist = rng.uniform(*far, moved.shape) * moved
    shift = np.stack([np.cos(angle), np.sin(angle)], -1) * dist[..., None]
    inputs.n = (inputs.n + shift / inputs.scale[:, None, None]).astype(np.float32)
    kp = inputs.n * inputs.scale[:, None, None] + inputs.centre[:, None, :]
    return inputs, truth, kp, moved


def _residual(inputs, truth):
    """The "network" (true shapes) reprojection error of each landmark, px (weak
    perspective, no offset)."""
    return np.linalg.norm(inputs.n - truth[..., :2], axis=-1) * inputs.scale[:, None]


def test_moved_landmarks_are_found_and_clean_sets_pay_nothing(monkeypatch):
    monkeypatch.setattr(denoise, "STEPS", 300)
    inputs, truth, kp, moved = _bodies_with_gross_errors(0.03)
    obs = np.ones(moved.shape, bool)
    steps: list = []
    check = drain(check_labels(kp, obs, _residual(inputs, truth)), steps.append)
    found = check.flagged
    assert (found & moved).sum() >= 0.95 * moved.sum()
    assert (found & moved).sum() >= 0.9 * found.sum()
    assert check.network_tail > outliers.TAIL_SHARE and check.sure_share > outliers.SURE_SHARE
    assert steps and steps[-1][0] == steps[-1][1]  # the predictor trained, to the end
    info = check.info()
    assert info["count"] == found.sum() and len(info["samples"]) == len(info["joints"])
    # the same bodies unmoved: the network's residuals have no tail, no predictor is trained
    inputs, truth, kp, moved = _bodies_with_gross_errors(0.0)
    steps = []
    check = drain(check_labels(kp, obs, _residual(inputs, truth)), steps.append)
    assert not check.any and not steps and np.isnan(check.sure_share)


def test_gross_errors_are_set_aside_for_the_second_fit(monkeypatch):
    from poselab.nrsfm import NRSfMConfig
    from poselab.nrsfm.relabel import cleaner_labels

    monkeypatch.setattr(denoise, "STEPS", 300)
    monkeypatch.setattr(relabel, "DENOISE_MIN_SAMPLES", 300)
    sk = get_skeleton("h36m17")
    inputs, truth, kp, moved = _bodies_with_gross_errors(0.03)
    coll = PoseCollection(sk, kp.astype(np.float32))
    messages: list = []
    cleaner = drain(cleaner_labels(truth, np.zeros((len(kp), 2)), inputs, coll, NRSfMConfig()),
                    messages.append)
    aside = cleaner.collection.visibility == 0
    assert (aside & moved).sum() >= 0.95 * moved.sum() and aside.sum() == cleaner.set_aside[
        "count"]
    assert np.array_equal(cleaner.collection.keypoints_2d[~aside], coll.keypoints_2d[~aside])
    assert coll.unlabelled_share == 0  # the caller's collection is untouched
    # the rest is about exact (1 px): not denoised, the second fit estimates its own noise
    assert cleaner.kind == "" and cleaner.known_noise is None
    assert any("set aside" in m[2] for m in messages)
    off = drain(cleaner_labels(truth, np.zeros((len(kp), 2)), inputs, coll,
                               NRSfMConfig(label_outliers=False)))
    assert off is None or not off.set_aside


def test_fit_sets_gross_errors_aside_and_fits_again(monkeypatch):
    from poselab.nrsfm import NRSfMConfig, fit

    monkeypatch.setattr(denoise, "STEPS", 300)
    monkeypatch.setattr(relabel, "DENOISE_MIN_SAMPLES", 250)
    config = NRSfMConfig(dict_sizes=(32, 16, 8), steps=600, restarts=1, batch_size=128,
                         self_training=1)
    # a short fit's network misses every landmark by more than a long one's: the moved ones are
    # moved further (a click on another limb) and the network's tail starts nearer
    monkeypatch.setattr(outliers, "TAIL_SIGMAS", 4.0)
    inputs, _, kp, moved = _bodies_with_gross_errors(0.03, n=400, far=(150.0, 250.0))
    coll = PoseCollection(get_skeleton("h36m17"), kp.astype(np.float32))
    result = drain(fit(coll, config))
    info = result.extra["label_outliers"]
    found = np.zeros(moved.shape, bool)
    found[info["samples"], info["joints"]] = True
    assert (found & moved).sum() >= 0.5 * moved.sum(), ((found & moved).sum(), moved.sum())
    assert (found & moved).sum() >= 0.8 * found.sum(), ((found & moved).sum(), found.sum())
    assert info["first_fit_s"] > 0 and result.config["label_outliers"]


def test_the_command_line_names_the_samples_with_labels_set_aside():
    from poselab.cli.nrsfm import set_aside_note

    assert set_aside_note({}, ["a"]) is None
    ids = [f"img{i}" for i in range(10)]
    note = set_aside_note({"label_outliers": {"count": 8, "samples": [3, 1, 3, 0, 5, 6, 7, 9],
                                              "joints": [0] * 8}}, ids)
    assert note.startswith("8 labels in 7 samples")
    assert "img0, img1, img3, img5, img6, …" in note  # the first five, then more
