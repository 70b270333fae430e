"""NRSfMConfig.for_samples: the quick schedule for small sets, the defaults for large ones."""

from __future__ import annotations

from poselab.nrsfm import NRSfMConfig
from poselab.nrsfm.config import SMALL_SET


def test_small_sets_get_a_third_of_the_steps_at_batch_128():
    small = NRSfMConfig.for_samples(300)
    assert (small.steps, small.batch_size) == (2000, 128)
    assert small.replace(steps=6000, batch_size=256) == NRSfMConfig()  # nothing else differs
    assert NRSfMConfig.for_samples(SMALL_SET).steps == 2000
    assert NRSfMConfig.for_samples(SMALL_SET + 1) == NRSfMConfig()  # the dataclass defaults
    assert NRSfMConfig.for_samples(35000) == NRSfMConfig()


def test_changes_override_the_schedule():
    cfg = NRSfMConfig.for_samples(300, steps=500, seed=3)
    assert (cfg.steps, cfg.batch_size, cfg.seed) == (500, 128, 3)


def test_sets_with_many_unlabelled_landmarks_explore_more_restarts():
    from poselab.nrsfm.config import HIDDEN_RESTARTS, HIDDEN_SELF_TRAINING, HIDDEN_SHARE

    assert NRSfMConfig.for_samples(35000, missing=0.3).restarts == HIDDEN_RESTARTS == 5
    assert NRSfMConfig.for_samples(35000, missing=0.3).self_training == HIDDEN_SELF_TRAINING
    assert HIDDEN_SELF_TRAINING > NRSfMConfig().self_training
    assert NRSfMConfig.for_samples(35000, missing=0.3).replace(
        restarts=3, self_training=NRSfMConfig().self_training) == NRSfMConfig()
    assert NRSfMConfig.for_samples(300, missing=HIDDEN_SHARE).restarts == 5
    assert NRSfMConfig.for_samples(35000, missing=0.02) == NRSfMConfig()  # a few unlabelled
    assert NRSfMConfig.for_samples(35000, missing=0.3, restarts=2).restarts == 2  # asked for


def test_the_unlabelled_share_the_callers_pass():
    from nrsfm_synthetic import low_rank_problem

    coll, _ = low_rank_problem(n=10, seed=1)
    assert coll.unlabelled_share == 0.0
    coll.visibility[:5, :2] = 0  # 10 of the 10 × J landmarks
    assert abs(coll.unlabelled_share - 10 / (10 * coll.num_joints)) < 1e-12
