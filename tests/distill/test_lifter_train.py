"""Every lifter variant trains end to end on tiny data on CPU; checkpoint, resume, cancel,
predict and bad input (paper 001 students, DESIGN.md §5b–c)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from poselab.core import Cancelled, CancelToken, DataError, PoseCollection, drain
from poselab.distill.checkpoint import load_checkpoint
from poselab.distill.config import TrainConfig
from poselab.distill.lifter_train import predict_lifter, train_lifter

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def poses() -> PoseCollection:
    from poselab.synth.demo import load_demo_poses

    try:
        return load_demo_poses(16)
    except DataError as err:
        pytest.skip(f"demo poses unavailable: {err.problem}")


@pytest.fixture(scope="module")
def images(poses, tmp_path_factory) -> PoseCollection:
    from poselab.synth.collection import render_collection

    out = tmp_path_factory.mktemp("render") / "tiny"
    return drain(render_collection(poses.keypoints_3d, poses.intrinsics, poses.skeleton, out,
                                   size=64))


def _teacher(collection: PoseCollection):
    from poselab.nrsfm.config import NRSfMConfig
    from poselab.nrsfm.fit import fit

    cfg = NRSfMConfig(dict_sizes=(16, 8), steps=20, restarts=1, batch_size=16)
    return drain(fit(collection, cfg))


@pytest.fixture(scope="module")
def teachers(poses, images):
    return {"2d": _teacher(poses), "img": _teacher(images)}


def _config(student: str, target: str, **kw) -> TrainConfig:
    base = dict(student=student, lifter_target=target, epochs=1, batch_size=8, log_every=1,
                heatmap_pretrain_epochs=1, softargmax_beta=10.0, backbone_width=8)
    return TrainConfig(**{**base, **kw})


@pytest.mark.parametrize("student", ["lifter2d", "heatmap-lifter"])
@pytest.mark.parametrize("target", ["gt", "teacher3d", "distill"])
def test_every_variant_trains_and_predicts(student, target, poses, images, teachers,
                                           tmp_path) -> None:
    data = poses if student == "lifter2d" else images
    teacher = None if target == "gt" else teachers["2d" if student == "lifter2d" else "img"]
    records = []
    result = drain(train_lifter(data, teacher, _config(student, target), tmp_path),
                   records.append)
    phases = {r.stage for r in records if r.kind == "step"}
    assert "train" in phases and (("pretrain" in phases) == (student == "heatmap-lifter"))
    steps = [r for r in records if r.kind == "step" and r.stage == "train"]
    assert all(np.isfinite(r.values["loss_encoder"]) for r in steps)
    assert "loss_decoder" in steps[-1].values and "loss_bone" in steps[-1].values
    epochs = [r for r in records if r.kind == "epoch"]
    assert len(epochs) == (2 if student == "heatmap-lifter" else 1)
    m = result.metrics
    assert np.isfinite(m["student_mpjpe"]) and np.isfinite(m["err2d_px"])
    assert ("teacher_mpjpe" in m) == (teacher is not None)
    ck = load_checkpoint(result.checkpoint)
    assert ck["student"] == student and ck["epoch"] == len(epochs)
    pred = predict_lifter(ck, data)
    assert pred.shape == (len(data), 17, 3) and np.isfinite(pred).all()
    # x, y come back in the input's pixels: close to the landmarks' box at least
    assert np.abs(pred[..., :2].mean(1) - data.keypoints_2d.mean(1)).max() < 0.5 * np.ptp(
        data.keypoints_2d[..., 0], axis=1).max()


def test_lifter2d_resume_continues_and_cancel_stops(poses, tmp_path) -> None:
    cfg = _config("lifter2d", "gt", epochs=2)
    first = drain(train_lifter(poses, None, cfg, tmp_path / "a"))
    ck = load_checkpoint(first.checkpoint)
    assert ck["epoch"] == 2 and ck["step"] == 4
    more = dataclasses.replace(cfg, epochs=3)
    records = []
    drain(train_lifter(poses, None, more, tmp_path / "a", resume=first.checkpoint),
          records.append)
    assert [r.values["epoch"] for r in records if r.kind == "epoch"
            and r.stage != "history"] == [3.0]
    # the run's earlier epochs are replayed first, so live plots show the whole run
    assert [r.values["epoch"] for r in records if r.stage == "history"] == [1.0, 2.0]
    assert load_checkpoint(tmp_path / "a")["step"] == 6

    token = CancelToken()
    job = train_lifter(poses, None, cfg, tmp_path / "b", cancel=token)
    next(job)
    token.cancel()
    with pytest.raises(Cancelled):
        drain(job)
    assert not (tmp_path / "b" / "checkpoint.pt").exists()


def test_bad_input_gives_clear_errors(poses, teachers, tmp_path) -> None:
    with pytest.raises(DataError, match="no image"):
        drain(train_lifter(poses, None, _config("heatmap-lifter", "gt"), tmp_path))
    no3d = dataclasses.replace(poses, keypoints_3d=None)
    with pytest.raises(DataError, match="ground truth"):
        drain(train_lifter(no3d, None, _config("lifter2d", "gt"), tmp_path))
    with pytest.raises(DataError, match="teacher"):
        drain(train_lifter(poses, None, _config("lifter2d", "teacher3d"), tmp_path))
    with pytest.raises(DataError, match="sample set"):
        drain(train_lifter(poses.subset(slice(0, 8)), teachers["2d"],
                           _config("lifter2d", "distill"), tmp_path))


def test_heatmap_initialisation_from_a_pretrained_run(images, tmp_path) -> None:
    first = drain(train_lifter(images, None, _config("heatmap-lifter", "gt"), tmp_path / "a"))
    ck = load_checkpoint(first.checkpoint)
    cfg = _config("heatmap-lifter", "gt", heatmap_pretrain_epochs=0, lr=1e-7, loss_gamma=0.0)
    second = drain(train_lifter(images, None, cfg, tmp_path / "b", init_heatmaps=ck))
    new = load_checkpoint(second.checkpoint)["model"]
    key = "heatmap_net.head.weight"
    assert torch.allclose(new[key], ck["model"][key], atol=1e-5)
    assert not any(k.startswith("lifter.decoder") for k in new)  # γ = 0: no decoder
