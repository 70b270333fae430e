"""open_folder: choosing the annotation, edits, unlabelled folders, and every bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from io_fixtures import write_image

from poselab.core import DataError
from poselab.io import SkeletonNeeded, edits_path, open_folder, write_coco


def test_folder_with_coco_and_images(collection, tmp_path):
    write_coco(collection, tmp_path / "person_keypoints.json")
    c = open_folder(tmp_path)
    assert c.source == tmp_path / "person_keypoints.json" and len(c) == 5
    np.testing.assert_array_equal(c.image_sizes, collection.image_sizes)  # from the headers
    assert c.has_3d  # the sidecar is not a second candidate
    assert edits_path(c) == tmp_path / "person_keypoints.poselab.json"


def test_edits_are_loaded_instead_of_the_original(collection, tmp_path):
    write_coco(collection, tmp_path / "ann.json")
    edited = collection.copy()
    edited.keypoints_2d[0, 0] = (1.5, 2.5)
    edited.visibility[0, 0] = 2
    write_coco(edited, edits_path(tmp_path / "ann.json"), sidecar_3d=False)
    c = open_folder(tmp_path)
    np.testing.assert_allclose(c.keypoints_2d[0, 0], (1.5, 2.5))
    assert c.source.name == "ann.poselab.json" and c.metadata["edits_of"].endswith("ann.json")
    assert c.has_3d  # from the original's sidecar
    assert open_folder(tmp_path / "ann.json", prefer_edits=False).keypoints_2d[0, 0, 0] != 1.5


def test_unlabelled_folder_needs_a_skeleton(tmp_path):
    for i in range(3):
        write_image(tmp_path / "imgs" / f"{i}.png", 20, 10)
    with pytest.raises(SkeletonNeeded, match="pass a skeleton") as err:
        open_folder(tmp_path)
    assert err.value.path == tmp_path and err.value.num_images == 3
    c = open_folder(tmp_path, skeleton="face14")
    assert (len(c), c.num_joints) == (3, 14) and not c.observed.any()
    assert c.sample_ids == ["imgs/0.png", "imgs/1.png", "imgs/2.png"]
    assert (c.image_sizes == (20, 10)).all()
    # the GUI labels one landmark and autosaves; reopening (no skeleton needed) restores it
    assert edits_path(c) == tmp_path / "annotations.poselab.json"
    c.keypoints_2d[1, 3] = (4, 5)
    c.visibility[1, 3] = 2
    write_coco(c, edits_path(c))
    again = open_folder(tmp_path)
    assert again.sample_ids == c.sample_ids and again.visibility[1, 3] == 2
    np.testing.assert_allclose(again.keypoints_2d[1, 3], (4, 5))


def test_unlabelled_folder_with_skeleton_json(tmp_path):
    from poselab.core import get_skeleton

    write_image(tmp_path / "a.jpg", 8, 8)
    get_skeleton("lsp14").save(tmp_path / "my_skeleton.json")
    assert open_folder(tmp_path).skeleton.name == "lsp14"


def test_bad_folders(collection, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no images and no annotation"):
        open_folder(empty)

    two = tmp_path / "two"
    write_coco(collection, two / "a.json")
    write_coco(collection, two / "b.json", sidecar_3d=False)
    with pytest.raises(DataError, match=r"2 annotation files found \(a.json, b.json\)") as err:
        open_folder(two)
    assert err.value.path == two

    notcoco = tmp_path / "notcoco"
    notcoco.mkdir()
    (notcoco / "meta.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(DataError, match="not a COCO keypoints file") as err:
        open_folder(notcoco)
    assert err.value.path == notcoco / "meta.json"


def test_missing_and_truncated_images_are_flagged(collection, tmp_path):
    """A truncated and a missing image flag their samples; the dataset still opens."""
    ann = write_coco(collection, tmp_path / "ann.json")
    truncated, missing = collection.image_paths[2], collection.image_paths[3]
    data = truncated.read_bytes()
    truncated.write_bytes(data[:-40])  # header intact, end of the scan and EOI cut
    missing.unlink()
    c = open_folder(tmp_path)
    assert c.source == ann and len(c) == len(collection)
    problems = c.metadata["per_sample"]["image_problem"]
    assert [bool(p) for p in problems] == [False, False, True, True, False]
    assert "truncated JPEG" in problems[2] and "listed but missing" in problems[3]
    assert set(c.metadata["image_problems"]) == {str(truncated), str(missing)}
    np.testing.assert_array_equal(c.image_sizes[2], collection.image_sizes[2])  # header read
    np.testing.assert_array_equal(c.image_sizes[3], (0, 0))
    np.testing.assert_allclose(c.keypoints_2d, collection.keypoints_2d, atol=1e-3)


def test_dlc_csv_and_h5_of_one_stem_count_once(tmp_path):
    (tmp_path / "CollectedData_me.csv").write_text(
        "scorer,me,me\nbodyparts,a,a\ncoords,x,y\nimg.png,1,2\n")
    (tmp_path / "CollectedData_me.h5").write_bytes(b"")
    write_image(tmp_path / "img.png", 8, 8)
    assert open_folder(tmp_path).source.suffix == ".csv"


def test_import_is_light():
    code = ("import sys, poselab.io; bad = [m for m in ('torch', 'cv2', 'PySide6', 'pandas', "
            "'scipy') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_yolo_folder_and_its_edits_path(tmp_path):
    from test_io_formats import _yolo_dataset

    root = _yolo_dataset(tmp_path)
    c = open_folder(root)
    assert len(c) == 3 and c.source == root / "data.yaml"
    assert edits_path(c) == root / "data.poselab.json"
    write_coco(c, edits_path(c))
    assert open_folder(root).source == root / "data.poselab.json"


def test_run_outputs_below_the_top_level_are_not_annotations(tmp_path):
    write_image(tmp_path / "images" / "a.jpg", 10, 10)
    (tmp_path / "student").mkdir()
    (tmp_path / "student" / "history.json").write_text(json.dumps({"loss": [1, 2]}))
    (tmp_path / "student" / "metrics.csv").write_text("epoch,loss\n1,0.5\n")
    with pytest.raises(SkeletonNeeded):
        open_folder(tmp_path)
    c = open_folder(tmp_path, skeleton="face14")
    write_coco(c, edits_path(c))
    assert open_folder(tmp_path).source == tmp_path / "annotations.poselab.json"
