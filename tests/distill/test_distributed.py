"""`torchrun --nproc_per_node=2 -m poselab train` with two CPU processes (gloo backend)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest

from poselab.distill.checkpoint import load_checkpoint
from poselab.distill.toydata import make_toy_dataset
from poselab.io import open_folder
from poselab.io.coco import write_coco


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    coll, teacher = make_toy_dataset(root / "data", n=32, size=96, seed=3)
    write_coco(coll, root / "data" / "annotations.json")
    read = open_folder(root / "data")
    order = [list(coll.image_paths).index(p) for p in read.image_paths]
    sub = {k: getattr(teacher, k)[order] for k in
           ("keypoints_3d", "shapes_normalized", "rotations", "codes", "centre", "scale")}
    dataclasses.replace(teacher, sample_ids=list(read.sample_ids), **sub).save(root / "t.npz")
    return root


@pytest.mark.xfail(strict=False, reason="issue 16: integral-student torchrun step count changed with the issue-17 schedule; the engine rewrite re-checks it")
def test_torchrun_two_cpu_processes(folder):
    out = folder / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "poselab", "train", str(folder / "data"), "--teacher", str(folder / "t.npz"),
           "--out", str(out), "--epochs", "2", "--batch-size", "8", "--device", "cpu",
           "--threads", "1", "--student", "integral"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ck = load_checkpoint(out)
    # each rank sees 16 of the 32 samples: 2 steps of 8 per epoch
    assert (ck["epoch"], ck["step"]) == (2, 4)
    assert ck["extra"]["world_size"] == 2
    assert proc.stdout.count("wrote") == 1  # rank 0 alone reports
    assert np.isfinite(ck["metrics"]["student_mpjpe"])
    assert list(out.iterdir()) == [out / "checkpoint.pt"]
