"""Round trips against sleap-io, the reader of record: written with sleap-io, read by poselab
(same landmarks within 1e-3 px, skeleton names and edges, visibility), and poselab's .slp
writer read back by sleap-io. Also the cases where poselab keeps its own reader, and why."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from io_fixtures import write_image

from poselab.io import open_folder, read_annotation, write_slp
from poselab.io.coco import read_coco

sio = pytest.importorskip("sleap_io")

NAMES = ["head", "left_ear", "right_ear", "tail"]
EDGES = [(0, 1), (0, 2), (0, 3)]
SIZES = [(64, 48), (80, 60), (72, 72)]


def _points():
    """Per frame, per instance: (J, 2) xy with NaN unlabelled, and (J,) visible flags."""
    rng = np.random.default_rng(3)
    frames = []
    for f in range(len(SIZES)):
        insts = []
        for k in range(2 if f == 0 else 1):  # two animals on the first frame
            xy = rng.uniform(2, 40, (4, 2)).round(3)
            visible = np.ones(4, bool)
            if f == 1:
                xy[3] = np.nan      # unlabelled
                visible[3] = False
            if f == 2 and k == 0:
                visible[2] = False  # labelled, hidden in SLEAP (COCO v = 1)
            insts.append((xy, visible))
        frames.append(insts)
    return frames


def _labels(tmp_path: Path):
    images = [str(write_image(tmp_path / "images" / f"img{f}.png", w, h))
              for f, (w, h) in enumerate(SIZES)]
    sk = sio.Skeleton(nodes=list(NAMES), edges=list(EDGES), symmetries=[(1, 2)], name="critter")
    video = sio.Video.from_filename(images)
    lfs = []
    for f, insts in enumerate(_points()):
        objs = []
        for xy, visible in insts:
            data = np.concatenate([xy, visible[:, None].astype(float)], 1)
            objs.append(sio.Instance.from_numpy(data, skeleton=sk))
        lfs.append(sio.LabeledFrame(video=video, frame_idx=f, instances=objs))
    return sio.Labels(labeled_frames=lfs, videos=[video], skeletons=[sk]), images


def _expected():
    kp, vis = [], []
    for insts in _points():
        for xy, visible in insts:
            lab = np.isfinite(xy).all(1)
            kp.append(np.where(lab[:, None], xy, 0))
            vis.append(np.where(lab & visible, 2, np.where(lab, 1, 0)))
    return np.asarray(kp), np.asarray(vis)


def _check(c, images, occlusion=True):
    kp, vis = _expected()
    assert list(c.skeleton.joint_names) == NAMES
    assert {frozenset(b) for b in c.skeleton.bones} == {frozenset(e) for e in EDGES}
    np.testing.assert_allclose(c.keypoints_2d, kp, atol=1e-3)
    if not occlusion:
        vis = np.where(vis == 1, 2, vis)
    np.testing.assert_array_equal(c.visibility, vis)
    assert [str(p) for p in c.image_paths] == [images[0], images[0], images[1], images[2]]


def test_slp_written_by_sleap_io(tmp_path):
    labels, images = _labels(tmp_path)
    f = tmp_path / "labels.slp"
    sio.save_slp(labels, str(f))
    c = open_folder(f)
    _check(c, images)
    assert c.skeleton.left_right == ((1, 2),)
    assert c.metadata["per_sample"]["instance"].tolist() == [0, 1, 0, 0]
    assert c.sample_ids == ["img0.png#0", "img0.png#1", "img1.png#0", "img2.png#0"]
    # a folder holding the .slp and its images opens the same way (GUI drop)
    assert len(open_folder(tmp_path)) == 4


def test_slp_writer_read_back_by_sleap_io(tmp_path):
    labels, images = _labels(tmp_path)
    f = tmp_path / "labels.slp"
    sio.save_slp(labels, str(f))
    c = open_folder(f)
    c.keypoints_2d[0, 0] = (5.25, 6.5)  # an edit
    out = write_slp(c, tmp_path / "edited.slp")
    back = sio.load_slp(str(out), open_videos=False)
    assert back.skeletons[0].node_names == NAMES
    assert sorted(back.skeletons[0].edge_inds) == sorted(EDGES)
    lf0 = back.labeled_frames[0]
    np.testing.assert_allclose(lf0.instances[0].numpy()[0], (5.25, 6.5), atol=1e-6)
    again = read_annotation(out)
    np.testing.assert_allclose(again.keypoints_2d, c.keypoints_2d, atol=1e-3)
    np.testing.assert_array_equal(again.visibility, c.visibility)
    assert again.image_paths == c.image_paths


def test_labelstudio_written_by_sleap_io(tmp_path):
    labels, images = _labels(tmp_path)
    f = tmp_path / "export.json"
    sio.save_labelstudio(labels, str(f))
    c = read_annotation(f)
    kp, _ = _expected()
    assert sorted(c.skeleton.joint_names) == sorted(NAMES)
    order = [list(c.skeleton.joint_names).index(n) for n in NAMES]
    np.testing.assert_allclose(c.keypoints_2d[:, order], kp, atol=1e-3)


def test_coco_written_by_sleap_io_read_by_poselab(tmp_path):
    labels, images = _labels(tmp_path)
    f = tmp_path / "annotations.json"
    sio.save_coco(labels, str(f), image_filenames=[Path(p).name for p in images])
    c = read_coco(f)
    kp, vis = _expected()
    hidden = vis == 1  # sleap-io's COCO writer stores hidden points as v = 0 at (0, 0)
    assert json.loads(f.read_text())["annotations"][3]["keypoints"][6:9] == [0, 0, 0]
    np.testing.assert_allclose(c.keypoints_2d, np.where(hidden[..., None], 0, kp), atol=1e-3)
    np.testing.assert_array_equal(c.visibility, np.where(hidden, 0, vis))
    assert list(c.skeleton.joint_names) == NAMES
    assert {frozenset(b) for b in c.skeleton.bones} == {frozenset(e) for e in EDGES}


def test_why_poselab_keeps_its_coco_reader(tmp_path):
    """COCO v = 1 (labelled, occluded): poselab keeps it; sleap_io.load_coco makes it visible."""
    from poselab.io import write_coco

    labels, images = _labels(tmp_path)
    sio.save_slp(labels, str(tmp_path / "l.slp"))
    c = open_folder(tmp_path / "l.slp")
    assert c.visibility[3, 2] == 1
    f = write_coco(c, tmp_path / "ours.json")
    assert read_coco(f).visibility[3, 2] == 1
    theirs = sio.load_coco(str(f), dataset_root=str(tmp_path))
    assert bool(theirs.labeled_frames[-1].instances[0].points["visible"][2])  # lost


def test_ultralytics_written_by_sleap_io_read_by_poselab(tmp_path):
    labels, images = _labels(tmp_path)
    root = tmp_path / "yolo"
    sio.save_ultralytics(labels, str(root), split_ratios={"train": 0.5, "val": 0.5},
                         verbose=False)
    c = open_folder(root)
    theirs = sio.load_ultralytics(str(root), split="train")
    assert len(c) == 4 and list(c.skeleton.joint_names) == NAMES
    assert set(c.metadata["per_sample"]["split"]) == {"train", "val"}
    assert {frozenset(b) for b in c.skeleton.bones} == {frozenset(e) for e in EDGES}
    ours: dict = {}
    for k, p in enumerate(c.image_paths):
        ours.setdefault((c.metadata["per_sample"]["split"][k], p.name), []).append(k)
    for lf in theirs.labeled_frames:
        fn = lf.video.filename
        name = Path(fn[lf.frame_idx] if isinstance(fn, list) else fn).name
        ks = ours[("train", name)]
        assert len(ks) == len(lf.instances)
        for k, inst in zip(ks, lf.instances, strict=True):  # 6-decimal normalised values
            np.testing.assert_allclose(np.nan_to_num(inst.numpy()), c.keypoints_2d[k],
                                       atol=1e-3)


def test_dlc_csv_sleap_io_and_poselab_agree(tmp_path):
    """sleap-io has no DeepLabCut writer: both readers read one DeepLabCut CSV."""
    folder = tmp_path / "labeled-data" / "v1"
    folder.mkdir(parents=True)
    for i in range(2):
        write_image(folder / f"img{i:03d}.png", 40, 30)
    f = folder / "CollectedData_me.csv"
    f.write_text("scorer,me,me,me,me\nbodyparts,nose,nose,tail,tail\ncoords,x,y,x,y\n"
                 "labeled-data/v1/img000.png,1.5,2.5,10,12\nlabeled-data/v1/img001.png,3,4,,\n")
    c = read_annotation(f)
    theirs = sio.load_dlc(str(f))
    assert theirs.skeletons[0].node_names == list(c.skeleton.joint_names)
    for k, lf in enumerate(sorted(theirs.labeled_frames, key=lambda lf: lf.frame_idx)):
        xy = lf.instances[0].numpy()
        np.testing.assert_allclose(np.nan_to_num(xy), c.keypoints_2d[k], atol=1e-3)
        np.testing.assert_array_equal(np.isfinite(xy).all(1), c.visibility[k] > 0)


def test_why_poselab_keeps_its_ultralytics_reader(tmp_path):
    """A dataset as shipped (``<name>.yaml``, all splits) that sleap-io does not open."""
    from test_io_yolo import _write

    root = _write(tmp_path / "tiger", True)
    assert len(open_folder(root)) == 4
    with pytest.raises(FileNotFoundError, match="data.yaml"):
        sio.load_ultralytics(str(root))


def test_why_poselab_keeps_its_dlc_reader(tmp_path):
    """A header missing a body part's y column: sleap-io returns no frame, poselab names it."""
    from poselab.core import DataError

    f = tmp_path / "CollectedData_me.csv"
    f.write_text("scorer,me,me,me\nbodyparts,nose,nose,tail\ncoords,x,y,x\n"
                 "labeled-data/v/img0.png,1,2,3\n")
    assert len(sio.load_dlc(str(f)).labeled_frames) == 0
    with pytest.raises(DataError, match="'tail' lacks its y column"):
        read_annotation(f)
