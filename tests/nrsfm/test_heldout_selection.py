"""Restart selection with missing landmarks: the held-out-landmark error joins the objective
(selection.py)."""

from __future__ import annotations

import numpy as np
import pytest
from nrsfm_synthetic import low_rank_problem

from poselab.core import drain
from poselab.nrsfm import NRSfMConfig, fit
from poselab.nrsfm.data import prepare_inputs

torch = pytest.importorskip("torch")

from poselab.nrsfm.selection import choice_scores, heldout_error  # noqa: E402
from poselab.nrsfm.train import Batches, Run  # noqa: E402

SMALL = NRSfMConfig(dict_sizes=(32, 16, 8), steps=600, restarts=2, batch_size=128)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_a_trained_network_predicts_held_out_landmarks_an_untrained_one_does_not():
    coll, _ = low_rank_problem(n=300, seed=5, hide=0.3)
    inputs = prepare_inputs(coll.keypoints_2d, coll.visibility, None, "weak_perspective")
    data = Batches(inputs, "cpu")
    idx = np.arange(300)
    untrained = Run(coll.num_joints, SMALL, seed=0, device="cpu")
    trained = Run(coll.num_joints, SMALL, seed=0, device="cpu")
    for _ in range(SMALL.steps):
        trained.train_step(data)
    before, after = heldout_error(untrained, data, idx), heldout_error(trained, data, idx)
    assert after < 0.6 * before, (after, before)  # measured 0.20 against 0.41
    # the same landmarks are held out each call: the score is reproducible
    assert heldout_error(trained, data, idx) == after


def test_choice_scores_add_both_criteria_relative_excess():
    # hand-computed: 1/1 + 2/1 - 2 = 1 and 2/1 + 1/1 - 2 = 1; without a held-out error the
    # objective itself
    np.testing.assert_allclose(choice_scores([1.0, 2.0], [2.0, 1.0]), [1.0, 1.0])
    np.testing.assert_allclose(choice_scores([0.2, 0.1]), [0.2, 0.1])
    # the restarts measured on the tuning split (selection.py): at 2 % hidden the held-out
    # error alone keeps restart 1 (113.5 mm) and the sum restart 2 (101.7 mm); at 30 % hidden
    # the objective alone keeps restart 0 (138.7 mm) and the sum restart 5 (127.5 mm)
    objective, heldout = [0.1303, 0.1448, 0.1207], [0.1127, 0.1079, 0.1085]
    assert np.argmin(heldout) == 1 and np.argmin(choice_scores(objective, heldout)) == 2
    objective = [0.1328, 0.1789, 0.1341, 0.1456, 0.1665, 0.1332]
    heldout = [0.0917, 0.0969, 0.0892, 0.0902, 0.0968, 0.0890]
    assert np.argmin(objective) == 0 and np.argmin(choice_scores(objective, heldout)) == 5


def test_fit_weighs_held_out_error_only_when_landmarks_are_missing():
    coll, _ = low_rank_problem(n=300, seed=6, hide=0.3)
    result = drain(fit(coll, SMALL))
    held, objective = result.extra["restart_heldout"], result.extra["restart_objective"]
    # two restarts per round (a second round from new seeds when they disagree)
    assert len(held) == len(objective) == 2 * len(result.extra["seeds_tried"])
    assert held != objective
    assert result.extra["selected"] == int(np.argmin(choice_scores(objective, held)))
    full, _ = low_rank_problem(n=300, seed=6)
    assert "restart_heldout" not in drain(fit(full, SMALL)).extra


def test_held_out_scores_are_indexed_like_the_restart_kept_after_a_second_round():
    # agreement 0: the restarts always "disagree", so the fit explores as many again from new
    # seeds and keeps the best of both rounds; "selected" indexes that pool
    coll, _ = low_rank_problem(n=300, seed=6, hide=0.3)
    config = NRSfMConfig(dict_sizes=(32, 16, 16, 8, 4), steps=200, restarts=2,
                         batch_size=128, agreement=0.0, self_training=0)
    result = drain(fit(coll, config))
    assert len(result.extra["seeds_tried"]) == 2
    held, objective = result.extra["restart_heldout"], result.extra["restart_objective"]
    assert len(held) == 4 and len(objective) == 4
    assert result.extra["selected"] == int(np.argmin(choice_scores(objective, held)))
