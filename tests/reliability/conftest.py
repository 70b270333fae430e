"""Tiny data for the reliability tests: a toy image collection with its teacher, a 2D-only
``.npz``, a DeepLabCut CSV, and a lifter2d checkpoint trained for one epoch."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

DLC_CSV = ("scorer,me,me,me,me\n"
           "bodyparts,nose,nose,tail,tail\n"
           "coords,x,y,x,y\n"
           "labeled-data/v/img0.png,1.5,2.5,3.5,4.5\n")


@pytest.fixture(scope="session")
def base(tmp_path_factory) -> Path:
    """``data/`` (24 toy images + annotations.json), ``t.npz`` (its teacher), ``in.npz`` (the
    2D landmarks alone), ``labeled/CollectedData.csv`` (DeepLabCut labels), ``run/`` (a lifter2d
    checkpoint, one epoch). Tests copy what they change (:func:`workdir`)."""
    import torch

    from poselab.cli import main
    from poselab.distill.toydata import make_toy_dataset
    from poselab.io import open_folder, write_npz
    from poselab.io.coco import write_coco

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("reliability")
    coll, teacher = make_toy_dataset(root / "data", n=24, size=64, seed=3)
    write_coco(coll, root / "data" / "annotations.json")
    read = open_folder(root / "data")
    order = [list(coll.image_paths).index(p) for p in read.image_paths]
    sub = {k: getattr(teacher, k)[order] for k in
           ("keypoints_3d", "shapes_normalized", "rotations", "codes", "centre", "scale")}
    dataclasses.replace(teacher, sample_ids=list(read.sample_ids), **sub).save(root / "t.npz")
    two_d = dataclasses.replace(read, image_paths=[None] * len(read), keypoints_3d=None,
                                image_sizes=None, metadata={})
    write_npz(two_d, root / "in.npz")
    (root / "labeled").mkdir()
    (root / "labeled" / "CollectedData.csv").write_text(DLC_CSV)
    rc = main(["train", str(root / "data"), "--teacher", str(root / "t.npz"), "--out",
               str(root / "run"), "--student", "lifter2d", "--epochs", "1", "--batch-size", "8",
               "--device", "cpu", "--threads", "1"])
    assert rc == 0
    return root


@pytest.fixture
def workdir(base, tmp_path) -> Path:
    """A private copy of :func:`base` (the tests overwrite and lock files in it)."""
    dst = tmp_path / "w"
    shutil.copytree(base, dst)
    return dst


@pytest.fixture
def no_work(monkeypatch):
    """Make the expensive steps fail loudly: a command that reaches them did not check its
    output first."""
    import importlib

    # import_module: ``poselab.distill.train`` the module, not the function of that name
    predict_mod = importlib.import_module("poselab.distill.predict")
    train_mod = importlib.import_module("poselab.distill.train")
    io_mod = importlib.import_module("poselab.io")
    nrsfm_mod = importlib.import_module("poselab.nrsfm")

    def forbidden(*a, **k):
        raise AssertionError("the work started before the output was checked")

    monkeypatch.setattr(nrsfm_mod, "fit", forbidden)
    monkeypatch.setattr(train_mod, "train", forbidden)
    monkeypatch.setattr(predict_mod, "predict", forbidden)
    monkeypatch.setattr(io_mod, "open_folder", forbidden)
    monkeypatch.setattr(io_mod, "read_result", forbidden)
    return forbidden
