"""poselab.nrsfm.estimate against hand-computed step counts and the measured fits."""

from __future__ import annotations

import pytest

from poselab.nrsfm import NRSfMConfig
from poselab.nrsfm.estimate import describe_estimate, estimate_seconds


def test_the_default_35k_fit_and_a_small_sequence():
    default = NRSfMConfig()
    # 3 × 1500 + 4500 steps + 4 rounds × 500 of self-training, at 14.5 + 0.028 × 256 ms
    steps_s = 11000 * (0.0145 + 0.000028 * 256)
    assert estimate_seconds(default, 35000, rigid=True) == pytest.approx(
        steps_s + 35000 * (0.0005 + 4 * 0.00027))
    assert 270 < estimate_seconds(default, 35000, rigid=True) < 320  # measured 291 s
    small = NRSfMConfig.for_samples(357)  # pickup: 3 × 500 + 1500 steps at batch 128
    assert estimate_seconds(small, 357, rigid=False) == pytest.approx(
        3000 * (0.0145 + 0.000028 * 128) + 357 * 0.0005)
    assert 45 < estimate_seconds(small, 357, rigid=False) < 65  # measured 49–61 s
    one = NRSfMConfig(steps=1000, restarts=1, batch_size=512)  # batch capped by the set
    assert estimate_seconds(one, 100, rigid=False) == pytest.approx(
        1000 * (0.0145 + 0.000028 * 100) + 100 * 0.0005)


def test_the_line_names_the_size_and_the_device():
    text = describe_estimate(NRSfMConfig(), 35000, rigid=True)
    assert text.startswith("Estimated duration: about 4.9 min (35000 samples, CPU")
    assert "GPU" in describe_estimate(NRSfMConfig(device="cuda"), 10, rigid=False)
