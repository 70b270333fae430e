"""Short noisy sets of bodies: cleaned as large sets, then the first network trained on
(poselab.nrsfm.relabel.short_body_set, poselab.nrsfm.fine_tune)."""

from __future__ import annotations

import numpy as np
from nrsfm_synthetic import articulated_poses, labelled_bodies

from poselab.core import PoseCollection, drain, get_skeleton
from poselab.core.skeleton import Skeleton
from poselab.metrics.pose import pa_mpjpe
from poselab.nrsfm import NRSfMConfig, denoise, fit, relabel
from poselab.nrsfm.relabel import (
    cleaner_labels,
    predictor_steps,
    short_body_set,
    smoothed_in_order,
)


def _collection(sigma: float, n: int, hide: float = 0.0):
    inputs, truth, _ = labelled_bodies(sigma, hide=hide, n=n)
    kp = inputs.n * inputs.scale[:, None, None] + inputs.centre[:, None, :]
    vis = np.where(inputs.mask > 0, 2, 0).astype(np.uint8)
    return inputs, truth, PoseCollection(get_skeleton("h36m17"), kp.astype(np.float32), vis)


def test_which_sets_are_short_sets_of_bodies():
    config = NRSfMConfig()
    assert relabel.DENOISE_MIN_SAMPLES == 1501 and denoise.MIN_SAMPLES == 200
    for n, hide, bones, expect in ((300, 0.0, "auto", True), (300, 0.0, "free", False),
                                   (150, 0.0, "auto", False), (300, 0.3, "auto", False)):
        coll = _collection(3.0, n, hide)[2]
        assert short_body_set(coll, config.replace(bone_lengths=bones)) == expect, (n, hide)
    # marker sets without bones (the classic sequences) are not bodies
    coll = _collection(3.0, 300)[2]
    markers = PoseCollection(Skeleton("markers", coll.skeleton.joint_names),
                             coll.keypoints_2d)
    assert not short_body_set(markers, config)
    # each blind-spot predictor passes over a short set's folds less often
    assert predictor_steps(300) == 300 and predictor_steps(1500) == 1500
    assert predictor_steps(1501) == predictor_steps(35000) == denoise.STEPS == 3000


def test_a_short_noisy_body_sequence_is_not_smoothed_before_its_fit():
    """A short set of bodies gets the first fit's noise estimate and the denoiser instead of
    the order's smoothing (whose estimate reads the motion between far-apart frames as noise);
    the same labels as free landmarks are smoothed from their order as before."""
    body = articulated_poses(1, seed=4)[0][0]
    t = np.radians(np.arange(300) * 1.0)  # one body turning 1° per frame
    rot = np.stack([np.stack([np.cos(t), np.zeros_like(t), np.sin(t)], -1),
                    np.tile([0.0, 1.0, 0.0], (300, 1)),
                    np.stack([-np.sin(t), np.zeros_like(t), np.cos(t)], -1)], 1)
    kp = np.einsum("nij,kj->nki", rot, body)[..., :2] * 200 + 400
    kp += np.random.default_rng(1).normal(0, 4.0, kp.shape)
    coll = PoseCollection(get_skeleton("h36m17"), kp.astype(np.float32))
    assert smoothed_in_order(coll, NRSfMConfig()) is None
    free = smoothed_in_order(coll, NRSfMConfig(bone_lengths="free"))
    assert free is not None and free.kind == "sequence_smoothing"


def test_a_short_noisy_body_set_is_denoised_with_a_short_predictor(monkeypatch):
    monkeypatch.setattr(denoise, "STEPS", 1000)
    inputs, truth, coll = _collection(5.0, 250)
    messages: list = []
    # the network's shapes are the true ones: the residual is the label noise alone
    cleaner = drain(cleaner_labels(truth, np.zeros((250, 2)), inputs, coll, NRSfMConfig()),
                    messages.append)
    assert cleaner.kind == "label_denoising" and cleaner.refit
    assert abs(cleaner.noise_px - 5.0) < 0.25 * 5.0, cleaner.noise_px
    steps = [m for m in messages if m[1]]
    assert steps[-1][0] == steps[-1][1] == 2 * 250  # two folds of 250 steps, not of 1000
    # exact labels of the same bodies: nothing to clean
    inputs, truth, coll = _collection(0.0, 250)
    assert drain(cleaner_labels(truth, np.zeros((250, 2)), inputs, coll, NRSfMConfig())) is None


