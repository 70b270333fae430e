"""The bundled demo: built once (tiny here), reused, rebuilt when stale; the 2D-only demo."""

from __future__ import annotations

import json

import numpy as np

from poselab.core import drain
from poselab.io import open_folder, read_npz
from poselab.synth import demo
from poselab.synth.demo import (
    MANIFEST,
    demo_2d_only,
    demo_is_current,
    ensure_demo,
    ensure_demo_2d,
)


def test_demo_builds_reopens_and_is_reused(tmp_path):
    out = tmp_path / "demo"
    records = []
    folder = drain(ensure_demo(out, n=20, size=48), records.append)
    assert folder == out and len(records) > 2
    coll = open_folder(folder)
    assert len(coll) == 20 and coll.has_3d and coll.has_images
    assert demo_is_current(out, n=20, size=48)
    stamp = (out / "annotations.json").stat().st_mtime_ns
    again = []
    assert drain(ensure_demo(out, n=20, size=48), again.append) == out
    assert [r.kind for r in again] == ["info"]  # reused, not rendered
    assert (out / "annotations.json").stat().st_mtime_ns == stamp
    # a stale manifest (older renderer version) triggers a rebuild
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["version"] = demo.DEMO_VERSION - 1
    (out / MANIFEST).write_text(json.dumps(manifest))
    assert not demo_is_current(out, n=20, size=48)
    rebuilt = []
    drain(ensure_demo(out, n=20, size=48), rebuilt.append)
    assert len(rebuilt) > 2 and demo_is_current(out, n=20, size=48)
    assert len(open_folder(out)) == 20


def test_demo_pose_set_is_cmu_only_and_small():
    path = demo.demo_poses_path()
    assert path.stat().st_size < 3_000_000
    with np.load(path) as z:
        assert set(z["subject"].tolist()) == {"CMU"}
        assert len(z["K"]) >= 1500
        assert len(set(z["action"].tolist())) >= 5


def test_2d_only_demo(tmp_path):
    coll = demo_2d_only(30, write_to=tmp_path / "demo2d.npz")
    assert len(coll) == 30 and not coll.has_images and coll.has_3d
    assert set(np.unique(coll.visibility)) <= {1, 2} and (coll.visibility == 1).any()
    back = read_npz(tmp_path / "demo2d.npz")
    np.testing.assert_allclose(back.keypoints_2d, coll.keypoints_2d)
    np.testing.assert_array_equal(back.visibility, coll.visibility)


def test_2d_only_demo_folder_is_written_once(tmp_path):
    folder = ensure_demo_2d(tmp_path / "d2", n=12)
    coll = open_folder(folder)
    assert len(coll) == 12 and not coll.has_images and coll.has_3d
    stamp = (folder / "demo_2d.npz").stat().st_mtime_ns
    assert ensure_demo_2d(tmp_path / "d2", n=12) == folder
    assert (folder / "demo_2d.npz").stat().st_mtime_ns == stamp
