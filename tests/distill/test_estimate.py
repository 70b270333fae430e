"""The duration estimate shown before training (poselab.distill.estimate)."""

from __future__ import annotations

import pytest

from poselab.distill.config import TrainConfig
from poselab.distill.estimate import describe_estimate, estimate_seconds


def test_estimate_follows_the_measured_rates():
    default = TrainConfig()
    # the CPU default (lifter2d, 60 epochs) on the 2000-image demo: 5 s + 2000·60/1200 s
    assert estimate_seconds(default, 2000) == pytest.approx(105.0)
    integral = default.replace(student="integral", epochs=10)
    # 5 s + cropping 2000/150 s + 2000·10/130 s
    assert estimate_seconds(integral, 2000) == pytest.approx(5 + 2000 / 150 + 20000 / 130)
    big = integral.replace(input_size=128)
    assert estimate_seconds(big, 2000) - 5 - 2000 / 150 == pytest.approx(4 * 20000 / 130)
    assert estimate_seconds(default, 0) == pytest.approx(5.0)


def test_description_names_the_unit_and_samples():
    assert describe_estimate(TrainConfig(), 2000) == \
        "Estimated duration: about 1.8 min (2000 samples, CPU)"
    assert "s (10 samples" in describe_estimate(TrainConfig(), 10)
