"""`poselab train` / `poselab predict` on a tiny COCO folder of rendered stick figures."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from poselab.cli import main
from poselab.distill.checkpoint import load_checkpoint
from poselab.distill.toydata import make_toy_dataset
from poselab.io import open_folder
from poselab.io.coco import write_coco
from poselab.nrsfm.result import RESULT_FILE_KEYS

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    coll, teacher = make_toy_dataset(root / "data", n=32, size=96, seed=2)
    write_coco(coll, root / "data" / "annotations.json")
    read = open_folder(root / "data")
    assert len(read) == 32
    order = [list(coll.image_paths).index(p) for p in read.image_paths]
    np.testing.assert_allclose(read.keypoints_2d, coll.keypoints_2d[order], atol=1e-3)
    sub = {k: getattr(teacher, k)[order] for k in
           ("keypoints_3d", "shapes_normalized", "rotations", "codes", "centre", "scale")}
    dataclasses.replace(teacher, sample_ids=list(read.sample_ids), **sub).save(root / "t.npz")
    return root


def test_train_resume_predict(folder, capsys):
    out = folder / "run"
    args = ["train", str(folder / "data"), "--teacher", str(folder / "t.npz"), "--out", str(out),
            "--epochs", "1", "--batch-size", "16", "--device", "cpu", "--threads", "1"]
    assert main(args) == 0
    assert load_checkpoint(out)["step"] == 2
    # the same command again would start over: refused, the finished run is kept
    assert main(args) == 2
    assert "--resume" in capsys.readouterr().err
    assert load_checkpoint(out)["step"] == 2
    assert main([*args[:-8], "--epochs", "2", "--resume"]) == 0
    ck = load_checkpoint(out / "checkpoint.pt")
    assert (ck["epoch"], ck["step"], ck["config"]["batch_size"]) == (2, 4, 16)
    text = capsys.readouterr().out
    assert "student_depth_error=" in text and "wrote" in text
    pred = folder / "pred.npz"
    assert main(["predict", str(out), str(folder / "data"), "--out", str(pred)]) == 0
    with np.load(pred) as z:
        assert set(RESULT_FILE_KEYS) <= set(z.files)
        assert z["keypoints_3d"].shape == (32, 17, 3)
        assert list(z["sample_ids"]) == list(open_folder(folder / "data").sample_ids)


def test_bad_teacher_is_one_line_error(folder, tmp_path, capsys):
    t = np.load(folder / "t.npz")
    arrays = {k: t[k] for k in t.files}
    arrays["sample_ids"] = np.array([f"x{i}" for i in range(32)])
    arrays.pop("content_sha256")  # a valid teacher of other samples, not a damaged file
    np.savez(tmp_path / "bad.npz", **arrays)
    rc = main(["train", str(folder / "data"), "--teacher", str(tmp_path / "bad.npz"), "--out",
               str(tmp_path / "run"), "--epochs", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and "different sample set" in err and "Traceback" not in err
    rc = main(["train", str(folder / "data"), "--out", str(tmp_path / "run")])
    assert rc == 2 and "--teacher" in capsys.readouterr().err


def test_bench_distill_smoke(shared_data, tmp_path):
    """scripts/bench_distill.py --smoke renders, fits, trains the three students, prints."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "bench_distill.py"
    proc = subprocess.run([sys.executable, str(script), "--smoke", "--cache", str(tmp_path),
                           "--threads", "1"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for row in ("Deep NRSfM teacher", "teacher network shapes", "Weaksup-bs", "distilled",
                "supervised", "claim on"):
        assert row in proc.stdout


def test_lifter_flags_reach_the_config_and_gt_target_needs_no_teacher(shared_data, tmp_path,
                                                                       capsys):
    """`--student lifter2d --lifter-target gt` trains from ground truth alone; the paper-001
    flags land in the saved config."""
    data = shared_data / "nrsfm_classic" / "pickup.npz"
    out = tmp_path / "run"
    rc = main(["train", str(data), "--out", str(out), "--student", "lifter2d",
               "--lifter-target", "gt", "--epochs", "1", "--batch-size", "64",
               "--softargmax-beta", "20", "--pretrain-epochs", "2", "--loss-alpha", "0.5",
               "--loss-beta", "2", "--loss-gamma", "3", "--loss-delta", "0.25", "--no-skip",
               "--device", "cpu", "--threads", "1"])
    assert rc == 0, capsys.readouterr().err
    config = load_checkpoint(out)["config"]
    assert (config["student"], config["lifter_target"], config["softargmax_beta"],
            config["heatmap_pretrain_epochs"], config["loss_alpha"], config["loss_beta"],
            config["loss_gamma"], config["loss_delta"], config["lifter_skip"]) == (
        "lifter2d", "gt", 20.0, 2, 0.5, 2.0, 3.0, 0.25, False)
    # the teacher's 3D is the default target: without a teacher that is a one-line error
    rc = main(["train", str(data), "--out", str(tmp_path / "r2"), "--student", "lifter2d"])
    assert rc == 2 and "--teacher" in capsys.readouterr().err


def test_held_out_flags_and_predict_on_unlabelled_images_and_video(folder, tmp_path, capsys):
    """`--val-fraction` holds samples out (split.json, val_* scores printed); `poselab
    predict` runs an image student on a folder of unlabelled images (--batch-size) and on a
    video file (--every)."""
    import json
    import shutil

    out = tmp_path / "run"
    (tmp_path / "tiny.json").write_text(json.dumps(dict(
        preset="cpu", backbone_width=4, input_size=32, deconv_layers=2, deconv_channels=8,
        heatmap_depth=8)))
    rc = main(["train", str(folder / "data"), "--teacher", str(folder / "t.npz"), "--out",
               str(out), "--student", "integral", "--config", str(tmp_path / "tiny.json"),
               "--epochs", "1", "--batch-size", "8", "--device", "cpu", "--threads", "1",
               "--val-fraction", "0.25"])
    assert rc == 0, capsys.readouterr().err
    text = capsys.readouterr().out
    assert "val (8 samples):" in text and "train (24 samples):" in text
    assert len(json.loads((out / "split.json").read_text())["val_ids"]) == 8
    assert load_checkpoint(out)["config"]["val_fraction"] == 0.25
    photos = tmp_path / "photos"
    photos.mkdir()
    for p in sorted((folder / "data").glob("*.png"))[:5]:
        shutil.copy(p, photos / p.name)
    pred = tmp_path / "pred.npz"
    rc = main(["predict", str(out), str(photos), "--out", str(pred), "--batch-size", "2",
               "--device", "cpu"])
    assert rc == 0, capsys.readouterr().err
    with np.load(pred) as z:
        assert z["keypoints_3d"].shape == (5, 17, 3) and np.isfinite(z["keypoints_3d"]).all()
    rc = main(["predict", str(out), str(photos), "--out", str(tmp_path / "p2.npz"),
               "--batch-size", "0"])
    assert rc == 2 and "--batch-size" in capsys.readouterr().err
    # a video file: every --every-th frame, cropped as the whole frame
    import cv2

    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (96, 96))
    for p in sorted((folder / "data").glob("*.png"))[:6]:
        writer.write(cv2.imread(str(p)))
    writer.release()
    rc = main(["predict", str(out), str(video), "--out", str(tmp_path / "v.npz"), "--every",
               "2", "--device", "cpu"])
    assert rc == 0, capsys.readouterr().err
    with np.load(tmp_path / "v.npz") as z:
        assert z["keypoints_3d"].shape == (3, 17, 3) and np.isfinite(z["keypoints_3d"]).all()
        assert list(z["sample_ids"]) == ["clip.avi#0", "clip.avi#2", "clip.avi#4"]
