"""Skeletons from landmark names, the shipped skeleton JSONs, and YAML files (PyYAML safe_load)."""

from __future__ import annotations

from pathlib import Path

import pytest

from poselab.core import BUILTIN, Skeleton
from poselab.io.skeleton_match import builtin_for, guess_left_right, skeleton_from_names
from poselab.io.yaml_file import read_yaml

RESOURCES = Path(__file__).resolve().parents[2] / "resources" / "skeletons"


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_resource_json_equals_builtin(name):
    assert Skeleton.load(RESOURCES / f"{name}.json") == BUILTIN[name]


def test_builtin_by_names_ignores_case_and_separators():
    names = [n.upper().replace("_", " ") for n in BUILTIN["coco17"].joint_names]
    assert builtin_for(names) is BUILTIN["coco17"]
    assert builtin_for(list(BUILTIN["coco17"].joint_names)[::-1]) is None


def test_guess_left_right():
    names = ["nose", "left_eye", "right_eye", "RShoulder", "LShoulder", "hip_l", "hip_r",
             "Right Knee", "Left Knee", "lower"]
    assert set(guess_left_right(names)) == {(1, 2), (4, 3), (5, 6), (8, 7)}
    sk = skeleton_from_names(["a", "b"], [(0, 1)], name="two")
    assert sk.name == "two" and sk.bones == ((0, 1),)


def test_yaml(tmp_path):
    f = tmp_path / "config.yaml"
    f.write_text("# comment\nTask: reach\nbodyparts:\n- nose\n- 'left ear'\nskeleton:\n"
                 "- - nose\n  - left ear\nkpt_shape: [17, 3]  # J, dims\nnames:\n  0: person\n"
                 "flag: true\n")
    assert read_yaml(f) == {
        "Task": "reach", "bodyparts": ["nose", "left ear"], "skeleton": [["nose", "left ear"]],
        "kpt_shape": [17, 3], "names": {0: "person"}, "flag": True}


DLC_CONFIG = r"""# Project definitions (edit these)
Task: "my #1 task"
scorer: me
video_sets:
  C:\videos\m1.avi:
    crop: 0, 640, 0, 480
  D:\data\mouse 2.avi:
    crop: 0, 640, 0, 480
bodyparts:
- nose
- left ear
- tail
skeleton:
- - nose
  - left ear
- - nose
  - tail
"""


def test_yaml_windows_keys_and_hash_in_quotes(tmp_path):
    f = tmp_path / "config.yaml"
    f.write_text(DLC_CONFIG)
    cfg = read_yaml(f)
    assert cfg["Task"] == "my #1 task"
    assert list(cfg["video_sets"]) == ["C:\\videos\\m1.avi", "D:\\data\\mouse 2.avi"]
    assert cfg["bodyparts"] == ["nose", "left ear", "tail"]
    assert cfg["skeleton"] == [["nose", "left ear"], ["nose", "tail"]]


def test_dlc_reads_skeleton_after_windows_keys(tmp_path):
    from poselab.io.dlc import read_dlc

    (tmp_path / "config.yaml").write_text(DLC_CONFIG)
    folder = tmp_path / "labeled-data" / "m1"
    folder.mkdir(parents=True)
    csv = folder / "CollectedData_me.csv"
    csv.write_text("scorer,me,me,me,me,me,me\nbodyparts,nose,nose,left ear,left ear,tail,tail\n"
                   "coords,x,y,x,y,x,y\nlabeled-data/m1/img0.png,1,2,3,4,5,6\n")
    c = read_dlc(csv)
    assert c.skeleton.joint_names == ("nose", "left ear", "tail")
    assert set(c.skeleton.bones) == {(0, 1), (0, 2)}


@pytest.mark.parametrize("text, problem", [
    ("a: [1, 2\n", "not valid YAML at line 2"), ("- 1\n- 2\n", "expected a YAML mapping"),
    ("a: !!python/object/apply:os.system ['touch x']\n", "not valid YAML")])
def test_yaml_errors(tmp_path, text, problem):
    from poselab.core.errors import DataError

    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(DataError, match=problem):
        read_yaml(f)
