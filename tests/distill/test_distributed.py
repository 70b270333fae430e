"""`torchrun --nproc_per_node=2 -m poselab train` with two CPU processes (gloo backend), for
every student: each rank trains on its half of the training samples, rank 0 alone writes."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from poselab.distill.checkpoint import load_checkpoint
from poselab.distill.toydata import make_toy_dataset
from poselab.io import open_folder
from poselab.io.coco import write_coco

#: tiny networks per student (the CLI reads them with --config; flags override)
TINY = {"integral": dict(backbone_width=4, input_size=32, deconv_layers=2, deconv_channels=8,
                         heatmap_depth=8),
        "heatmap-lifter": dict(backbone_width=4, input_size=32, heatmap_pretrain_epochs=1,
                               softargmax_beta=10.0),
        "lifter2d": {}}


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


@pytest.mark.parametrize("student", ["integral", "heatmap-lifter", "lifter2d"])
def test_torchrun_two_cpu_processes(folder, tmp_path, student):
    out, trace = tmp_path / "run", tmp_path / "trace"
    (tmp_path / "tiny.json").write_text(json.dumps({"preset": "cpu", **TINY[student]}))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1",
           "POSELAB_TRACE_SAMPLES": str(trace)}
    epochs = "1" if student == "heatmap-lifter" else "2"  # + 1 heatmap pre-training epoch
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "poselab", "train", str(folder / "data"), "--teacher", str(folder / "t.npz"),
           "--out", str(out), "--epochs", epochs, "--batch-size", "8", "--device", "cpu",
           "--threads", "1", "--student", student, "--config", str(tmp_path / "tiny.json")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ck = load_checkpoint(out)
    # 32 samples, 10 % held out (3): 29 train, padded to 30, 15 per rank = 2 steps of ≤ 8
    assert (ck["epoch"], ck["step"]) == (2, 4)
    assert ck["extra"]["world_size"] == 2 and ck["student"] == student
    assert proc.stdout.count("wrote") == 1  # rank 0 alone reports
    assert np.isfinite(ck["metrics"]["val_student_mpjpe"])
    assert sorted(out.iterdir()) == [out / "checkpoint.pt", out / "split.json"]
    ranks = [json.loads((trace / f"rank{r}.json").read_text()) for r in (0, 1)]
    val = set(ck["split"]["val_ids"])
    assert len(val) == 3
    for epoch in range(2):
        a, b = (ranks[r][epoch] for r in (0, 1))
        assert len(a) == len(b) == 15  # each rank its half
        assert set(a) | set(b) == set(ck["sample_ids"]) - val  # together every training sample
        assert len(set(a) & set(b)) <= 1  # only the padding sample is shared
