"""Train vs held-out in the GUI: epoch plots and the metrics panel say which is which."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt

from poselab.core.progress import Progress
from poselab.gui.widgets.epoch_metrics import split_metric


@pytest.mark.parametrize(("key", "expected"), [
    ("val_student_mpjpe", ("held-out", "student_mpjpe")),
    ("train_student_mpjpe", ("train (seen)", "student_mpjpe")),
    ("val_err2d_px", ("held-out", "err2d_px")),
    ("student_mpjpe", ("train (seen)", "student_mpjpe")),  # old runs: seen samples only
    ("err2d_px", ("train (seen)", "err2d_px")),
    ("train_loss", None),  # an old run's epoch mean of a loss, not a score
    ("train_count", None), ("val_count", None), ("epoch", None), ("lr", None),
])
def test_split_of_every_key(key, expected):
    assert split_metric(key) == expected


def _epoch(e, **values):
    return Progress("epoch", e, 3, {"epoch": float(e), **values}, None, f"epoch {e}/3",
                    kind="epoch")


def test_epoch_plot_has_train_and_dashed_held_out_curves(qtbot):
    from poselab.gui.widgets.job_panel import JobPanel
    from poselab.gui.workers import JobRunner

    runner = JobRunner()
    panel = JobPanel(runner)
    qtbot.addWidget(panel)
    for e, (tr, va) in enumerate([(80.0, 95.0), (60.0, 81.0)], 1):
        runner.progressed.emit(_epoch(
            e, train_student_mpjpe=tr, val_student_mpjpe=va, train_teacher_mpjpe=70.0,
            val_teacher_mpjpe=72.0, train_err2d_px=3.0, val_err2d_px=4.5, train_loss=0.2,
            train_count=18.0, val_count=2.0))
    data = panel.metric_data()
    assert data["student_mpjpe · train (seen)"] == ([1.0, 2.0], [80.0, 60.0])
    assert data["student_mpjpe · held-out"] == ([1.0, 2.0], [95.0, 81.0])
    assert "teacher_mpjpe · held-out" in data
    assert not any("loss" in k for k in data)  # losses are not scores
    assert not any(k.startswith("err2d") for k in data)  # with ground truth: student/teacher
    plot = panel.metric_plots["mm"]
    plot._redraw()
    styles = {n: c.opts["pen"].style() for n, c in plot.curves.items()}
    assert styles["student_mpjpe · held-out"] == Qt.PenStyle.DashLine
    assert styles["student_mpjpe · train (seen)"] == Qt.PenStyle.SolidLine
    legend = plot.legend_label.text()
    assert "train (seen)" in legend and "held-out" in legend
    assert "18 samples" in panel.counts_label.text() and "2 samples" in panel.counts_label.text()


def test_old_run_history_shows_as_train(qtbot):
    from poselab.gui.widgets.job_panel import JobPanel
    from poselab.gui.workers import JobRunner

    runner = JobRunner()
    panel = JobPanel(runner)
    qtbot.addWidget(panel)
    runner.progressed.emit(_epoch(1, err2d_px=5.0, teacher_agreement_px=2.0, train_loss=1.0))
    assert set(panel.metric_data()) == {"err2d_px · train (seen)",
                                        "teacher_agreement_px · train (seen)"}
    assert panel.counts_label.text() == ""


def test_metrics_panel_table_of_both_splits(qtbot):
    from poselab.gui.widgets.metrics_panel import MetricsPanel

    panel = MetricsPanel()
    qtbot.addWidget(panel)
    panel.set_run_scores({"train_student_mpjpe": 51.0, "val_student_mpjpe": 63.25,
                          "train_count": 18, "val_count": 2, "epoch": 3.0})
    text = panel.label.text()
    assert "train (seen) (n=18)" in text and "held-out (n=2)" in text
    assert "63.2" in text and "student MPJPE" in text
    panel.set_run_scores(None)
    assert "held-out" not in panel.label.text()


def test_train_form_shows_the_held_out_settings(qtbot):
    from poselab.distill import TrainConfig
    from poselab.gui.dialogs.job_dialog import JobDialog
    from poselab.gui.jobs import TRAIN_MAIN

    if "val_fraction" not in {f.name for f in dataclasses.fields(TrainConfig)}:
        pytest.skip("TrainConfig has no held-out split yet (engine of issue 16)")
    dialog = JobDialog("Train student", TrainConfig, None, TRAIN_MAIN)
    qtbot.addWidget(dialog)
    editors = dialog.form.editors
    assert "val_fraction" in editors and "val_key" in editors
    # in the main part of the form, not under "Advanced settings"
    assert not dialog.form.advanced.isAncestorOf(editors["val_fraction"])
    assert dialog.form.labels["val_fraction"].startswith("Held-out")
    config = dialog.form.config()
    assert config.val_fraction == pytest.approx(0.1) and config.val_key == ""
