"""Contact sheet, the synth/demo commands, the scripts, and import hygiene."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from poselab.cli import main
from poselab.io import open_folder
from poselab.synth.demo import load_demo_poses
from poselab.synth.sheet import demo_contact_sheet

REPO = Path(__file__).resolve().parents[2]


def test_contact_sheet_of_16_demo_samples(tmp_path):
    path = tmp_path / "sheet.png"
    sheet = demo_contact_sheet(path, n=16, size=64)
    back = cv2.imread(str(path))
    assert back.shape == sheet.shape == (4 * 66 - 2, 4 * 66 - 2, 3)
    tiles = [sheet[r * 66:r * 66 + 64, c * 66:c * 66 + 64] for r in range(4) for c in range(4)]
    # 16 different pictures
    assert len({t.tobytes() for t in tiles}) == 16


def _small_pose_file(tmp_path: Path, n: int = 6) -> Path:
    src = load_demo_poses(n)
    path = tmp_path / "poses.npz"
    np.savez(path, keypoints_3d_cam=src.keypoints_3d, K=src.intrinsics,
             keypoints_2d=src.keypoints_2d, joint_names=np.array(src.skeleton.joint_names),
             parents=np.array([-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15]))
    return path


def test_synth_command_renders_a_subsample(tmp_path, capsys):
    poses = _small_pose_file(tmp_path)
    out = tmp_path / "out"
    assert main(["synth", "--poses", str(poses), "--out", str(out), "--n", "4",
                 "--size", "40", "--seed", "3"]) == 0
    coll = open_folder(out)
    assert len(coll) == 4 and coll.has_3d
    # a second run into the same folder is refused with a one-line error
    assert main(["synth", "--poses", str(poses), "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["synth", "--poses", str(tmp_path / "missing.npz"), "--out",
                 str(tmp_path / "o2")]) == 2


def test_demo_command(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--n", "6", "--size", "40",
                 "--two-d", str(tmp_path / "d2.npz")]) == 0
    assert str(out) in capsys.readouterr().out
    assert len(open_folder(out)) == 6 and (tmp_path / "d2.npz").is_file()


def _script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "scripts" / name), *args],
                          capture_output=True, text=True, timeout=120)


def test_scripts_smoke(tmp_path):
    r = _script("bench_synth.py", "--n", "3", "--sizes", "32")
    assert r.returncode == 0 and "images/s" in r.stdout, r.stderr
    r = _script("make_contact_sheet.py", "--out", str(tmp_path / "s.png"), "--n", "4",
                "--size", "32")
    assert r.returncode == 0 and (tmp_path / "s.png").is_file(), r.stderr


def test_make_demo_poses_uses_cmu_only(tmp_path, shared_data):
    out = tmp_path / "p.npz"
    r = _script("make_demo_poses.py", "--n", "40", "--out", str(out),
                "--source", str(shared_data / "mocap17" / "cmu17_train.npz"))
    assert r.returncode == 0, r.stderr
    with np.load(out) as z:
        assert len(z["K"]) == 40 and set(z["subject"].tolist()) == {"CMU"}
    r = _script("make_demo_poses.py", "--out", str(tmp_path / "q.npz"),
                "--source", str(shared_data / "mocap17" / "h36m17_train35k.npz"))
    assert r.returncode != 0 and not (tmp_path / "q.npz").exists()


@pytest.mark.parametrize("module", ["poselab.synth", "poselab.synth.demo",
                                    "poselab.cli.synth", "poselab.cli.demo"])
def test_synth_imports_no_qt_or_torch(module):
    code = (f"import sys, {module}; bad = [m for m in ('torch', 'PySide6', 'pyqtgraph', "
            f"'vispy', 'superqt') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
