"""``poselab eval``: result files scored against collections, matched by sample id."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from poselab.cli import main
from poselab.core import PoseCollection, get_skeleton

io = pytest.importorskip("poselab.io", reason="poselab.io not available yet")
if not hasattr(io, "open_folder"):
    pytest.skip("poselab.io.open_folder not available yet", allow_module_level=True)


def write_result(path: Path, kp3d, ids, skeleton, units: str, kind: str = "prediction") -> Path:
    np.savez(path, keypoints_3d=np.asarray(kp3d, np.float32), sample_ids=np.asarray(ids, str),
             skeleton_json=np.array(json.dumps(skeleton.to_dict())), units=np.array(units),
             frame=np.array("camera"), kind=np.array(kind))
    return path


def run_json(capsys, *argv) -> dict:
    assert main(["eval", *map(str, argv), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_mocap17_flat_baseline_subset(shared_data, tmp_path, capsys):
    gt_path = shared_data / "mocap17" / "h36m17_train35k.npz"
    gt = io.open_folder(gt_path)
    pick = np.arange(3, len(gt), 7)[::-1]  # a subset, in another order than the file
    flat = gt.keypoints_3d[pick].copy()
    flat[..., 2] = flat[:, :1, 2]
    pred = write_result(tmp_path / "flat.npz", flat, [gt.sample_ids[i] for i in pick],
                        gt.skeleton, "mm")
    out = run_json(capsys, pred, "--gt", gt_path)
    assert out["family"] == "pose" and out["num_samples"] == len(pick)
    assert out["predicted_samples"] == len(pick) and out["ground_truth_samples"] == 35000
    from poselab.metrics import paper000_errors
    ref = paper000_errors(flat, gt.keypoints_3d[pick], gt.skeleton)
    for k in ("mpjpe", "pa_mpjpe", "depth_error"):
        assert out["metrics"][k] == pytest.approx(ref[k], rel=1e-6)
    assert 140 < out["metrics"]["mpjpe"] < 160  # near the full set's 149.6
    # the text table names the metrics and the unit
    assert main(["eval", str(pred), "--gt", str(gt_path)]) == 0
    text = capsys.readouterr().out
    assert "PA-MPJPE" in text and "depth error" in text and " mm" in text
    assert f"{ref['mpjpe']:.1f}" in text


def test_classic_sequence_uses_nrsfm_metrics(shared_data, tmp_path, capsys):
    gt_path = shared_data / "nrsfm_classic" / "pickup.npz"
    gt = io.open_folder(gt_path)
    shat = np.load(gt_path)["Shat_akhter"]
    pred = write_result(tmp_path / "akhter.npz", shat, gt.sample_ids, gt.skeleton, "units")
    out = run_json(capsys, pred, "--gt", gt_path, "--per-sample", tmp_path / "per.csv")
    assert out["family"] == "nrsfm"
    assert round(out["metrics"]["e3d_akhter"], 4) == 0.2325  # camera frame (published: 0.2369)
    assert round(out["metrics"]["e3d_frame"], 4) == 0.0362
    lines = (tmp_path / "per.csv").read_text().splitlines()
    assert lines[0].startswith("sample_id,e3d_akhter,e3d_frame") and len(lines) == 358


def test_collection_without_3d_gets_reprojection_error(tmp_path, capsys):
    sk = get_skeleton("h36m17")
    rng = np.random.default_rng(0)
    w = rng.uniform(50, 400, size=(4, 17, 2)).astype(np.float32)
    coll = PoseCollection(sk, w, sample_ids=[f"img{i}" for i in range(4)])
    gt_path = tmp_path / "two_d.npz"
    io.write_npz(coll, gt_path)
    pred3d = np.concatenate([w + np.array([3.0, 4.0]), np.ones((4, 17, 1))], axis=-1)
    pred = write_result(tmp_path / "teacher.npz", pred3d, coll.sample_ids, sk, "px", "nrsfm")
    out = run_json(capsys, pred, "--gt", gt_path)
    assert out["family"] == "reprojection"
    assert out["metrics"] == {"reprojection_px": pytest.approx(5.0)}


def test_bad_input_is_one_line_without_traceback(tmp_path, capsys):
    sk = get_skeleton("h36m17")
    w = np.random.default_rng(1).uniform(0, 100, size=(3, 17, 2)).astype(np.float32)
    coll = PoseCollection(sk, w, keypoints_3d=np.ones((3, 17, 3), np.float32),
                          sample_ids=["a", "b", "c"])
    gt_path = tmp_path / "gt.npz"
    io.write_npz(coll, gt_path)
    wrong_ids = write_result(tmp_path / "p1.npz", np.ones((3, 17, 3)), ["x", "y", "z"], sk, "mm")
    assert main(["eval", str(wrong_ids), "--gt", str(gt_path)]) == 2
    err = capsys.readouterr().err
    assert "p1.npz" in err and "sample id" in err and "Traceback" not in err
    assert main(["eval", str(tmp_path / "missing.npz"), "--gt", str(gt_path)]) == 2
    assert "missing.npz" in capsys.readouterr().err
    other = write_result(tmp_path / "p2.npz", np.ones((3, 14, 3)), ["a", "b", "c"],
                         get_skeleton("lsp14"), "mm")
    assert main(["eval", str(other), "--gt", str(gt_path)]) == 2
    assert "joints" in capsys.readouterr().err
