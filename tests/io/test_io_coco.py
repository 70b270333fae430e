"""COCO keypoints JSON: write → read identical, foreign files, sidecar 3D, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from poselab.core import DataError
from poselab.io import read_coco, write_coco
from poselab.io.coco import sidecar_path


def assert_same(a, b, with_3d=True):
    np.testing.assert_array_equal(a.keypoints_2d, b.keypoints_2d)
    np.testing.assert_array_equal(a.visibility, b.visibility)
    assert a.sample_ids == b.sample_ids
    assert [p.resolve() for p in a.image_paths] == [p.resolve() for p in b.image_paths]
    np.testing.assert_array_equal(a.image_sizes, b.image_sizes)
    assert a.skeleton == b.skeleton
    if with_3d:
        np.testing.assert_array_equal(a.keypoints_3d, b.keypoints_3d)
        np.testing.assert_array_equal(a.intrinsics, b.intrinsics)
        assert a.units_3d == b.units_3d


def test_round_trip_identical(collection, tmp_path):
    out = write_coco(collection, tmp_path / "ann" / "edits.poselab.json")
    back = read_coco(out)
    assert_same(collection, back)
    assert back.source == out
    np.testing.assert_array_equal(back.metadata["per_sample"]["instance"], [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(back.metadata["per_sample"]["subject"],
                                  collection.metadata["per_sample"]["subject"])
    doc = json.loads(out.read_text())
    # image paths are written relative to the JSON's folder
    assert doc["images"][0]["file_name"] == "../images/frame0.jpg"
    assert len(doc["images"]) == 4 and len(doc["annotations"]) == 5
    assert doc["categories"][0]["skeleton"][0] == [16, 14]  # 1-based
    assert sidecar_path(out).is_file()
    # and writing what was read gives the same file
    again = write_coco(back, tmp_path / "ann" / "again.json")
    assert json.loads(again.read_text())["annotations"] == doc["annotations"]


def test_numeric_ids_and_no_image_samples(collection, tmp_path):
    c = collection.subset([0, 1, 2])
    c.sample_ids = ["7", "12", "x"]
    c.image_paths = [None, None, None]
    c.image_sizes = None
    back = read_coco(write_coco(c, tmp_path / "a.json", sidecar_3d=False))
    assert back.sample_ids == ["7", "12", "x"]
    assert back.image_paths == [None, None, None] and back.image_sizes is None
    assert not back.has_3d


def foreign_coco(names, edges, kps, images=None):
    images = images or [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}]
    return {
        "images": images,
        "annotations": [{"id": 100 + k, "image_id": img, "category_id": 1, "iscrowd": 0,
                         "keypoints": kp} for k, (img, kp) in enumerate(kps)],
        "categories": [{"id": 1, "name": "thing", "keypoints": names, "skeleton": edges}],
    }


def test_foreign_coco17_maps_to_builtin_and_instances(tmp_path):
    from poselab.core import get_skeleton

    names = list(get_skeleton("coco17").joint_names)
    kp = [float(v) for j in range(17) for v in (10 + j, 20 + j, 2)]
    doc = foreign_coco(names, [[16, 14]], [(1, kp), (1, kp), (2, kp)],
                       images=[{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480},
                               {"id": 2, "file_name": "b.jpg", "width": 320, "height": 240}])
    doc["annotations"].append({"id": 999, "image_id": 2, "category_id": 1, "iscrowd": 1,
                               "keypoints": kp})
    (tmp_path / "images").mkdir()
    for n in ("a.jpg", "b.jpg"):
        (tmp_path / "images" / n).write_bytes(b"")
    f = tmp_path / "person_keypoints.json"
    f.write_text(json.dumps(doc))
    c = read_coco(f)
    assert c.skeleton.name == "coco17" and len(c) == 3  # the crowd annotation is skipped
    assert c.sample_ids == ["100", "101", "102"]
    np.testing.assert_array_equal(c.metadata["per_sample"]["instance"], [0, 1, 0])
    assert c.image_paths[2] == tmp_path / "images" / "b.jpg"  # found under images/
    np.testing.assert_array_equal(c.image_sizes[2], (320, 240))
    np.testing.assert_allclose(c.keypoints_2d[0, 3], (13, 23))


def test_generic_skeleton_from_category(tmp_path):
    names = ["head", "left_hand", "right_hand"]
    doc = foreign_coco(names, [[1, 2], [1, 3]], [(1, [1, 2, 2, 3, 4, 1, 0, 0, 0])])
    f = tmp_path / "k.json"
    f.write_text(json.dumps(doc))
    c = read_coco(f)
    assert c.skeleton.name == "thing" and c.skeleton.bones == ((0, 1), (0, 2))
    assert c.skeleton.left_right == ((1, 2),)
    np.testing.assert_array_equal(c.visibility, [[2, 1, 0]])


@pytest.mark.parametrize("doc,problem", [
    ({"type": "not coco"}, "not a COCO keypoints file"),
    ({"images": [], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0]}],
      "categories": [{"id": 1, "name": "x"}]}, "no category with 'keypoints'"),
    (foreign_coco(["a", "b"], [], [(1, [1, 1, 2, 2, 2, 2]), (1, [1, 1, 2])]),
     "landmark counts differ"),
    (foreign_coco(["a", "b"], [], [(1, [1, 1, 2, float("nan"), 2, 2])]), "NaN"),
    (foreign_coco(["a", "b"], [], [(7, [1, 1, 2, 2, 2, 2])]), "not listed"),
])
def test_bad_coco_names_file(tmp_path, doc, problem):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(DataError) as err:
        read_coco(f)
    assert err.value.path == f and problem in str(err.value)
    assert "\n" not in str(err.value)


def test_sidecar_missing_ids_is_reported(collection, tmp_path):
    out = write_coco(collection, tmp_path / "a.json")
    np.savez(sidecar_path(out), sample_ids=np.array(["s0"]), units=np.array("mm"),
             keypoints_3d=np.zeros((1, 17, 3), np.float32))
    with pytest.raises(DataError, match="sidecar lacks 4 of the 5"):
        read_coco(out)


def test_edits_keep_original_sidecar(collection, tmp_path):
    write_coco(collection, tmp_path / "ann.json")  # writes ann.3d.npz
    edits = write_coco(collection.subset([0, 1]), tmp_path / "ann.poselab.json",
                       sidecar_3d=False)
    back = read_coco(edits)
    np.testing.assert_array_equal(back.keypoints_3d, collection.keypoints_3d[:2])
