"""End-to-end training of the integral student on tiny rendered images (CPU)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from poselab.core.collection import PoseCollection
from poselab.core.errors import Cancelled, DataError
from poselab.core.progress import CancelToken, drain
from poselab.core.skeletons import get_skeleton
from poselab.distill.checkpoint import load_checkpoint
from poselab.distill.config import TrainConfig
from poselab.distill.predict import predict, save_predictions
from poselab.distill.toydata import make_toy_dataset
from poselab.distill.train import train
from poselab.nrsfm.result import RESULT_FILE_KEYS

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy_dataset(tmp_path_factory.mktemp("toy"), n=64, size=96, seed=1)


def _cfg(**kw):
    base = dict(student="integral", epochs=2, batch_size=16, log_every=1, num_threads=1,
                eval_max_samples=32)
    return TrainConfig.from_preset("cpu", **{**base, **kw})


def test_two_epochs_end_to_end_and_predict(toy, tmp_path):
    coll, teacher = toy
    records = []
    res = drain(train(coll, teacher, _cfg(), tmp_path / "run"), records.append)
    steps = [r for r in records if r.stage == "train"]
    epochs = [r for r in records if r.kind == "epoch"]
    assert [r.step for r in steps] == list(range(1, 9))  # 64 / 16 = 4 steps per epoch
    assert len(epochs) == 2 and len(res.history) == 2
    for key in ("student_mpjpe", "student_pa_mpjpe", "student_depth_error", "teacher_mpjpe",
                "err2d_px", "teacher_agreement_px", "reprojection_cost"):
        assert np.isfinite(res.metrics[key]), key
    assert res.metrics["teacher_mpjpe"] < 1.0  # the toy teacher is exact (mm)
    ckpt = load_checkpoint(res.checkpoint)
    assert ckpt["epoch"] == 2 and ckpt["step"] == 8
    assert ckpt["sample_ids"] == list(coll.sample_ids)
    assert ckpt["skeleton"]["joint_names"] == list(coll.skeleton.joint_names)
    assert TrainConfig.from_dict(ckpt["config"]).depth_loss == "distill"
    pred = predict(res.checkpoint, coll, device="cpu")
    assert pred.shape == (64, 17, 3) and np.isfinite(pred).all()
    # x, y come back in input pixels: near the landmarks' box, not in normalised units
    assert np.abs(pred[..., :2].mean((0, 1)) - coll.keypoints_2d.mean((0, 1))).max() < 20
    path = save_predictions(tmp_path / "predictions.npz", pred, coll)
    with np.load(path) as z:
        assert set(RESULT_FILE_KEYS) <= set(z.files)
        assert str(z["kind"]) == "prediction" and str(z["frame"]) == "camera"
        assert str(z["units"]) == "px"


@pytest.mark.parametrize("depth_loss", ["weaksup", "supervised"])
def test_baselines_run(toy, tmp_path, depth_loss):
    coll, teacher = toy
    res = drain(train(coll, teacher, _cfg(epochs=1, depth_loss=depth_loss), tmp_path))
    assert np.isfinite(res.metrics["train_loss"])


def test_resume_continues_exactly(toy, tmp_path):
    """Cancel after epoch 1, resume: same steps, same optimiser state, same final weights."""
    coll, teacher = toy
    cfg = _cfg(augment=True)
    full = drain(train(coll, teacher, cfg, tmp_path / "full"))

    token = CancelToken()

    def on(p):
        if p.kind == "epoch":
            token.cancel()

    with pytest.raises(Cancelled):
        drain(train(coll, teacher, cfg, tmp_path / "part", cancel=token), on)
    part = load_checkpoint(tmp_path / "part")
    assert part["epoch"] == 1 and part["step"] == 4
    assert part["optimizer"]["state"][0]["step"] == 4  # Adam's step count was saved
    steps = []
    resumed = drain(train(coll, teacher, cfg, tmp_path / "part",
                          resume=tmp_path / "part" / "checkpoint.pt"), steps.append)
    assert [r.step for r in steps if r.stage == "train"] == [5, 6, 7, 8]
    # the run's earlier epochs are replayed first, so live plots show the whole run
    assert [r.values["epoch"] for r in steps if r.stage == "history"] == [1.0]
    a = load_checkpoint(full.checkpoint)
    b = load_checkpoint(resumed.checkpoint)
    for k, v in a["model"].items():
        torch.testing.assert_close(b["model"][k], v, msg=k)
    for i, st in a["optimizer"]["state"].items():
        torch.testing.assert_close(b["optimizer"]["state"][i]["exp_avg"], st["exp_avg"])
    assert len(resumed.history) == 2


def test_cancel_stops_within_one_step(toy, tmp_path):
    coll, teacher = toy
    token = CancelToken()
    seen = []

    def on(p):
        seen.append(p)
        if p.stage == "train":
            token.cancel()

    with pytest.raises(Cancelled):
        drain(train(coll, teacher, _cfg(epochs=3), tmp_path, cancel=token), on)
    assert [p.step for p in seen if p.stage == "train"] == [1]
    assert not (tmp_path / "checkpoint.pt").exists()


def test_bad_inputs(toy, tmp_path):
    coll, teacher = toy
    no_images = PoseCollection(skeleton=coll.skeleton, keypoints_2d=coll.keypoints_2d,
                               sample_ids=coll.sample_ids)
    with pytest.raises(DataError, match="no image"):
        drain(train(no_images, teacher, _cfg(), tmp_path))
    other_skeleton = dataclasses.replace(teacher, skeleton=get_skeleton("coco17"))
    with pytest.raises(DataError, match="skeleton"):
        drain(train(coll, other_skeleton, _cfg(), tmp_path))
    with pytest.raises(DataError, match="different sample set"):
        drain(train(coll.subset(np.arange(32)), teacher, _cfg(), tmp_path))
    with pytest.raises(DataError, match="another order"):
        drain(train(coll.subset(np.arange(64)[::-1]), teacher, _cfg(), tmp_path))
    with pytest.raises(DataError, match="checkpoint not found"):
        drain(train(coll, teacher, _cfg(), tmp_path, resume=tmp_path / "nope.pt"))
    assert not (tmp_path / "checkpoint.pt").exists()


def test_config_validation():
    from poselab.core.errors import PoselabError

    with pytest.raises(PoselabError):
        TrainConfig(student="nope")
    with pytest.raises(PoselabError):
        TrainConfig(input_size=70)
    with pytest.raises(PoselabError):
        TrainConfig(lr=0)
    cfg = TrainConfig.from_preset("paper")
    assert (cfg.backbone, cfg.input_size, cfg.backbone_width) == ("resnet50", 256, 64)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    for f in dataclasses.fields(TrainConfig):
        assert "label" in f.metadata, f.name


def test_integral_losses_are_float32_under_autocast(toy):
    """The network's forward may run in bfloat16 (AMP on a GPU); the loss terms — the
    augmentation's rotations, the teacher's dictionary, Eq. 13's solve — do not: under CPU
    autocast they equal the float32 terms for the same prediction."""
    from poselab.distill.students import make_student

    coll, teacher = toy
    student = make_student(_cfg(augment=True), coll.num_joints)
    drain(student.prepare(coll, teacher, "cpu"))
    batch = student.batch(np.arange(8), "train", torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    pred = torch.randn(8, coll.num_joints, 3, generator=g) * 0.1
    marginal = torch.randn(8, coll.num_joints, 16 * 16, generator=g).softmax(-1).reshape(
        8, coll.num_joints, 16, 16)

    def net(x, with_heatmaps):  # a fixed prediction: only the losses differ
        return pred, marginal

    want = student.losses(net, batch, "train")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = student.losses(net, batch, "train")
    for k, v in want.items():
        assert got[k].dtype == torch.float32
        torch.testing.assert_close(got[k], v, msg=k)