def test_fit_trains_its_network_on_the_cleaned_labels_of_a_short_body_set():
    config = NRSfMConfig(dict_sizes=(32, 16, 8), steps=600, restarts=1, batch_size=128,
                         self_training=2)
    inputs, truth, coll = _collection(6.0, 300)
    steps: list = []
    result = drain(fit(coll, config), steps.append)
    # closer to the truth than the network's shapes, and than the same fit left uncleaned
    # (PA-MPJPE in pixels of ~300 px bodies: 43.8 against the network's 51.6; 45.1 uncleaned)
    gt = truth * inputs.scale[:, None, None]
    error = pa_mpjpe(result.keypoints_3d, gt)
    assert error < 0.9 * pa_mpjpe(result.shapes_normalized * result.scale[:, None, None], gt)
    uncleaned = drain(fit(coll, config.replace(denoise_labels=False, label_outliers="off",
                                               smooth_sequences=False)))
    assert "label_denoising" not in uncleaned.extra
    assert error < pa_mpjpe(uncleaned.keypoints_3d, gt), error
    den = result.extra["label_denoising"]
    assert 3.0 < den["label_noise"] < 12.0 and 0 < den["noise_left"] < den["label_noise"]
    assert result.extra["noise_px"] == den["label_noise"] and den["first_fit_s"] > 0
    stages = [p.stage for p in steps]
    cleaning = stages.index("label cleaning")
    # one fit: no restarts after the cleaning, its network trained on for half its steps
    assert "fine-tune" in stages[cleaning:] and not any(
        s.startswith("restart") or s == "fit" for s in stages[cleaning:])
    tuned = [p for p in steps if p.stage == "fine-tune"]
    assert tuned[-1].message.startswith(f"step {600 + 300} ")  # 600 steps, then 300 more
    done = [p.step for p in steps if p.kind == "step"]
    assert done == sorted(done) and done[-1] <= steps[-1].total
    assert result.config["denoise_labels"]  # the config as asked


def test_predictions_of_hidden_landmarks_follow_the_cleaned_labels_normalisation():
    """The encoder goes on seeing the first fit's predictions of hidden landmarks after the
    labels moved: the same pixels (weak perspective) or rays (perspective) in the new boxes."""
    from poselab.nrsfm.data import prepare_inputs
    from poselab.nrsfm.fine_tune import renormalised

    rng = np.random.default_rng(0)
    kp = rng.uniform(100, 500, (6, 5, 2))
    moved = kp + rng.normal(0, 4.0, kp.shape)  # the labels after cleaning
    target = rng.uniform(100, 500, (6, 5, 2))  # where a hidden landmark is predicted, pixels
    K = np.array([[1000.0, 0, 320], [0, 900.0, 240], [0, 0, 1]])
    for intrinsics in (None, K):
        old, new = (prepare_inputs(x, None, intrinsics) for x in (kp, moved))
        # normalise the predicted pixels as each set's labels are: prepend them as a landmark
        as_old, as_new = (prepare_inputs(np.concatenate([x, target], 1), None, intrinsics)
                          for x in (kp, moved))
        # (the boxes change with the extra landmarks, so compare through each set's own box)
        expected = renormalised(as_old.n[:, 5:], as_old, as_new)
        assert np.allclose(expected, as_new.n[:, 5:], atol=1e-5)
        back = renormalised(renormalised(as_old.n[:, 5:], old, new), new, old)
        assert np.allclose(back, as_old.n[:, 5:], atol=1e-5)
