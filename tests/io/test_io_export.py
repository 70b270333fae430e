"""3D export (DESIGN §8): CSV and JSON parse back to the same numbers; result files."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from poselab.core import DataError
from poselab.io import export_csv, export_json, read_export, read_result
from poselab.io.export import CSV_COLUMNS


@pytest.fixture
def sources(collection):
    rng = np.random.default_rng(3)
    teacher = rng.normal(0, 100, (len(collection), collection.num_joints, 3)).astype(np.float32)
    teacher[1, 4] = np.nan
    return {"teacher": teacher, "ground_truth": collection.keypoints_3d}


def test_csv_parses_back_to_the_same_numbers(collection, sources, tmp_path):
    out = export_csv(tmp_path / "out" / "poses.csv", collection, sources,
                     units={"teacher": "px", "ground_truth": "mm"}, frame="camera",
                     include_2d=True)
    with open(out, newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[1][:4] == ["../images/frame0.jpg", "0", "nose", "landmarks_2d"]
    back = read_export(out)
    assert back["samples"][:2] == [("../images/frame0.jpg", 0), ("../images/frame0.jpg", 1)]
    assert back["joints"] == list(collection.skeleton.joint_names)
    assert back["units"] == {"landmarks_2d": "px", "teacher": "px", "ground_truth": "mm"}
    assert back["frame"]["teacher"] == "camera"
    for name, arr in sources.items():
        np.testing.assert_array_equal(back["sources"][name].astype(np.float32), arr)
    kp = back["sources"]["landmarks_2d"][..., :2]
    obs = collection.observed
    np.testing.assert_array_equal(kp[obs].astype(np.float32), collection.keypoints_2d[obs])
    assert np.isnan(kp[~obs]).all()


def test_json_parses_back_to_the_same_numbers(collection, sources, tmp_path):
    out = export_json(tmp_path / "poses.json", collection, sources, units="mm", frame="camera",
                      samples=["s1", "s3"])
    doc = json.loads(out.read_text())
    assert doc["format"] == "poselab-export" and doc["poselab_version"]
    assert doc["skeleton"]["name"] == "coco17" and doc["units"]["teacher"] == "mm"
    s = doc["samples"][0]
    assert (s["sample_id"], s["image"], s["instance"]) == ("s1", "images/frame0.jpg", 1)
    lm = np.asarray(s["landmarks_2d"])
    np.testing.assert_array_equal(lm[:, :2].astype(np.float32), collection.keypoints_2d[1])
    np.testing.assert_array_equal(lm[:, 2], collection.visibility[1])
    assert s["keypoints_3d"]["teacher"][4] == [None, None, None]
    back = read_export(out)
    for name, arr in sources.items():
        np.testing.assert_array_equal(back["sources"][name].astype(np.float32), arr[[1, 3]])


def test_export_rejects_wrong_shapes(collection, tmp_path):
    with pytest.raises(DataError, match="expected \\(5, 17, 3\\)"):
        export_csv(tmp_path / "x.csv", collection, {"t": np.zeros((4, 17, 3))}, "px", "camera")
    assert not (tmp_path / "x.csv").exists()


def _result_file(path, collection, kind="nrsfm"):
    arrays = {"kind": np.array(kind), "keypoints_3d": collection.keypoints_3d * 2,
              "sample_ids": np.asarray(collection.sample_ids),
              "skeleton_json": np.array(json.dumps(collection.skeleton.to_dict())),
              "units": np.array("px"), "frame": np.array("camera")}
    np.savez(path, **arrays)
    return path


def test_read_result_teacher_file(collection, tmp_path):
    from poselab.nrsfm.result import NRSfMResult

    N, J = len(collection), collection.num_joints
    r = NRSfMResult(skeleton=collection.skeleton, sample_ids=collection.sample_ids,
                    keypoints_3d=collection.keypoints_3d, shapes_normalized=np.zeros((N, J, 3)),
                    rotations=np.tile(np.eye(3), (N, 1, 1)), codes=np.zeros((N, 4)),
                    dictionary=np.zeros((3 * J, 4)), centre=np.zeros((N, 2)),
                    scale=np.ones(N), reflection=-1)
    r.save(tmp_path / "nrsfm.npz")
    res = read_result(tmp_path / "nrsfm.npz")
    assert res.kind == "nrsfm" and res.units == "px" and res.frame == "camera"
    assert res.sample_ids == collection.sample_ids and res.skeleton == collection.skeleton
    np.testing.assert_array_equal(res.keypoints_3d, collection.keypoints_3d)
    assert res.extra["reflection"] == -1


def test_read_result_rejects_a_collection(collection, tmp_path):
    from poselab.io import write_npz

    f = write_npz(collection, tmp_path / "c.npz")
    with pytest.raises(DataError, match="not a poselab 3D result") as err:
        read_result(f)
    assert err.value.path == f


def test_read_result_checks_the_stored_hash(collection, tmp_path):
    """A teacher file whose 3D was changed after saving (a valid zip with a stale hash) is
    refused by name, so an export never reports numbers the teacher did not produce."""
    from poselab.nrsfm.result import NRSfMResult

    N, J = len(collection), collection.num_joints
    r = NRSfMResult(skeleton=collection.skeleton, sample_ids=collection.sample_ids,
                    keypoints_3d=collection.keypoints_3d, shapes_normalized=np.zeros((N, J, 3)),
                    rotations=np.tile(np.eye(3), (N, 1, 1)), codes=np.zeros((N, 4)),
                    dictionary=np.zeros((3 * J, 4)), centre=np.zeros((N, 2)),
                    scale=np.ones(N), reflection=1)
    good = tmp_path / "nrsfm.npz"
    r.save(good)
    with np.load(good, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["keypoints_3d"] = arrays["keypoints_3d"] + 1.0
    np.savez(tmp_path / "edited.npz", **arrays)
    with pytest.raises(DataError, match="damaged") as err:
        read_result(tmp_path / "edited.npz")
    assert err.value.path == tmp_path / "edited.npz"
    assert read_result(good).num_samples == N


def test_predictions_carry_a_hash_that_read_result_checks(collection, tmp_path):
    from poselab.distill.predict import save_predictions

    good = save_predictions(tmp_path / "predictions.npz", collection.keypoints_3d, collection)
    assert read_result(good).kind == "prediction"
    with np.load(good, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    assert "content_sha256" in arrays
    arrays["keypoints_3d"] = arrays["keypoints_3d"] * 2.0
    np.savez(tmp_path / "edited.npz", **arrays)
    with pytest.raises(DataError, match="damaged"):
        read_result(tmp_path / "edited.npz")
