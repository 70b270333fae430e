"""Ultralytics YOLO pose datasets in every shipped layout (yaml anywhere near, split folders,
kpt_names/flip_idx, all splits with the split kept per sample, ``--split``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from io_fixtures import write_image

from poselab.cli import main
from poselab.core import DataError
from poselab.io import SkeletonNeeded, edits_path, open_folder, write_coco
from poselab.io.yolo import read_yolo
from poselab.io.yolo_layout import find_yolo

YAML = """# Ultralytics pose dataset, as shipped
path: ../datasets/tiger-pose  # does not exist here: the yaml's folder is used
train: train/images
val: val/images
kpt_shape: [3, 3]
flip_idx: [0, 2, 1]
kpt_names:
  0:
    - nose
    - left_paw
    - right_paw
names:
  0: tiger
"""

# (split, image name, (w, h), label text)
FILES = [
    ("train", "t0.jpg", (100, 50), "0 0.5 0.5 1 1 0.1 0.2 2 0.5 0.5 1 0 0 0\n"),
    ("train", "t1.png", (40, 80), "0 0.5 0.5 1 1 0.25 0.5 2 0.5 0.25 2 0.75 0.75 1\n"
                                  "0 0.5 0.5 1 1 0.5 0.5 2 0.5 0.5 2 0.5 0.5 2\n"),
    ("val", "v0.jpg", (60, 30), "0 0.5 0.5 1 1 1 1 2 0 0 0 0.5 0.5 2\n"),
]


def _write(root: Path, per_split_dirs: bool, yaml: str | None = YAML) -> Path:
    for split, name, (w, h), text in FILES:
        if per_split_dirs:  # <root>/<split>/{images,labels}
            img, lab = root / split / "images" / name, root / split / "labels" / name
        else:  # <root>/{images,labels}/<split>
            img, lab = root / "images" / split / name, root / "labels" / split / name
        write_image(img, w, h)
        lab.parent.mkdir(parents=True, exist_ok=True)
        lab.with_suffix(".txt").write_text(text)
    write_image((root / "train" / "images" if per_split_dirs else root / "images" / "train")
                / "background.jpg", 8, 8)
    if yaml is not None:
        (root / "tiger-pose.yaml").write_text(yaml if per_split_dirs else yaml.replace(
            "train/images", "images/train").replace("val/images", "images/val"))
    return root


EXPECTED_T0 = [[10, 10], [50, 25], [0, 0]]
EXPECTED_V0 = [[60, 30], [0, 0], [30, 15]]


def _check_all(c):
    assert len(c) == 4 and c.num_joints == 3
    assert c.sample_ids == ["train/t0.jpg#0", "train/t1.png#0", "train/t1.png#1", "val/v0.jpg#0"]
    assert c.metadata["per_sample"]["split"].tolist() == ["train", "train", "train", "val"]
    np.testing.assert_allclose(c.keypoints_2d[0], EXPECTED_T0, atol=1e-3)
    np.testing.assert_allclose(c.keypoints_2d[3], EXPECTED_V0, atol=1e-3)
    np.testing.assert_array_equal(c.visibility[[0, 3]], [[2, 1, 0], [2, 0, 2]])
    np.testing.assert_array_equal(c.image_sizes[[0, 1, 3]], [[100, 50], [40, 80], [60, 30]])
    assert c.skeleton.joint_names == ("nose", "left_paw", "right_paw")
    assert c.skeleton.left_right == ((1, 2),)


@pytest.mark.parametrize("per_split_dirs", [True, False])
def test_root_yaml_and_split_folders(tmp_path, per_split_dirs):
    root = _write(tmp_path / "tiger", per_split_dirs)
    yaml = root / "tiger-pose.yaml"
    for target in (root, yaml):
        c = open_folder(target)
        _check_all(c)
        assert c.source == yaml
    split_dirs = ([root / "train", root / "train" / "images", root / "train" / "labels"]
                  if per_split_dirs else [root / "images" / "train", root / "labels" / "train"])
    for target in split_dirs:
        c = open_folder(target)
        assert c.metadata["split"] == "train" and len(c) == 3, target
        assert set(c.metadata["per_sample"]["split"]) == {"train"}
    c = open_folder(root, split="val")
    assert c.sample_ids == ["val/v0.jpg#0"]
    np.testing.assert_allclose(c.keypoints_2d[0], EXPECTED_V0, atol=1e-3)
    with pytest.raises(DataError, match="no split 'test'"):
        open_folder(root, split="test")


@pytest.mark.parametrize("per_split_dirs", [True, False])
def test_layouts_without_yaml(tmp_path, per_split_dirs):
    root = _write(tmp_path / "ds", per_split_dirs, yaml=None)
    with pytest.raises(SkeletonNeeded, match="skeleton") as err:  # the GUI asks for one
        open_folder(root)
    assert err.value.labelled and err.value.num_images == 4
    assert "9 keypoint values: 3 landmarks with visibility" in str(err.value)
    c = open_folder(root, skeleton=_three())
    assert len(c) == 4
    assert c.metadata["per_sample"]["split"].tolist() == ["train", "train", "train", "val"]
    split = root / "val" if per_split_dirs else root / "images" / "val"
    c = open_folder(split, skeleton=_three())
    assert c.sample_ids == ["val/v0.jpg#0"]


def _three():
    from poselab.core import Skeleton

    return Skeleton("tri", ("a", "b", "c"))


def test_yaml_in_another_folder_path_relative_to_it(tmp_path):
    root = _write(tmp_path / "tiger", True, yaml=None)
    (tmp_path / "configs").mkdir()
    cfg = tmp_path / "configs" / "pose.yml"
    cfg.write_text(YAML.replace("../datasets/tiger-pose", "../tiger"))
    c = open_folder(cfg)
    _check_all(c)
    assert find_yolo(cfg).root == root


def test_flip_idx_without_names_and_generic_names(tmp_path):
    root = _write(tmp_path / "t", True, yaml=YAML.split("kpt_names")[0])
    c = read_yolo(root)
    assert c.skeleton.joint_names == ("kpt_0", "kpt_1", "kpt_2")
    assert c.skeleton.left_right == ((1, 2),)


@pytest.mark.parametrize("line, problem", [
    ("0 0.5 0.5 1 1 7.5 0.2 2 0.5 0.5 1 0 0 0", "line 2: keypoint 0 = (7.5, 0.2) is outside"),
    ("0 0.5 0.5 1 1 0.1 -0.2 2 0.5 0.5 1 0 0 0", "line 2: keypoint 0 = (0.1, -0.2) is outside"),
    ("0 0.5 0.5 1 1 0.1 0.2 2 0.5 0.5 1 0 0 5", "line 2: visibility outside"),
    ("0 0.5 0.5 1 1 0.1 0.2 2", "line 2 has 3 keypoint values"),
])
def test_bad_lines_name_file_and_line(tmp_path, line, problem):
    root = _write(tmp_path / "t", True)
    label = root / "val" / "labels" / "v0.txt"
    label.write_text("0 0.5 0.5 1 1 0.1 0.2 2 0.5 0.5 1 0 0 0\n" + line + "\n")
    with pytest.raises(DataError, match=problem.replace("(", r"\(").replace(")", r"\)")) as err:
        open_folder(root)
    assert err.value.path == label


def test_labels_are_normalised_by_the_exif_oriented_size(tmp_path):
    from test_io_images import exif_rotated_jpeg

    root = _write(tmp_path / "t", True)
    img = root / "val" / "images" / "v0.jpg"
    img.unlink()
    exif_rotated_jpeg(img, (100, 40))  # displayed 40 × 100, as Ultralytics reads it
    c = open_folder(root, split="val")
    np.testing.assert_array_equal(c.image_sizes[0], (40, 100))
    np.testing.assert_allclose(c.keypoints_2d[0], [[40, 100], [0, 0], [20, 50]], atol=1e-3)


def test_edits_of_one_split_do_not_replace_the_dataset(tmp_path):
    root = _write(tmp_path / "t", True)
    c = open_folder(root / "val")
    assert edits_path(c) == root / "tiger-pose.val.poselab.json"
    c.keypoints_2d[0, 0] = (1.5, 2.5)
    write_coco(c, edits_path(c))
    again = open_folder(root / "val")
    assert again.source == root / "tiger-pose.val.poselab.json"
    np.testing.assert_allclose(again.keypoints_2d[0, 0], (1.5, 2.5))
    assert len(open_folder(root)) == 4  # the whole dataset is still the original


def test_cli_info_split(tmp_path, capsys):
    root = _write(tmp_path / "t", False)
    assert main(["info", str(root)]) == 0
    out = capsys.readouterr().out
    assert "samples:   4" in out and "splits:    train 3, val 1" in out
    assert main(["info", str(root), "--split", "val"]) == 0
    assert "samples:   1" in capsys.readouterr().out
    assert main(["info", str(root), "--split", "nope"]) == 2
    assert "no split 'nope'" in capsys.readouterr().err


def test_parent_with_several_dataset_yamls(tmp_path):
    """``datasets/`` holding the yamls of two datasets: each dataset folder opens its own."""
    datasets = tmp_path / "datasets"
    root = _write(datasets / "tiger", True, yaml=None)
    (datasets / "tiger.yaml").write_text(YAML.replace("../datasets/tiger-pose", "tiger"))
    (datasets / "other.yaml").write_text(YAML.replace("../datasets/tiger-pose", "other"))
    (datasets / "other").mkdir()
    c = open_folder(root)
    assert len(c) == 4 and c.source == datasets / "tiger.yaml"
    assert open_folder(root / "val").metadata["split"] == "val"
