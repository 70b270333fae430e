"""Trust without ground truth and honest units in the window (issue 18): the quality columns
with their units, "least certain first", uncertainty colours, a known length → mm on screen and
in the export, ground truth only beside mm predictions in their frame."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import open_and_wait

from poselab.core.metric_scale import KnownLength


def fake_teacher(collection, seed=0, with_std=True):
    """An NRSfMResult whose 3D is a pixel-unit pose: x, y the 2D, z random."""
    from poselab.nrsfm.result import NRSfMResult

    rng = np.random.default_rng(seed)
    n, j = len(collection), collection.num_joints
    k3 = np.concatenate([collection.keypoints_2d, rng.normal(0, 20, (n, j, 1))], -1)
    centre = collection.keypoints_2d.mean(1)
    scale = np.full(n, 100.0, np.float32)
    shapes = (k3 - np.concatenate([centre, np.zeros((n, 1))], 1)[:, None]) / 100.0
    from poselab.metrics.quality import pose_scale

    size = pose_scale(k3, collection.skeleton)  # uncertainty grows with the index, in % of it
    std = (np.linspace(0.01, 0.06, n) * size)[:, None].repeat(j, 1) if with_std else None
    return NRSfMResult(collection.skeleton, list(collection.sample_ids), k3.astype(np.float32),
                       shapes.astype(np.float32), np.tile(np.eye(3), (n, 1, 1)),
                       np.zeros((n, 4)), np.zeros((3 * j, 4)), centre.astype(np.float32), scale,
                       extra={"consensus": [0.03, 0.04], "selected": 0, "noise_px": 1.2},
                       keypoints_3d_std=None if std is None else std.astype(np.float32),
                       reprojection_error_network=None if std is None
                       else np.linspace(0.5, 2.0, n).astype(np.float32))


def test_quality_columns_least_certain_and_uncertainty_colours(qtbot, window, small_folder):
    open_and_wait(qtbot, window, small_folder)
    window.metrics = None
    window.doc.set_teacher(fake_teacher(window.doc.collection))
    qtbot.waitUntil(lambda: window.metrics is not None, timeout=20000)
    text = window.metrics_panel.label.text()
    assert "Trust without ground truth" in text
    for unit in ("(px)", "(% of bone length)", "(%)", "(no unit)"):
        assert unit in text, unit
    assert "relative units" in text and "Reprojection (px)" not in text  # ~0 by construction
    assert "Least-certain score<br><small>(percentile)" in text
    # least certain first: by the score that tracked the error on the demo (metrics.quality)
    score = window.metrics["quality"]["per_sample"]["least_certain_score"]
    window.dataset.filter_box.setCurrentText("Least certain first")
    assert list(window.dataset.model.rows) == list(np.argsort(-score, kind="stable"))
    assert window.dataset.model.rows[0] == int(np.argmax(score))
    assert "percentile" in window.dataset.model.data(window.dataset.model.index(0))
    # the 3D view can colour the teacher's joints by uncertainty
    window.show_sample(5)
    assert window.view3d.uncertainty_box.isEnabled()
    assert window.view3d.teacher_colours() is None
    window.view3d.uncertainty_box.setChecked(True)
    colours = window.view3d.teacher_colours()
    assert colours.shape == (14, 4)
    window.show_sample(0)
    less = window.view3d.teacher_colours()
    assert less[:, 0].mean() < colours[:, 0].mean()  # sample 0 is more certain: less red


def test_an_older_teacher_without_uncertainty_still_gets_quality(qtbot, window, small_folder):
    open_and_wait(qtbot, window, small_folder)
    window.metrics = None
    window.doc.set_teacher(fake_teacher(window.doc.collection, with_std=False))
    qtbot.waitUntil(lambda: window.metrics is not None, timeout=20000)
    q = window.metrics["quality"]
    assert "uncertainty_pct" not in q["per_sample"]
    window.dataset.filter_box.setCurrentText("Least certain first")
    assert len(window.dataset.model.rows) == 6
    assert "percentile" in window.dataset.model.data(window.dataset.model.index(0))


def test_known_length_gives_mm_on_screen_and_in_the_export(qtbot, window, small_folder,
                                                           tmp_path):
    from poselab.io import open_folder, read_export

    open_and_wait(qtbot, window, small_folder)
    doc = window.doc
    doc.set_teacher(fake_teacher(doc.collection))
    window.known_length_action.trigger()
    dialog = window.known_length_dialog
    dialog.set_choice(350.0, ("right_shoulder", "left_shoulder"))
    window.metrics = None
    with qtbot.waitSignal(doc.saved, timeout=10000):
        dialog._on_buttons_accepted()
    assert doc.known_length == KnownLength(350.0, ("right_shoulder", "left_shoulder"))
    qtbot.waitUntil(lambda: window.metrics is not None
                    and window.metrics.get("mm_per_unit") is not None, timeout=20000)
    assert "in <b>mm</b>" in window.metrics_panel.label.text()
    assert "Uncertainty<br><small>(mm)" in window.metrics_panel.label.text()
    assert "mm" in window.view3d.units_label.text()
    out = tmp_path / "teacher_mm.csv"
    window.export(("teacher",), "csv", False, out)
    back = read_export(out)
    assert back["units"]["teacher"] == "mm" and back["frame"]["teacher"] == "camera_centred"
    t = back["sources"]["teacher"]
    sk = doc.collection.skeleton
    a, b = sk.index("right_shoulder"), sk.index("left_shoulder")
    width = np.linalg.norm(t[:, a] - t[:, b], axis=-1)
    # every sample's shoulders measure 350 mm up to its own proportions; the median exactly
    assert np.median(width) == pytest.approx(350.0, rel=1e-3)
    # the length is kept per data set in the sidecar
    qtbot.waitUntil(lambda: not doc.saving, timeout=10000)
    assert open_folder(small_folder).metadata["known_length"]["mm"] == 350.0


def test_ground_truth_only_beside_mm_predictions_in_their_frame(qtbot, window, small_folder,
                                                                tmp_path):
    from poselab.core.errors import PoselabError
    from poselab.io import read_export

    open_and_wait(qtbot, window, small_folder)
    doc = window.doc
    c = doc.collection
    rng = np.random.default_rng(3)
    c.keypoints_3d = rng.normal(0, 300, (6, 14, 3)).astype(np.float32) + [0, 0, 4400]
    doc.set_teacher(fake_teacher(c))
    with pytest.raises(PoselabError, match="known length"):
        window.export(("teacher", "ground truth"), "csv", False, tmp_path / "x.csv")
    with pytest.raises(PoselabError, match="known length"):
        window.export(("ground truth",), "csv", False, tmp_path / "y.csv")
    doc.known_length = KnownLength(350.0, ("right_shoulder", "left_shoulder"))
    out = tmp_path / "both.json"
    window.export(("teacher", "ground truth"), "json", False, out)
    back = read_export(out)
    assert back["frame"]["ground_truth"] == back["frame"]["teacher"] == "camera_centred"
    assert back["units"]["ground_truth"] == "mm"
    gt = back["sources"]["ground_truth"]
    np.testing.assert_allclose(gt.mean(1), 0, atol=1e-2)  # centred like the predictions
    np.testing.assert_allclose(gt, c.keypoints_3d - c.keypoints_3d.mean(1, keepdims=True),
                               atol=1e-2)


def test_suspect_labels_are_listed_for_correction(qtbot, window, small_folder):
    open_and_wait(qtbot, window, small_folder)
    window.metrics = None
    window.dataset.filter_box.setCurrentText("Suspect labels")
    assert "no label that looks like a gross error" in window.dataset.count_label.text()
    teacher = fake_teacher(window.doc.collection)
    teacher.extra["label_outliers"] = {"count": 3, "share": 0.01, "samples": [4, 2, 4],
                                       "joints": [0, 5, 7]}
    # sample 3's arms look left/right swapped: its 4 labels count as suspect too (swaps.py)
    teacher.extra["label_swaps"] = {"count": 1, "samples": [3], "pairs": [[[9, 8], [10, 7]]],
                                    "ratio": [0.41], "ratio_threshold": 0.6}
    teacher.extra["output_mirrored"] = 2  # given their depth mirror (output_signs.py)
    window.doc.set_teacher(teacher)
    qtbot.waitUntil(lambda: window.metrics is not None, timeout=20000)
    # only the samples with suspect labels, most first
    assert list(window.dataset.model.rows) == [3, 4, 2]
    assert "4 suspect labels" in window.dataset.model.data(window.dataset.model.index(0))
    assert "2 suspect labels" in window.dataset.model.data(window.dataset.model.index(1))
    text = window.metrics_panel.label.text()
    assert "Suspect labels (gross errors, swaps?)" in text
    assert "Left/right swaps suspected" in text
    assert "Depth-mirrored samples turned" in text
