"""Left/right swaps (poselab.nrsfm.swaps): the swaps tried, the ratio test, and a fit on real
h36m17 2D with the arms of some samples swapped."""

from __future__ import annotations

import numpy as np
import pytest

from poselab.core import PoseCollection, Skeleton, drain, get_skeleton
from poselab.nrsfm import swaps

H36M_GROUPS = [((4, 1), (5, 2), (6, 3)), ((5, 2), (6, 3)), ((6, 3),),
               ((11, 14), (12, 15), (13, 16)), ((12, 15), (13, 16)), ((13, 16),)]


def test_each_limb_is_swapped_from_its_root_outwards():
    # h36m17: Spine is the centre (4 bones to a foot, a wrist); a limb's chain of pairs
    # and each end of it, never more than half the pairs (with the depth mirror, that is a
    # swap of the others)
    assert swaps.hypotheses(get_skeleton("h36m17")) == H36M_GROUPS
    assert swaps.hypotheses(Skeleton("p", ("a", "b"))) == []
    coco = get_skeleton("coco17")
    groups = swaps.hypotheses(coco)
    assert groups and all(0 < 2 * len(g) <= len(coco.left_right) for g in groups)
    assert ((9, 10),) in groups and ((7, 8), (9, 10)) in groups  # wrists; elbows and wrists
    # without bones each pair alone
    bare = Skeleton("b", ("l", "r", "m"), (), ((0, 1),))
    assert swaps.hypotheses(bare) == [] and swaps.hypotheses(
        Skeleton("b2", ("l", "r", "l2", "r2"), (), ((0, 1), (2, 3)))) == [((0, 1),), ((2, 3),)]


def test_swapped_columns_exchanges_each_pair():
    a = np.arange(2 * 4 * 2).reshape(2, 4, 2)
    b = swaps.swapped_columns(a, ((0, 1), (2, 3)))
    np.testing.assert_array_equal(b[:, [1, 0, 3, 2]], a)
    assert swaps.swapped_columns(None, ((0, 1),)) is None
    np.testing.assert_array_equal(a, np.arange(16).reshape(2, 4, 2))  # a copy


def test_a_sample_is_suspect_when_a_swap_fits_it_far_better():
    sk = Skeleton("b2", ("l", "r", "l2", "r2"), (), ((0, 1), (2, 3)))
    mask = np.ones((4, 4))
    mask[3, 1] = 0  # sample 3 cannot swap the first pair
    as_labelled = np.array([2.0, 1.0, 3.0, 4.0])
    after = {((0, 1),): np.array([1.0, 2.0, 3.0, 1.0]), ((2, 3),): np.array([3.0, 0.7, 1.5, 5])}
    check = swaps.check_swaps(lambda g: as_labelled if g is None else after[g], mask, sk)
    # sample 0: 1/2 with the first pair swapped; 1: 0.7 with the second (not below 0.6);
    # 2: 0.5 with the second; 3: its first pair is not labelled on both sides, so no swap
    np.testing.assert_allclose(check.ratio, [0.5, 0.7, 0.5, 1.0])
    np.testing.assert_array_equal(check.best, [0, 1, 1, -1])
    np.testing.assert_array_equal(check.flagged, [True, False, True, False])
    info = check.info()
    assert info["count"] == 2 and info["samples"] == [0, 2]
    assert info["pairs"] == [[[0, 1]], [[2, 3]]]
    assert swaps.check_swaps(lambda g: as_labelled, mask, Skeleton("p", ("a",))) is None


def test_corrected_inputs_swap_only_the_suspect_samples():
    from poselab.nrsfm.data import prepare_inputs

    kp = np.random.default_rng(0).normal(300, 50, (3, 17, 2))
    inputs = prepare_inputs(kp, None, None)
    check = swaps.SwapCheck(np.array([0.9, 0.3, 0.5]), np.array([2, 0, 5]), H36M_GROUPS)
    fixed = swaps.corrected(inputs, check)
    np.testing.assert_array_equal(fixed.n[0], inputs.n[0])
    np.testing.assert_array_equal(fixed.n[1][[4, 5, 6, 1, 2, 3]], inputs.n[1][[1, 2, 3, 4, 5, 6]])
    np.testing.assert_array_equal(fixed.n[2][[16, 13]], inputs.n[2][[13, 16]])
    np.testing.assert_array_equal(np.delete(fixed.n[2], [13, 16], 0),
                                  np.delete(inputs.n[2], [13, 16], 0))
    np.testing.assert_array_equal(fixed.centre, inputs.centre)


def test_the_command_line_names_the_samples_that_look_swapped():
    from poselab.cli.nrsfm import swapped_labels_note

    sk = get_skeleton("h36m17")
    assert swapped_labels_note({}, ["a"], sk) is None
    assert swapped_labels_note({"label_swaps": None}, ["a"], sk) is None
    info = {"count": 2, "samples": [1, 3], "pairs": [[[13, 16]], [[12, 15], [13, 16]]],
            "ratio": [0.3, 0.5]}
    note = swapped_labels_note({"label_swaps": info}, [f"img{i}" for i in range(5)], sk)
    assert note.startswith("2 samples look like their left and right labels are swapped")
    assert "img1: LWrist swapped with the right" in note
    assert "img3: LElbow/LWrist swapped with the right" in note


@pytest.mark.slow
def test_fit_finds_samples_whose_arms_are_swapped(shared_data):
    """Real h36m17 2D (exact, perspective; 1459 samples, the quick schedule): samples whose
    arms were swapped (3 %) are found by the fit, and few clean samples are flagged."""
    from poselab.nrsfm import NRSfMConfig, fit

    z = np.load(shared_data / "mocap17" / "h36m17_train35k.npz")
    idx = np.arange(0, 35000, 24)  # 1459 samples: the quick schedule
    kp = z["keypoints_2d"][idx].astype(np.float64)
    rows = np.flatnonzero(np.random.default_rng(6).random(len(kp)) < 0.03)
    for a, b in ((11, 14), (12, 15), (13, 16)):
        kp[rows, a], kp[rows, b] = kp[rows, b].copy(), kp[rows, a].copy()
    coll = PoseCollection(get_skeleton("h36m17"), kp.astype(np.float32),
                          intrinsics=z["K"][idx])
    config = NRSfMConfig.for_samples(coll.num_samples, 0.0, seed=0)
    result = drain(fit(coll, config))
    info = result.extra["label_swaps"]
    found = np.zeros(len(kp), bool)
    found[info["samples"]] = True
    swapped = np.zeros(len(kp), bool)
    swapped[rows] = True
    # measured (2026-12-05): 14 of the 37 found, 1 clean sample flagged; larger sets, whose
    # network knows bodies better, find more (docs/measurements.md: 76 % of 246 on S7/S8)
    assert (found & swapped).sum() >= 0.25 * swapped.sum(), (found & swapped).sum()
    assert (found & ~swapped).sum() <= 3, (found & ~swapped).sum()
    assert info["corrected"] and result.config["label_swaps"] == "correct"
