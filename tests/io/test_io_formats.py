"""DeepLabCut (.csv 3/4-row headers, .h5), YOLO, .mat layouts, long CSV, npz: small fixtures."""

from __future__ import annotations

import json

import numpy as np
import pytest
from io_fixtures import write_image

from poselab.core import DataError, Skeleton
from poselab.io import open_folder, read_npz, write_npz
from poselab.io.csv_long import read_csv_long
from poselab.io.dlc import read_dlc
from poselab.io.lsp import read_lsp
from poselab.io.yolo import read_yolo

# ---------------------------------------------------------------- DeepLabCut
DLC3 = """scorer,me,me,me,me,me,me
bodyparts,nose,nose,left_ear,left_ear,right_ear,right_ear
coords,x,y,x,y,x,y
labeled-data/v1/img0.png,10.5,20,,,30,40
labeled-data/v1/img1.png,11,21,12,22,13,23
"""

DLC4_INDEX3 = """scorer,,,me,me,me,me,me,me,me,me
individuals,,,m1,m1,m1,m1,m2,m2,m2,m2
bodyparts,,,head,head,tail,tail,head,head,tail,tail
coords,,,x,y,x,y,x,y,x,y
labeled-data,v1,img0.png,1,2,3,4,5,6,7,8
labeled-data,v1,img1.png,1,2,,,,,,
"""


def test_dlc_single_animal_csv(tmp_path):
    f = tmp_path / "labeled-data" / "v1" / "CollectedData_me.csv"
    f.parent.mkdir(parents=True)
    f.write_text(DLC3)
    (tmp_path / "config.yaml").write_text("bodyparts:\n- nose\nskeleton:\n- - nose\n  - left_ear\n"
                                          "- - nose\n  - right_ear\n")
    c = read_dlc(f)
    assert (len(c), c.num_joints) == (2, 3)
    assert c.skeleton.joint_names == ("nose", "left_ear", "right_ear")
    assert c.skeleton.bones == ((0, 1), (0, 2)) and c.skeleton.left_right == ((1, 2),)
    np.testing.assert_array_equal(c.visibility, [[2, 0, 2], [2, 2, 2]])
    np.testing.assert_allclose(c.keypoints_2d[0], [[10.5, 20], [0, 0], [30, 40]])
    # image paths are relative to the project folder (two levels above the file)
    assert c.image_paths[0] == tmp_path / "labeled-data" / "v1" / "img0.png"


def test_dlc_multi_animal_index_columns(tmp_path):
    f = tmp_path / "CollectedData_me.csv"
    f.write_text(DLC4_INDEX3)
    c = read_dlc(f)
    # (img0, m1), (img0, m2), (img1, m1); m2 has no label on img1 → no sample
    assert c.sample_ids == ["labeled-data/v1/img0.png#m1", "labeled-data/v1/img0.png#m2",
                            "labeled-data/v1/img1.png#m1"]
    np.testing.assert_array_equal(c.metadata["per_sample"]["instance"], [0, 1, 0])
    np.testing.assert_array_equal(c.metadata["per_sample"]["individual"], ["m1", "m2", "m1"])
    np.testing.assert_allclose(c.keypoints_2d[1], [[5, 6], [7, 8]])
    np.testing.assert_array_equal(c.visibility[2], [2, 0])


