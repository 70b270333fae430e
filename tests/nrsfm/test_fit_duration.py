"""poselab.nrsfm.estimate against hand-computed step counts and the measured fits."""

from __future__ import annotations

import pytest

from poselab.nrsfm import NRSfMConfig
from poselab.nrsfm.estimate import describe_estimate, estimate_seconds


def test_the_default_35k_fit_and_a_small_sequence(monkeypatch):
    from poselab.nrsfm import estimate

    # the CPU the costs come from
    monkeypatch.setattr(estimate.concurrent, "usable_cpus", lambda: 2)
    default = NRSfMConfig()
    # 3 × 1500 exploration steps side by side (1.83× the speed of one), then 4500 steps and
    # 8 rounds × 500 of self-training on their two cores (1.5×), at 14.5 + 0.028 × 256 ms
    steps_s = (3 * 1500 / 1.83 + (4500 + 4000) / 1.5) * (0.0145 + 0.000028 * 256)
    assert estimate_seconds(default, 35000, rigid=True) == pytest.approx(
        steps_s + 35000 * (0.0003 + 8 * 0.00008))
    # measured 169 s idle on 2026-12-05, a day the code before the tree solve took 180 s
    # (its estimate 202 s)
    assert 190 < estimate_seconds(default, 35000, rigid=True) < 215
    small = NRSfMConfig.for_samples(357)  # pickup: 3 × 500 side by side + 1500 at batch 128
    assert estimate_seconds(small, 357, rigid=False) == pytest.approx(
        (3 * 500 / 1.83 + 1500 / 1.5) * (0.0145 + 0.000028 * 128) + 357 * 0.0003)
    one = NRSfMConfig(steps=1000, restarts=1, batch_size=512)  # batch capped by the set
    assert estimate_seconds(one, 100, rigid=False) == pytest.approx(
        1000 * (0.0145 + 0.000028 * 100) + 100 * 0.0003)
    # one core, or a GPU, or several torch threads: the restarts one after the other
    monkeypatch.setattr(estimate.concurrent, "usable_cpus", lambda: 1)
    alone = 13000 * (0.0145 + 0.000028 * 256) + 35000 * (0.0003 + 8 * 0.00008)
    assert estimate_seconds(default, 35000, rigid=True) == pytest.approx(alone)
    monkeypatch.setattr(estimate.concurrent, "usable_cpus", lambda: 2)
    for other in (default.replace(device="cuda"), default.replace(num_threads=2)):
        assert estimate_seconds(other, 35000, rigid=True) == pytest.approx(alone)


def test_the_line_names_the_size_and_the_device():
    text = describe_estimate(NRSfMConfig(restarts=1), 35000, rigid=True)
    assert text.startswith("Estimated duration: about 4.2 min (35000 samples, CPU")
    assert "GPU" in describe_estimate(NRSfMConfig(device="cuda"), 10, rigid=False)
