"""Skeletons from landmark names, the shipped skeleton JSONs, and the small YAML reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from poselab.core import BUILTIN, Skeleton
from poselab.io.skeleton_match import builtin_for, guess_left_right, skeleton_from_names
from poselab.io.yamlish import read_simple_yaml

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


def test_simple_yaml(tmp_path):
    f = tmp_path / "config.yaml"
    f.write_text("# comment\nTask: reach\nbodyparts:\n- nose\n- 'left ear'\nskeleton:\n"
                 "- - nose\n  - left ear\nkpt_shape: [17, 3]  # J, dims\nnames:\n  0: person\n"
                 "flag: true\n")
    assert read_simple_yaml(f) == {
        "Task": "reach", "bodyparts": ["nose", "left ear"], "skeleton": [["nose", "left ear"]],
        "kpt_shape": [17, 3], "names": {0: "person"}, "flag": True}
