"""The one student engine: every student resumes exactly, checks its architecture and split,
never trains on held-out samples, and predicts with any batch size (issue 16)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from poselab.core import Cancelled, CancelToken, DataError, drain
from poselab.core.errors import PoselabError
from poselab.distill.checkpoint import load_checkpoint
from poselab.distill.config import TrainConfig
from poselab.distill.toydata import make_toy_dataset
from poselab.distill.train import train

torch.set_num_threads(1)

STUDENTS = ("integral", "heatmap-lifter", "lifter2d")


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy_dataset(tmp_path_factory.mktemp("engine"), n=24, size=64, seed=5)


def tiny(student: str, **kw) -> TrainConfig:
    """A few-second config of ``student`` (2 epochs in all for each)."""
    base = dict(student=student, epochs=2, batch_size=8, log_every=1, num_threads=1,
                device="cpu", eval_max_samples=0, val_fraction=0.25)
    if student == "integral":
        base.update(backbone_width=4, input_size=32, deconv_layers=2, deconv_channels=8,
                    heatmap_depth=8)
    if student == "heatmap-lifter":
        base.update(backbone_width=4, input_size=32, epochs=1, heatmap_pretrain_epochs=1,
                    softargmax_beta=10.0)
    return TrainConfig(**{**base, **kw})


def _weights(path):
    return load_checkpoint(path)["model"]


def _assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.parametrize("student", STUDENTS)
def test_cancel_and_resume_gives_the_uninterrupted_weights(toy, tmp_path, student):
    coll, teacher = toy
    cfg = tiny(student)
    full = drain(train(coll, teacher, cfg, tmp_path / "full"))
    token = CancelToken()

    def on(p):
        if p.kind == "epoch":
            token.cancel()

    with pytest.raises(Cancelled):
        drain(train(coll, teacher, cfg, tmp_path / "part", cancel=token), on)
    part = load_checkpoint(tmp_path / "part")
    assert part["epoch"] == 1 and part["scheduler"] and part["rng"]["torch"] is not None
    records = []
    resumed = drain(train(coll, teacher, cfg, tmp_path / "part", resume=tmp_path / "part"),
                    records.append)
    assert [r.values["epoch"] for r in records if r.kind == "epoch"] == [1.0, 2.0]
    assert [r.stage for r in records if r.kind == "epoch"] == ["history", "epoch"]
    _assert_same_weights(_weights(full.checkpoint), _weights(resumed.checkpoint))
    assert load_checkpoint(resumed.checkpoint)["step"] == load_checkpoint(full.checkpoint)[
        "step"]


@pytest.mark.parametrize("student", STUDENTS)
def test_resume_with_another_network_or_split_is_a_clear_error(toy, tmp_path, student):
    coll, teacher = toy
    cfg = tiny(student, epochs=1, heatmap_pretrain_epochs=0)
    drain(train(coll, teacher, cfg, tmp_path))
    other = {"integral": dict(deconv_channels=16), "heatmap-lifter": dict(backbone_width=8),
             "lifter2d": dict(preset="paper")}[student]
    with pytest.raises(PoselabError, match="other network settings"):
        drain(train(coll, teacher, dataclasses.replace(cfg, epochs=2, **other), tmp_path,
                    resume=tmp_path))
    with pytest.raises(PoselabError, match="held-out split"):
        drain(train(coll, teacher, dataclasses.replace(cfg, epochs=2, val_fraction=0.5),
                    tmp_path, resume=tmp_path))
    with pytest.raises(PoselabError, match="student"):
        odd = "lifter2d" if student != "lifter2d" else "integral"
        drain(train(coll, teacher, tiny(odd, epochs=2), tmp_path, resume=tmp_path))


def _poisoned(coll, teacher, held):
    """The same data with every held-out sample's 2D, teacher 3D and teacher terms replaced
    by noise: only a student that trains on held-out samples can notice."""
    rng = np.random.default_rng(0)
    kp = coll.keypoints_2d.copy()
    kp[held] = rng.uniform(5, 60, size=kp[held].shape)
    t3 = teacher.keypoints_3d.copy()
    t3[held] = rng.normal(scale=50, size=t3[held].shape)
    codes = teacher.codes.copy()
    codes[held] = rng.normal(size=codes[held].shape)
    return (dataclasses.replace(coll, keypoints_2d=kp),
            dataclasses.replace(teacher, keypoints_3d=t3, codes=codes))


@pytest.mark.parametrize("student", ["integral", "lifter2d"])
def test_held_out_samples_never_reach_the_optimiser(toy, tmp_path, monkeypatch, student):
    from poselab.distill.split import make_split

    coll, teacher = toy
    cfg = tiny(student)
    held = make_split(coll, cfg.val_fraction, "", cfg.seed).held_out
    assert 0 < held.sum() < len(held)
    monkeypatch.setenv("POSELAB_TRACE_SAMPLES", str(tmp_path / "trace"))
    clean = drain(train(coll, teacher, cfg, tmp_path / "clean"))
    trained = set(sum(json.loads((tmp_path / "trace" / "rank0.json").read_text()), []))
    val_ids = {coll.sample_ids[i] for i in np.flatnonzero(held)}
    assert trained and not trained & val_ids
    assert trained == set(coll.sample_ids) - val_ids
    bad_coll, bad_teacher = _poisoned(coll, teacher, held)
    poisoned = drain(train(bad_coll, bad_teacher, cfg, tmp_path / "poisoned"))
    _assert_same_weights(_weights(clean.checkpoint), _weights(poisoned.checkpoint))
    # ... while the held-out scores do see the poison
    assert poisoned.metrics["val_err2d_px"] != clean.metrics["val_err2d_px"]
    assert poisoned.metrics["train_err2d_px"] == clean.metrics["train_err2d_px"]
    saved = json.loads((tmp_path / "clean" / "split.json").read_text())
    assert set(saved["val_ids"]) == val_ids and saved["method"] == "random"
    assert load_checkpoint(clean.checkpoint)["split"]["val_ids"] == saved["val_ids"]


def test_epoch_metrics_name_train_and_held_out_scores(toy, tmp_path):
    coll, teacher = toy
    records = []
    res = drain(train(coll, teacher, tiny("lifter2d"), tmp_path), records.append)
    epoch = [r for r in records if r.kind == "epoch"][-1].values
    for prefix, count in (("train_", 18), ("val_", 6)):
        assert epoch[prefix + "count"] == count
        for key in ("student_mpjpe", "student_pa_mpjpe", "err2d_px", "teacher_agreement_px",
                    "teacher_mpjpe", "reprojection_cost"):
            assert np.isfinite(epoch[prefix + key]), prefix + key
    assert res.history[-1] == epoch and "student_mpjpe" in epoch  # all scored samples


def test_split_by_key_and_by_the_datasets_own_split(toy):
    from poselab.distill.split import make_split

    coll, _ = toy
    groups = np.repeat(["s1", "s2", "s3", "s4"], 6)
    keyed = dataclasses.replace(coll, metadata={"per_sample": {"subject": groups}})
    sp = make_split(keyed, 0.25, "subject", seed=3)
    out = set(groups[sp.held_out])
    assert len(out) == 1 and set(groups[~sp.held_out]).isdisjoint(out)
    assert sp.method == "key:subject"
    with pytest.raises(DataError, match="not a per-sample metadata key"):
        make_split(keyed, 0.25, "video")
    names = np.array(["train"] * 20 + ["val"] * 4)
    own = dataclasses.replace(coll, metadata={"per_sample": {"split": names}})
    sp = make_split(own, 0.1, "", seed=0)
    assert sp.method == "dataset" and list(sp.val_idx) == [20, 21, 22, 23]
    assert make_split(coll, 0.0).method == "none" and not make_split(coll, 0.0).held_out.any()


@pytest.mark.parametrize("student", STUDENTS)
def test_predict_honours_batch_size_and_device(toy, tmp_path, student):
    from poselab.distill.predict import predict, predict_iter

    coll, teacher = toy
    res = drain(train(coll, teacher, tiny(student, epochs=1, heatmap_pretrain_epochs=0),
                      tmp_path))
    one = predict(res.checkpoint, coll, device="cpu", batch_size=1)
    seven = predict(res.checkpoint, coll, device="cpu", batch_size=7)
    np.testing.assert_allclose(one, seven, rtol=1e-4, atol=1e-3)
    assert one.shape == (24, 17, 3) and np.isfinite(one).all()
    records = []
    pred = drain(predict_iter(res.checkpoint, coll, device="cpu", batch_size=7),
                 records.append)
    assert [r.step for r in records if r.stage == "predict"] == [7, 14, 21, 24]
    assert pred.student == student and not pred.excluded.any()
    assert (pred.keypoints_2d is None) == (student == "lifter2d")


@pytest.mark.parametrize("student", ["integral", "heatmap-lifter"])
def test_image_student_predicts_unlabelled_images_from_the_whole_image(toy, tmp_path, student):
    from poselab.distill.predict import predict_iter

    coll, teacher = toy
    res = drain(train(coll, teacher, tiny(student, epochs=1, heatmap_pretrain_epochs=0),
                      tmp_path))
    blank = dataclasses.replace(coll, keypoints_2d=np.zeros_like(coll.keypoints_2d),
                                visibility=np.zeros_like(coll.visibility), keypoints_3d=None)
    pred = drain(predict_iter(res.checkpoint, blank, device="cpu"))
    assert np.isfinite(pred.keypoints_3d).all() and np.isfinite(pred.keypoints_2d).all()
    w, h = coll.image_sizes[0]
    assert (pred.keypoints_2d >= -0.5).all() and (pred.keypoints_2d[..., 0] <= w - 0.5).all()
    assert (pred.keypoints_2d[..., 1] <= h - 0.5).all()


def test_lifter2d_needs_2d_landmarks(toy, tmp_path):
    from poselab.distill.predict import predict

    coll, teacher = toy
    res = drain(train(coll, teacher, tiny("lifter2d", epochs=1), tmp_path))
    vis = coll.visibility.copy()
    vis[3] = 0
    with pytest.raises(DataError, match="no 2D landmarks"):
        predict(res.checkpoint, dataclasses.replace(coll, visibility=vis), device="cpu")


def test_unreadable_images_are_left_out_of_training_and_prediction(toy, tmp_path):
    from poselab.distill.predict import predict_iter, save_predictions

    coll, teacher = toy
    problem = np.full(len(coll), "", dtype=object)
    problem[[2, 9]] = "truncated file"
    flagged = dataclasses.replace(coll, metadata={"per_sample": {"image_problem": problem}})
    res = drain(train(flagged, teacher, tiny("integral", epochs=1), tmp_path))
    ids = load_checkpoint(res.checkpoint)["sample_ids"]
    assert len(ids) == 22 and coll.sample_ids[2] not in ids and coll.sample_ids[9] not in ids
    pred = drain(predict_iter(res.checkpoint, flagged, device="cpu"))
    assert np.isnan(pred.keypoints_3d[[2, 9]]).all()
    assert np.isfinite(np.delete(pred.keypoints_3d, [2, 9], axis=0)).all()
    assert list(np.flatnonzero(pred.excluded)) == [2, 9]
    out = save_predictions(tmp_path / "p.npz", pred.keypoints_3d, flagged,
                           excluded=pred.excluded)
    with np.load(out) as z:
        assert json.loads(str(z["extra_json"]))["excluded_ids"] == [coll.sample_ids[2],
                                                                     coll.sample_ids[9]]
    with pytest.raises(DataError, match="NaN"):
        save_predictions(tmp_path / "q.npz", pred.keypoints_3d, flagged)
