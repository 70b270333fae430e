"""The window opens every readable type like the command line: the Open dialog lists them,
a dropped Ultralytics dataset or .slp opens, unreadable images have their own filter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gui_helpers import make_folder, open_and_wait
from PySide6.QtWidgets import QFileDialog


def _write(root: Path) -> Path:
    """An Ultralytics pose dataset as shipped: ``<name>.yaml`` (``path:`` elsewhere) and
    ``{train,val}/{images,labels}``, 3 keypoints, 4 instances."""
    from PIL import Image

    lines = {"train": ["0 .5 .5 1 1 .1 .2 2 .5 .5 1 0 0 0", "0 .5 .5 1 1 .3 .3 2 .4 .4 2 .5 .5 2"],
             "val": ["0 .5 .5 1 1 .2 .2 2 .3 .3 2 .6 .6 2", "0 .5 .5 1 1 .7 .7 2 .1 .1 2 0 0 0"]}
    for split, rows in lines.items():
        for k, row in enumerate(rows):
            (root / split / "images").mkdir(parents=True, exist_ok=True)
            (root / split / "labels").mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (64, 48), (90, 120, 150)).save(root / split / "images" / f"{k}.jpg")
            (root / split / "labels" / f"{k}.txt").write_text(row + "\n")
    (root / "tiger-pose.yaml").write_text(
        "path: ../datasets/tiger-pose\ntrain: train/images\nval: val/images\n"
        "kpt_shape: [3, 3]\nflip_idx: [0, 2, 1]\nkpt_names:\n  0: [nose, left_paw, right_paw]\n")
    return root


def test_open_dialog_lists_every_readable_type(qtbot, window, monkeypatch):
    seen = {}

    def fake(parent, caption, folder, filters):
        seen["filters"] = filters
        return "", ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(fake))
    window._on_open_triggered()
    for pattern in ("*.json", "*.csv", "*.h5", "*.mat", "*.npz", "*.slp", "*.yaml", "*.yml"):
        assert pattern in seen["filters"]


def test_drop_ultralytics_dataset_as_shipped(qtbot, window, tmp_path):
    from test_gui_open_edit import drop

    root = _write(tmp_path / "tiger")
    with qtbot.waitSignal(window.loader.stopped, timeout=30000):
        drop(window, root)
    c = window.doc.collection
    assert len(c) == 4 and c.skeleton.joint_names == ("nose", "left_paw", "right_paw")
    with qtbot.waitSignal(window.loader.stopped, timeout=30000):
        drop(window, root / "tiger-pose.yaml")
    assert len(window.doc.collection) == 4


def test_open_slp_and_unreadable_images_filter(qtbot, window, tmp_path):
    from poselab.io import open_folder, write_slp

    folder = make_folder(tmp_path / "data")
    c = open_folder(folder)
    slp = write_slp(c, tmp_path / "labels.slp")
    bad = c.image_paths[1]
    bad.write_bytes(bad.read_bytes()[:-60])
    open_and_wait(qtbot, window, slp)
    assert window.doc is not None and len(window.doc.collection) == len(c)
    np.testing.assert_allclose(window.doc.collection.keypoints_2d, c.keypoints_2d, atol=1e-3)
    window.dataset.filter_box.setCurrentText("Unreadable images")
    rows = window.dataset.model.rows.tolist()
    assert rows == [i for i, p in enumerate(c.image_paths) if p == bad]


def test_export_landmarks_slp_and_coco_never_over_the_data(qtbot, window, tmp_path):
    import pytest

    from poselab.core.errors import PoselabError
    from poselab.io import open_folder

    folder = make_folder(tmp_path / "data")
    open_and_wait(qtbot, window, folder)
    doc = window.doc
    with qtbot.waitSignal(doc.saved, timeout=10000):
        window.image_view.landmark_moved.emit(0, 12.5, 7.25)  # an edit
    assert window.export_2d_action.isEnabled()
    for name in ("out.slp", "out.json"):
        out = window.export_landmarks(tmp_path / name)
        back = open_folder(out, check_images=False)
        np.testing.assert_allclose(back.keypoints_2d, doc.collection.keypoints_2d, atol=1e-3)
        np.testing.assert_array_equal(back.visibility, doc.collection.visibility)
    with pytest.raises(PoselabError):
        window.export_landmarks(doc.collection.source)
    with pytest.raises(PoselabError):
        window.export_landmarks(tmp_path / "out.csv")


def test_yolo_labels_without_yaml_ask_for_a_skeleton(qtbot, window, tmp_path):
    """Issue 13: images + labels but no yaml with kpt_shape offer the skeleton dialog (as a
    folder of unlabelled images does) instead of an error; the labels then open with it."""
    import json

    root = _write(tmp_path / "tiger")
    (root / "tiger-pose.yaml").unlink()
    with qtbot.waitSignal(window.loader.stopped, timeout=30000):
        window.open_path(root)
    assert window.last_error == "" and window.doc is None
    dialog = window.skeleton_dialog
    assert dialog.isVisible()
    assert "9 keypoint values: 3 landmarks with visibility" in dialog.intro.text()
    sk = tmp_path / "paws.json"
    sk.write_text(json.dumps({"name": "paws", "joint_names": ["nose", "lp", "rp"],
                              "bones": [[0, 1], [0, 2]], "left_right": [[1, 2]]}))
    dialog.combo.setCurrentIndex(dialog.combo.count() - 1)
    dialog.path_edit.setText(str(sk))
    with qtbot.waitSignal(window.loader.stopped, timeout=30000):
        dialog._on_buttons_accepted()
    c = window.doc.collection
    assert len(c) == 4 and c.skeleton.name == "paws"
    np.testing.assert_allclose(c.keypoints_2d[0, 0], [0.1 * 64, 0.2 * 48], atol=1e-3)
    assert not window.label_mode_action.isChecked()  # labelled data: not in label mode


def test_open_dlc_machine_labels_says_what_pcutoff_set_aside(qtbot, window, tmp_path,
                                                             dlc_machine_labels):
    from PIL import Image

    for k in range(2):
        Image.new("RGB", (64, 48), (90, 120, 150)).save(tmp_path / f"img{k}.png")
    open_and_wait(qtbot, window, dlc_machine_labels)
    np.testing.assert_array_equal(window.doc.collection.visibility, [[2, 0], [2, 2]])
    message = window.statusBar().currentMessage()
    assert "1 predicted landmarks below DeepLabCut's pcutoff 0.6 read as unlabelled" in message
