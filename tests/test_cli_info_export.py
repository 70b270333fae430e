"""``poselab info`` and ``poselab export``: output, and one-line errors with exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from poselab.cli import main
from poselab.core import PoseCollection, get_skeleton
from poselab.io import read_export, write_coco


def _jpeg(path, w, h):
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((h, w, 3), 128, np.uint8))
    return path


@pytest.fixture
def folder(tmp_path):
    """3 images (2 sizes) and a COCO file with face14 landmarks and 3D ground truth."""
    sk = get_skeleton("face14")
    paths = [_jpeg(tmp_path / "images" / f"{i}.jpg", 40 + 20 * (i == 2), 30) for i in range(3)]
    rng = np.random.default_rng(0)
    vis = np.full((3, 14), 2, np.uint8)
    vis[0, :7] = 0
    c = PoseCollection(skeleton=sk, keypoints_2d=rng.random((3, 14, 2)) * 30, visibility=vis,
                       image_paths=paths, keypoints_3d=rng.normal(size=(3, 14, 3)),
                       units_3d="mm")
    write_coco(c, tmp_path / "faces.json")
    return tmp_path


def _result(path, ids, k3, skeleton, kind="prediction"):
    np.savez(path, kind=np.array(kind), keypoints_3d=k3, sample_ids=np.asarray(ids),
             skeleton_json=np.array(json.dumps(skeleton.to_dict())), units=np.array("normalised"),
             frame=np.array("camera"))
    return path


def test_info_prints_what_was_found(folder, capsys):
    assert main(["info", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "samples:   3" in out and "joints:    14" in out and "face14" in out
    assert "observed:  83.3% of landmarks (35 of 42)" in out
    assert "images:    40–60 × 30–30 px" in out
    assert "3D:        ground truth in mm" in out


def test_info_unlabelled_images_with_skeleton(tmp_path, capsys):
    _jpeg(tmp_path / "a.jpg", 16, 12)
    assert main(["info", str(tmp_path), "--skeleton", "coco17"]) == 0
    out = capsys.readouterr().out
    assert "samples:   1" in out and "coco17" in out and "observed:  0.0%" in out


@pytest.mark.parametrize("setup,problem", [
    ("empty", "no images and no annotation file"),
    ("images_only", "pass a skeleton"),
    ("two", "2 annotation files found"),
    ("not_coco", "not a COCO keypoints file"),
    ("csv_missing_column", "lacks the column 'y'"),
    ("mat_layout", "unknown joints layout (4, 14, 3)"),
    ("nan", "NaN"),
    # a missing or truncated image no longer fails the dataset: it is flagged and listed
    # (issue 13; tests/io/test_io_bad_images.py)
    ("counts", "landmark counts differ"),
])
def test_bad_input_prints_one_line(tmp_path, capsys, setup, problem):
    d = tmp_path / setup
    d.mkdir()
    target = d
    if setup == "images_only":
        _jpeg(d / "a.jpg", 8, 8)
    elif setup == "two":
        (d / "a.csv").write_text("image,joint,x,y\n")
        (d / "b.csv").write_text("image,joint,x,y\n")
    elif setup == "not_coco":
        (d / "x.json").write_text("[1, 2, 3]")
    elif setup == "csv_missing_column":
        (d / "l.csv").write_text("image,joint,x\na.png,tip,1\n")
    elif setup == "mat_layout":
        import scipy.io

        scipy.io.savemat(d / "joints.mat", {"joints": np.zeros((4, 14, 3))})
    elif setup in ("nan", "missing_image", "truncated", "counts"):
        img = _jpeg(d / "a.jpg", 8, 8)
        kp = [1.0, 1.0, 2, 2.0, 2.0, 2]
        if setup == "nan":
            kp[3] = float("nan")
        if setup == "missing_image":
            img.unlink()
        if setup == "truncated":
            img.write_bytes(img.read_bytes()[:-20])
        anns = [{"id": 1, "image_id": 1, "category_id": 1, "keypoints": kp}]
        if setup == "counts":
            anns.append({"id": 2, "image_id": 1, "category_id": 1, "keypoints": kp[:3]})
        (d / "k.json").write_text(json.dumps({
            "images": [{"id": 1, "file_name": "a.jpg"}], "annotations": anns,
            "categories": [{"id": 1, "name": "p", "keypoints": ["a", "b"]}]}))
    assert main(["info", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("poselab: error: ") and str(d) in err and problem in err


def test_export_with_data_csv_and_json(folder, tmp_path, capsys):
    from poselab.io import open_folder

    data = open_folder(folder)
    k3 = np.arange(3 * 14 * 3, dtype=np.float32).reshape(3, 14, 3) / 7
    res = _result(tmp_path / "predictions.npz", data.sample_ids[::-1], k3[::-1], data.skeleton)
    out_csv = tmp_path / "out.csv"
    assert main(["export", str(res), "--out", str(out_csv), "--data", str(folder),
                 "--with-ground-truth"]) == 0
    assert "wrote 3 samples × 14 joints (student, ground_truth)" in capsys.readouterr().out
    back = read_export(out_csv)
    assert back["samples"][0] == ("images/2.jpg", 0)  # result order
    np.testing.assert_array_equal(back["sources"]["student"].astype(np.float32), k3[::-1])
    np.testing.assert_array_equal(back["sources"]["ground_truth"].astype(np.float32),
                                  data.keypoints_3d[::-1])
    assert back["units"] == {"student": "normalised", "ground_truth": "mm"}

    out_json = tmp_path / "out.json"
    assert main(["export", str(res), "--out", str(out_json), "--source", "mine"]) == 0
    doc = json.loads(out_json.read_text())
    assert doc["sources"] == ["mine"] and doc["units"] == {"mine": "normalised"}
    np.testing.assert_array_equal(
        np.asarray(doc["samples"][1]["keypoints_3d"]["mine"], np.float32), k3[1])


def test_export_errors_are_one_line(folder, tmp_path, capsys):
    data_ids = ["nope"]
    res = _result(tmp_path / "r.npz", data_ids, np.zeros((1, 14, 3)), get_skeleton("face14"))
    assert main(["export", str(res), "--out", str(tmp_path / "o.csv"), "--data",
                 str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sample ids are not in" in err and str(res) in err
    assert main(["export", str(tmp_path / "none.npz"), "--out", str(tmp_path / "o.csv")]) == 2
    assert "file not found" in capsys.readouterr().err
    assert main(["export", str(res), "--out", str(tmp_path / "o.txt")]) == 2
    assert "must end in .csv or .json" in capsys.readouterr().err


def test_info_names_machine_labels_below_pcutoff(dlc_machine_labels, capsys):
    # DeepLabCut machine labels: one prediction under the default pcutoff (0.6)
    assert main(["info", str(dlc_machine_labels)]) == 0
    out = capsys.readouterr().out
    assert "observed:  75.0% of landmarks (3 of 4)" in out
    assert "1 predicted landmarks below DeepLabCut's pcutoff 0.6 read as unlabelled" in out
