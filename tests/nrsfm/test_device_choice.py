"""``device="auto"``: the NRSfM fit trains on the device that measures faster per step."""

from __future__ import annotations

import numpy as np
import pytest
from nrsfm_synthetic import low_rank_problem

from poselab.core import PoselabError, drain
from poselab.nrsfm import NRSfMConfig, device_choice, fit
from poselab.nrsfm.data import prepare_inputs

torch = pytest.importorskip("torch")

SMALL = NRSfMConfig(dict_sizes=(32, 16, 8), steps=60, restarts=1, batch_size=64,
                    self_training=0)


def _never(device):
    raise AssertionError(f"measured {device} although nothing was to be chosen")


def test_without_a_gpu_nothing_is_measured(monkeypatch):
    monkeypatch.setattr(device_choice, "gpu_present", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # resolve_device's test
    assert device_choice.choose_device(NRSfMConfig(), None, 17, _never) == ("cpu", None)
    with pytest.raises(PoselabError, match="cuda"):
        device_choice.choose_device(NRSfMConfig(device="cuda"), None, 17, _never)


def test_with_a_gpu_auto_takes_the_faster_and_a_named_device_is_kept(monkeypatch):
    monkeypatch.setattr(device_choice, "gpu_present", lambda: True)
    # the H200's figures (2026-12-04): the teacher's small steps were slower on the GPU
    slow_gpu = {"cuda": 0.019, "cpu": 0.008}.get
    device, info = device_choice.choose_device(NRSfMConfig(), None, 17, slow_gpu)
    assert device == "cpu" and info == {"seconds_per_step": {"cuda": 0.019, "cpu": 0.008},
                                        "chosen": "cpu"}
    device, info = device_choice.choose_device(NRSfMConfig(), None, 17,
                                               {"cuda": 0.002, "cpu": 0.008}.get)
    assert device == "cuda" and info["chosen"] == "cuda"
    assert device_choice.choose_device(NRSfMConfig(device="cpu"), None, 17, _never) == \
        ("cpu", None)


def test_a_gpu_that_fails_its_step_leaves_the_fit_on_the_cpu(monkeypatch):
    monkeypatch.setattr(device_choice, "gpu_present", lambda: True)

    def broken(device):
        if device == "cuda":
            raise RuntimeError("CUDA error: no kernel image is available for execution")
        return 0.01

    device, info = device_choice.choose_device(NRSfMConfig(), None, 17, broken)
    assert device == "cpu" and "no kernel image" in info["cuda_error"]


def test_a_step_is_timed_on_the_fits_own_inputs():
    coll, _ = low_rank_problem(n=120, seed=3)
    inputs = prepare_inputs(coll.keypoints_2d, coll.visibility, None, "weak_perspective")
    s = device_choice.step_seconds(inputs, coll.num_joints, SMALL, "cpu", steps=3)
    assert 0 < s < 5


def test_the_fit_records_the_choice_and_trains_there(monkeypatch):
    """A machine that reports a GPU which measures slower: the fit trains on the CPU (it
    would fail on this GPU-less machine otherwise) and keeps the times in its result."""
    monkeypatch.setattr(device_choice, "gpu_present", lambda: True)
    monkeypatch.setattr(device_choice, "step_seconds",
                        lambda inputs, J, config, device: {"cuda": 0.03, "cpu": 0.01}[device])
    coll, _ = low_rank_problem(n=120, seed=3)
    result = drain(fit(coll, SMALL))
    assert result.extra["device_choice"] == {"seconds_per_step": {"cuda": 0.03, "cpu": 0.01},
                                             "chosen": "cpu"}
    assert np.isfinite(result.keypoints_3d).all()
    monkeypatch.setattr(device_choice, "gpu_present", lambda: False)
    assert "device_choice" not in drain(fit(coll, SMALL)).extra


def test_the_choice_is_told_in_one_line():
    assert device_choice.describe_choice(None) == ""
    assert device_choice.describe_choice(
        {"seconds_per_step": {"cuda": 0.019, "cpu": 0.0082}, "chosen": "cpu"}) == \
        "trained on the CPU: 8.2 ms per step against 19.0 on the GPU"
    assert device_choice.describe_choice(
        {"seconds_per_step": {"cuda": 0.002, "cpu": 0.008}, "chosen": "cuda"}) == \
        "trained on the GPU: 2.0 ms per step against 8.0 on the CPU"
    assert "failed" in device_choice.describe_choice(
        {"seconds_per_step": {}, "chosen": "cpu", "cuda_error": "out of memory"})


def test_the_cli_says_where_an_auto_fit_trained(shared_data, tmp_path, monkeypatch, capsys):
    from poselab.cli import main

    monkeypatch.setattr(device_choice, "gpu_present", lambda: True)
    monkeypatch.setattr(device_choice, "step_seconds",
                        lambda inputs, J, config, device: {"cuda": 0.019, "cpu": 0.0082}[device])
    rc = main(["nrsfm", str(shared_data / "nrsfm_classic" / "yoga.npz"), "--out",
               str(tmp_path / "nrsfm.npz"), "--steps", "30", "--restarts", "1", "--threads", "1"])
    assert rc == 0
    assert "device auto: trained on the CPU: 8.2 ms per step against 19.0 on the GPU" in \
        capsys.readouterr().out