def test_dlc_h5_matches_csv(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("tables")
    cols = pd.MultiIndex.from_product([["me"], ["nose", "tail"], ["x", "y"]],
                                      names=["scorer", "bodyparts", "coords"])
    df = pd.DataFrame([[1.0, 2.0, np.nan, np.nan], [3.0, 4.0, 5.0, 6.0]], columns=cols,
                      index=["labeled-data/v/a.png", "labeled-data/v/b.png"])
    f = tmp_path / "CollectedData_me.h5"
    df.to_hdf(f, key="df_with_missing", mode="w")
    c = read_dlc(f)
    assert c.skeleton.joint_names == ("nose", "tail")
    np.testing.assert_array_equal(c.visibility, [[2, 0], [2, 2]])
    np.testing.assert_allclose(c.keypoints_2d[1], [[3, 4], [5, 6]])


DLC_MACHINE = """scorer,net,net,net,net,net,net
bodyparts,nose,nose,nose,tail,tail,tail
coords,x,y,likelihood,x,y,likelihood
labeled-data/v1/img0.png,10,20,0.95,30,40,0.59
labeled-data/v1/img1.png,11,21,0.2,31,41,0.6
"""


def test_dlc_machine_labels_below_pcutoff_are_unlabelled(tmp_path):
    f = tmp_path / "labeled-data" / "v1" / "machinelabels-iter0.csv"
    f.parent.mkdir(parents=True)
    f.write_text(DLC_MACHINE)
    before = f.read_bytes()
    c = read_dlc(f)  # no config.yaml: DeepLabCut's default pcutoff 0.6
    np.testing.assert_array_equal(c.visibility, [[2, 0], [0, 2]])
    np.testing.assert_allclose(c.keypoints_2d[0], [[10, 20], [0, 0]])
    np.testing.assert_allclose(c.keypoints_2d[1], [[0, 0], [31, 41]])
    np.testing.assert_allclose(c.metadata["per_sample"]["keypoint_scores"],
                               [[0.95, 0.59], [0.2, 0.6]], rtol=1e-6)
    assert c.metadata["below_pcutoff"] == {"pcutoff": 0.6, "count": 2}
    assert f.read_bytes() == before  # the labels file itself is untouched
    # the project's own pcutoff decides
    (tmp_path / "config.yaml").write_text("bodyparts:\n- nose\n- tail\npcutoff: 0.1\n")
    c = read_dlc(f)
    np.testing.assert_array_equal(c.visibility, [[2, 2], [2, 2]])
    assert c.metadata["below_pcutoff"] == {"pcutoff": 0.1, "count": 0}
    (tmp_path / "config.yaml").write_text("bodyparts:\n- nose\npcutoff: 6\n")
    with pytest.raises(DataError, match="pcutoff") as err:
        read_dlc(f)
    assert err.value.path == f


def test_dlc_human_labels_have_no_scores(tmp_path):
    f = tmp_path / "CollectedData_me.csv"
    f.write_text(DLC3)
    c = read_dlc(f)
    assert "keypoint_scores" not in c.metadata["per_sample"]
    assert "below_pcutoff" not in c.metadata


def test_dlc_bad_header(tmp_path):
    f = tmp_path / "CollectedData_x.csv"
    f.write_text("scorer,me\nfoo,bar\n")
    with pytest.raises(DataError, match="coords") as err:
        read_dlc(f)
    assert err.value.path == f


# ---------------------------------------------------------------- YOLO
def _yolo_dataset(tmp_path, with_v=True, yaml=True):
    write_image(tmp_path / "images" / "train" / "a.jpg", 100, 50)
    write_image(tmp_path / "images" / "train" / "b.png", 40, 80)
    write_image(tmp_path / "images" / "train" / "background.jpg", 10, 10)
    (tmp_path / "labels" / "train").mkdir(parents=True)
    if with_v:
        a = "0 0.5 0.5 1 1 0.1 0.2 2 0.5 0.5 1 0 0 0\n0 0.5 0.5 1 1 0.3 0.4 2 0.6 0.7 2 0.9 0.9 2\n"
        b = "0 0.5 0.5 1 1 0.25 0.5 2 0.5 0.25 2 0.75 0.75 1\n"
    else:
        a = "0 0.5 0.5 1 1 0.1 0.2 0.5 0.5 0 0\n"
        b = "0 0.5 0.5 1 1 0.25 0.5 0.5 0.25 0.75 0.75\n"
    (tmp_path / "labels" / "train" / "a.txt").write_text(a)
    (tmp_path / "labels" / "train" / "b.txt").write_text(b)
    if yaml:
        (tmp_path / "data.yaml").write_text(
            f"path: .\ntrain: images/train\nkpt_shape: [3, {3 if with_v else 2}]\n"
            "flip_idx: [0, 2, 1]\nnames:\n  0: thing\n")
    return tmp_path


def test_yolo_with_data_yaml(tmp_path):
    root = _yolo_dataset(tmp_path)
    c = read_yolo(root / "data.yaml")
    assert (len(c), c.num_joints) == (3, 3)
    assert c.sample_ids == ["train/a.jpg#0", "train/a.jpg#1", "train/b.png#0"]
    np.testing.assert_allclose(c.keypoints_2d[0, :2], [[10, 10], [50, 25]])
    np.testing.assert_allclose(c.keypoints_2d[2], [[10, 40], [20, 20], [30, 60]])
    np.testing.assert_array_equal(c.visibility, [[2, 1, 0], [2, 2, 2], [2, 2, 1]])
    np.testing.assert_array_equal(c.image_sizes, [[100, 50], [100, 50], [40, 80]])
    assert c.skeleton.left_right == ((1, 2),)


def test_yolo_without_visibility_needs_skeleton(tmp_path):
    root = _yolo_dataset(tmp_path, with_v=False, yaml=False)
    with pytest.raises(DataError, match="skeleton"):
        read_yolo(root)
    sk = Skeleton("tri", ("a", "b", "c"))
    c = read_yolo(root, skeleton=sk)
    np.testing.assert_array_equal(c.visibility[0], [2, 2, 0])
    np.testing.assert_allclose(c.keypoints_2d[1, 2], (30, 60))


def test_yolo_line_with_wrong_count(tmp_path):
    root = _yolo_dataset(tmp_path)
    (root / "labels" / "train" / "b.txt").write_text("0 0.5 0.5 1 1 0.1 0.1 2\n")
    with pytest.raises(DataError, match="landmark counts differ") as err:
        read_yolo(root)
    assert err.value.path.name == "b.txt"


# ---------------------------------------------------------------- .mat
def _savemat(path, joints):
    import scipy.io

    scipy.io.savemat(path, {"joints": joints})
    return path


def test_mat_lsp_inverted_visibility(tmp_path):
    rng = np.random.default_rng(1)
    xy = rng.random((2, 14, 5)) * 100
    flag = np.zeros((1, 14, 5))
    flag[0, 3, 2] = 1  # LSP: 1 = occluded
    f = _savemat(tmp_path / "joints.mat", np.concatenate([xy, flag]))
    c = read_lsp(f)
    assert c.skeleton.name == "lsp14" and (len(c), c.num_joints) == (5, 14)
    assert c.visibility[2, 3] == 1 and (np.delete(c.visibility.ravel(), 2 * 14 + 3) == 2).all()
    np.testing.assert_allclose(c.keypoints_2d[4, 7], xy[:, 7, 4], rtol=1e-6)
    assert c.image_paths == [None] * 5


def test_mat_lsp_extended_and_face_layouts(tmp_path):
    arr = np.zeros((14, 3, 4))
    arr[:, :2] = 5
    arr[:, 2] = 1
    arr[0, 2, 1] = 0  # LSP-extended: 0 = occluded
    c = read_lsp(_savemat(tmp_path / "ext.mat", arr))
    assert c.skeleton.name == "lsp14" and c.visibility[1, 0] == 1 and c.visibility[0, 0] == 2
    face = (np.arange(14 * 2 * 3).reshape(14, 2, 3) + 1).astype(np.uint16)
    (tmp_path / "images").mkdir()
    for i in (1, 2, 3):
        write_image(tmp_path / "images" / f"{i}.jpg", 8, 8)
    c = read_lsp(_savemat(tmp_path / "joints.mat", face))
    assert c.skeleton.name == "face14" and c.observed.all()
    assert [p.name for p in c.image_paths] == ["1.jpg", "2.jpg", "3.jpg"]
    np.testing.assert_array_equal(c.keypoints_2d[1, 4], face[4, :, 1])


def test_mat_unknown_layout(tmp_path):
    f = _savemat(tmp_path / "joints.mat", np.zeros((5, 14, 7)))
    with pytest.raises(DataError, match=r"unknown joints layout \(5, 14, 7\)") as err:
        read_lsp(f)
    assert err.value.path == f


# ---------------------------------------------------------------- long CSV
def test_long_csv(tmp_path):
    f = tmp_path / "landmarks.csv"
    f.write_text("image,joint,x,y,visibility\na.png,tip,1,2,2\na.png,base,3,4,1\n"
                 "b.png,base,5,6,2\nb.png,tip,,,0\n")
    c = read_csv_long(f)
    assert c.skeleton.joint_names == ("tip", "base")
    np.testing.assert_array_equal(c.visibility, [[2, 1], [0, 2]])
    np.testing.assert_allclose(c.keypoints_2d[1], [[0, 0], [5, 6]])
    assert c.image_paths[0] == tmp_path / "a.png"


@pytest.mark.parametrize("text,problem", [
    ("image,joint,x\na.png,tip,1\n", "lacks the column 'y'"),
    ("image,joint,x,y,visibility\na.png,tip,nan,2,2\n", "NaN"),
    ("image,joint,x,y\na.png,tip,one,2\n", "not a number"),
])
def test_long_csv_bad(tmp_path, text, problem):
    f = tmp_path / "l.csv"
    f.write_text(text)
    with pytest.raises(DataError, match=problem) as err:
        read_csv_long(f)
    assert err.value.path == f


# ---------------------------------------------------------------- npz
def test_npz_round_trip(collection, tmp_path):
    out = write_npz(collection, tmp_path / "sub" / "c.npz")
    back = read_npz(out)
    for name in ("keypoints_2d", "visibility", "keypoints_3d", "intrinsics", "image_sizes"):
        np.testing.assert_array_equal(getattr(back, name), getattr(collection, name))
    assert back.sample_ids == collection.sample_ids and back.skeleton == collection.skeleton
    assert [p.resolve() for p in back.image_paths] == [p.resolve() for p in
                                                       collection.image_paths]
    np.testing.assert_array_equal(back.metadata["per_sample"]["subject"],
                                  collection.metadata["per_sample"]["subject"])


def test_npz_result_file_is_not_a_collection(tmp_path):
    f = tmp_path / "nrsfm.npz"
    np.savez(f, kind=np.array("nrsfm"), keypoints_3d=np.zeros((1, 2, 3)))
    with pytest.raises(DataError, match="3D result file") as err:
        read_npz(f)
    assert err.value.path == f


def test_npz_nan_observed_is_reported(tmp_path):
    kp = np.zeros((2, 17, 2), np.float32)
    kp[1, 3] = np.nan
    f = tmp_path / "c.npz"
    np.savez(f, keypoints_2d=kp, visibility=np.full((2, 17), 2, np.uint8),
             skeleton_json=np.array(json.dumps(Skeleton("s", [f"j{i}" for i in
                                                              range(17)]).to_dict())))
    with pytest.raises(DataError, match="NaN") as err:
        read_npz(f)
    assert err.value.path == f


def test_npz_mocap17_2d_only(tmp_path):
    """keypoints_2d + joint_names + parents (optional K, no 3D) opens like the full layout."""
    from poselab.core import get_skeleton

    sk = get_skeleton("h36m17")
    parents = np.full(17, -1)
    for a, b in sk.bones:
        parents[b] = a
    rng = np.random.default_rng(0)
    kp = rng.uniform(0, 1000, (5, 17, 2)).astype(np.float32)
    kp[2, 4] = np.nan
    f = tmp_path / "walk_2d.npz"
    np.savez(f, keypoints_2d=kp, joint_names=np.array(sk.joint_names), parents=parents)
    c = open_folder(f)
    assert c.skeleton is sk and len(c) == 5 and not c.has_3d and c.intrinsics is None
    np.testing.assert_allclose(c.keypoints_2d[0], kp[0])
    assert c.visibility[2, 4] == 0 and c.visibility.sum() == 2 * (5 * 17 - 1)
    K = np.tile(np.diag([1000.0, 1000.0, 1.0]).astype(np.float32), (5, 1, 1))
    np.savez(f, keypoints_2d=kp, joint_names=np.array(sk.joint_names), parents=parents, K=K)
    np.testing.assert_allclose(open_folder(f).intrinsics, K)


def test_dlc_project_folder_and_config(tmp_path):
    """A project (config.yaml with a Windows video key, two labelled videos) opens whole."""
    (tmp_path / "config.yaml").write_text(
        "Task: \"my #1 task\"\nscorer: me\nvideo_sets:\n  C:\\videos\\m1.avi:\n"
        "    crop: 0, 640, 0, 480\nbodyparts:\n- nose\n- tail\nskeleton:\n- - nose\n  - tail\n")
    for v, rows in (("m1", "labeled-data/m1/a.png,1,2,3,4\n"),
                    ("m2", "labeled-data/m2/b.png,5,6,,\nlabeled-data/m2/c.png,7,8,9,10\n")):
        folder = tmp_path / "labeled-data" / v
        folder.mkdir(parents=True)
        for name in ("a", "b", "c"):
            if name in rows:
                write_image(folder / f"{name}.png", 20, 20)
        (folder / "CollectedData_me.csv").write_text(
            "scorer,me,me,me,me\nbodyparts,nose,nose,tail,tail\ncoords,x,y,x,y\n" + rows)
        (folder / "CollectedData_other.csv").write_text("not read: another scorer\n")
    for target in (tmp_path, tmp_path / "config.yaml"):
        c = open_folder(target)
        assert len(c) == 3 and c.source == tmp_path / "config.yaml"
        assert c.metadata["per_sample"]["video"].tolist() == ["m1", "m2", "m2"]
        assert c.skeleton.bones == ((0, 1),)
        np.testing.assert_allclose(c.keypoints_2d[:, 0], [[1, 2], [5, 6], [7, 8]])
        assert c.visibility[:, 1].tolist() == [2, 0, 2]
        assert c.image_sizes.tolist() == [[20, 20]] * 3
