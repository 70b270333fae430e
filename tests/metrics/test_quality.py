"""GT-free quality measures (poselab.metrics.quality) against hand-computed answers."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from poselab.core.skeleton import Skeleton
from poselab.metrics.quality import (
    bone_length_deviation,
    least_certain_score,
    network_reprojection,
    quality,
    relative_uncertainty,
)

CHAIN = Skeleton("chain", ("a", "b", "c"), ((0, 1), (1, 2)))


def test_network_reprojection_hand_computed():
    rng = np.random.default_rng(0)
    S = rng.normal(size=(2, 4, 3))
    centre, scale = np.array([[100.0, 50.0], [10.0, 20.0]]), np.array([40.0, 80.0])
    w = S[..., :2] * scale[:, None, None] + centre[:, None] + 7.0  # a shift is free
    vis = np.full((2, 4), 2)
    np.testing.assert_allclose(network_reprojection(S, centre, scale, w, vis), 0, atol=1e-9)
    w[1, 2] += (3.0, 4.0)  # one landmark 5 px off: after the best shift, RMS = sqrt(18.75 / 4)
    e = network_reprojection(S, centre, scale, w, vis)
    assert e[0] == pytest.approx(0, abs=1e-9) and e[1] == pytest.approx(np.sqrt(4.6875))
    vis[0] = 0
    assert np.isnan(network_reprojection(S, centre, scale, w, vis)[0])


def test_bone_length_deviation_hand_computed():
    # bone lengths (1, 1), (1, 1), (1, 3): proportions (1, 1), (1, 1), (0.5, 1.5)
    x = np.zeros((3, 3, 3))
    x[:, 1, 0] = 1.0
    x[:, 2, 0] = [2.0, 2.0, 4.0]
    dev, cv = bone_length_deviation(x * 7.0, CHAIN)  # any units
    np.testing.assert_allclose(dev, [0.0, 0.0, 50.0])
    r0, r1 = np.array([1, 1, 0.5]), np.array([1, 1, 1.5])
    assert cv == pytest.approx(100 * 0.5 * (r0.std() / r0.mean() + r1.std() / r1.mean()))
    no_bones = Skeleton("dots", ("a", "b", "c"))
    assert np.isnan(bone_length_deviation(x, no_bones)[1])


def test_relative_uncertainty_and_quality_fallbacks():
    x = np.zeros((2, 3, 3))
    x[:, 1, 0], x[:, 2, 0] = 10.0, 20.0  # mean bone length 10
    std = np.full((2, 3), 2.0)
    np.testing.assert_allclose(relative_uncertainty(std, x, CHAIN), [20.0, 20.0])
    base = dict(skeleton=CHAIN, keypoints_3d=x, shapes_normalized=x / 20.0,
                centre=np.zeros((2, 2)), scale=np.full(2, 20.0),
                extra={"consensus": [0.02, 0.05, 0.03], "selected": 0, "noise_px": 1.5})
    w, vis = x[..., :2], np.full((2, 3), 2)
    q = quality(SimpleNamespace(**base, keypoints_3d_std=std,
                                reprojection_error_network=np.array([1.0, 3.0])), w, vis,
                mm_per_unit=np.array([2.0, 4.0]))
    assert q["rank_by"] == "least_certain_score"
    # sample 1 has the larger network reprojection (3 vs 1 px) and equal bones: ranked last
    np.testing.assert_allclose(q["per_sample"]["least_certain_score"], [25.0, 75.0])
    np.testing.assert_allclose(q["per_sample"]["uncertainty_mm"], [4.0, 8.0])
    assert q["set"]["reprojection_network_px"] == pytest.approx(2.0)
    assert q["set"]["restart_spread"] == 0.02 and q["set"]["noise_px"] == 1.5
    assert q["units"]["uncertainty_pct"] == "% of bone length"
    assert "smoothing_samples" not in q["set"]  # labels not smoothed: nothing shown
    smoothed = {**base, "extra": {**base["extra"], "sequence_smoothing": {"samples": 2.0}}}
    q2 = quality(SimpleNamespace(**smoothed), w, vis)
    assert q2["set"]["smoothing_samples"] == 2.0 and q2["units"]["smoothing_samples"] == "samples"
    assert "denoised_noise_px" not in q2["set"]  # labels not denoised: nothing shown
    assert "code_atoms" not in q2["set"]  # fitted once: no code choice shown
    coded = {**base, "extra": {**base["extra"], "code_choice": {
        "dict_sizes": [[64, 32, 16, 8], [64, 32, 16]], "depth_roughness": [2.5, 1.5],
        "kept": 1}}}
    q4 = quality(SimpleNamespace(**coded), w, vis)
    assert q4["set"]["code_atoms"] == 16.0 and q4["set"]["depth_roughness"] == 1.5
    assert q4["units"]["code_atoms"] == "atoms"
    assert "depth_spread" not in q4["set"]  # a result file written before it was recorded
    coded["extra"]["code_choice"]["depth_spread"] = [0.64, 0.53]
    assert quality(SimpleNamespace(**coded), w, vis)["set"]["depth_spread"] == 0.53
    assert "low_rank_depth_px" not in q4["set"]  # not polished: nothing shown
    coded["extra"]["low_rank"] = {"rank": 8, "iterations": 50, "depth_change_px": 4.25}
    q5 = quality(SimpleNamespace(**coded), w, vis)
    assert q5["set"]["low_rank_depth_px"] == 4.25 and q5["units"]["low_rank_depth_px"] == "px"
    for extra in ({"label_denoising": {"noise_left": 3.5}},
                  {"sequence_smoothing": {"samples": 2.0, "denoised": {"noise_left": 3.5}}}):
        q3 = quality(SimpleNamespace(**{**base, "extra": {**base["extra"], **extra}}), w, vis)
        assert q3["set"]["denoised_noise_px"] == 3.5 and q3["units"]["denoised_noise_px"] == "px"
    assert "suspect_labels" not in q["set"]  # no gross errors set aside: nothing shown
    aside = {"label_outliers": {"count": 3, "samples": [1, 1, 0], "joints": [0, 2, 1]}}
    q4 = quality(SimpleNamespace(**{**base, "extra": {**base["extra"], **aside}}), w, vis)
    assert q4["set"]["suspect_labels"] == 3.0
    assert "completion_error_pct" not in q["set"]  # no hidden landmarks completed
    for used, want in ((True, 29.0), (False, None)):
        done = {"hidden_completion": {"used": used, "relative_error": 0.29}}
        q5 = quality(SimpleNamespace(**{**base, "extra": {**base["extra"], **done}}), w, vis)
        assert q5["set"].get("completion_error_pct") == (pytest.approx(want) if used else None)
    assert q5["units"]["completion_error_pct"] == "% of body radius"
    assert "mirrored_turned" not in q["set"]  # no sample given its depth mirror
    turned = {"output_mirrored": 7}
    q6 = quality(SimpleNamespace(**{**base, "extra": {**base["extra"], **turned}}), w, vis)
    assert q6["set"]["mirrored_turned"] == 7.0 and q6["units"]["mirrored_turned"] == "samples"
    np.testing.assert_array_equal(q4["per_sample"]["suspect_labels"], [1.0, 2.0])
    # an older result without the optional arrays: computed from its shapes, ranked by them
    q = quality(SimpleNamespace(**base), w, vis)
    assert q["rank_by"] == "least_certain_score"
    np.testing.assert_allclose(q["per_sample"]["reprojection_network_px"], 0, atol=1e-9)
    assert "uncertainty_pct" not in q["per_sample"]


def test_least_certain_score_is_the_mean_percentile_rank():
    reproj = np.array([1.0, 5.0, 3.0, np.nan])
    bones = np.array([4.0, 1.0, 3.0, 2.0])
    # ranks (0-based, NaN lowest): reproj [1, 3, 2, 0], bones [3, 0, 2, 1]; percent of 3
    np.testing.assert_allclose(least_certain_score(reproj, bones),
                               100 * np.array([2.0, 1.5, 2.0, 0.5]) / 3)
    np.testing.assert_allclose(least_certain_score(reproj), 100 * np.array([1, 3, 2, 0]) / 3)
