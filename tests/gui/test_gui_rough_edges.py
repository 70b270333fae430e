"""The rough edges a new user hit (issue 18), each driven through the window as a user would."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from gui_helpers import make_folder, open_and_wait
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from poselab.core.progress import Progress


def fake_job(n: int, delay: float = 0.01):
    def factory(cancel):
        for k in range(n):
            time.sleep(delay)
            cancel.check()
            yield Progress("fake", k + 1, n, {"loss": 1.0})
        return n

    return factory


# ---------------------------------------------------------------------------- messages
def test_cancel_of_training_says_the_checkpoint_is_kept(qtbot, window, small_folder):
    open_and_wait(qtbot, window, small_folder)
    ckpt = window.student_dir() / "checkpoint.pt"
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b"stand-in for the last epoch's checkpoint")
    window._job_kind, window._job_doc = "train", window.doc
    window.job.start("Train student", fake_job(3000))
    qtbot.waitUntil(lambda: window.job_panel.last_record is not None, timeout=10000)
    with qtbot.waitSignal(window.job.stopped, timeout=10000):
        window.job_panel.cancel_button.click()
    msg = window.statusBar().currentMessage()
    assert "nothing was saved" not in msg
    assert str(ckpt) in msg and "Resume" in msg
    assert window.doc.checkpoint == ckpt  # the Train dialog's Resume row starts from it
    assert "checkpoint" in window.job_panel.title.text()
    # no checkpoint yet: says so
    ckpt.unlink()
    window.job.start("Train student", fake_job(3000))
    qtbot.waitUntil(lambda: window.job.running, timeout=10000)
    with qtbot.waitSignal(window.job.stopped, timeout=10000):
        window.job_panel.cancel_button.click()
    assert "no checkpoint was saved" in window.statusBar().currentMessage()


def test_nrsfm_input_errors_before_any_worker_1_based_and_say_exclude(qtbot, window,
                                                                      small_folder):
    from poselab.gui.preflight import translate_error

    open_and_wait(qtbot, window, small_folder)
    c = window.doc.collection
    c.visibility[2, 1:] = 0  # sample 3 (1-based) keeps a single landmark
    window.start_reconstruct()
    assert not window.job.running  # refused at once, no worker started
    assert window.error_box is not None and window.error_box.isVisible()
    text = window.error_box.text()
    assert f"sample 3 ({c.sample_ids[2]})" in text
    assert "exclude" in text and "remove it" not in text
    window.error_box.close()
    # excluding it lets the check pass
    window.dataset.select(2)
    window.exclude_action.trigger()
    from poselab.gui.preflight import check_reconstruct

    assert check_reconstruct(c, window.doc.excluded) is None
    # an error from inside the job (0-based in its subset) is shown 1-based in the collection
    rows = np.array([0, 1, 3, 4, 5])
    msg = translate_error("sample 2 has fewer than 2 observed landmarks (1 such samples); "
                          "remove it or label it", rows)
    assert msg.startswith("sample 4 has") and "exclude it" in msg and "remove" not in msg


def test_train_input_errors_before_any_worker(qtbot, window, small_folder):
    from poselab.gui.preflight import check_train

    open_and_wait(qtbot, window, small_folder)
    c = window.doc.collection

    class Teacher:
        sample_ids = list(c.sample_ids[:4])  # fitted before samples 5 and 6 were included

    problem = check_train(c, window.doc.excluded, Teacher(), "integral")
    assert "sample 5 (" in problem and "6 (" in problem and "reconstruct again" in problem
    c.image_paths = [None] * len(c)
    excluded = np.zeros(len(c), bool)
    excluded[4:] = True
    assert "needs images" in check_train(c, excluded, Teacher(), "integral")
    assert check_train(c, excluded, Teacher(), "lifter2d") is None


def test_opening_message_cleared_after_cancel(qtbot, window, tmp_path):
    folder = make_folder(tmp_path / "raw", n=2, annotate=False)
    with qtbot.waitSignal(window.loader.stopped, timeout=30000):
        window.open_path(folder)
    assert window.skeleton_dialog.isVisible()
    window.skeleton_dialog.reject()  # Cancel in the skeleton dialog
    assert not window.statusBar().currentMessage().startswith("Opening")
    # a cancelled open clears it too
    window.open_path(folder)
    with qtbot.waitSignal(window.loader.stopped, timeout=30000):
        window.loader.cancel()
    window.skeleton_dialog.reject()
    assert not window.statusBar().currentMessage().startswith("Opening")


def test_quit_during_a_job_asks(qtbot, window, small_folder):
    from PySide6.QtWidgets import QMessageBox

    open_and_wait(qtbot, window, small_folder)
    window._job_kind, window._job_doc = "reconstruct", window.doc
    window.job.start("Reconstruct (NRSfM)", fake_job(3000))
    qtbot.waitUntil(lambda: window.job.running, timeout=5000)

    def answer(button):
        def click():
            box = getattr(window, "quit_box", None)
            if box is None or not box.isVisible():
                QTimer.singleShot(20, click)
                return
            box.button(button).click()
        QTimer.singleShot(20, click)

    answer(QMessageBox.StandardButton.No)
    window.quit_action.trigger()  # Ctrl+Q
    assert "still running" in window.quit_box.text()
    assert window.isVisible() and window.job.running  # No: nothing happens
    answer(QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.job.stopped, timeout=10000):
        window.quit_action.trigger()
    assert not window.isVisible()


# ---------------------------------------------------------------------------- plots
def test_job_panel_units_legend_progress_text_and_resumed_history(qtbot, window):
    panel = window.job_panel
    runner = window.job
    runner._name = "Train student"
    panel._on_runner_started("Train student")
    panel.set_units_3d("mm")
    # a resumed run replays its earlier epochs ("history"), then goes on
    for stage, epoch in (("history", 1.0), ("history", 2.0), ("epoch", 3.0)):
        runner.progressed.emit(Progress(stage, int(epoch) * 10, 40, {
            "epoch": epoch, "student_mpjpe": 90.0 - epoch, "teacher_mpjpe": 80.0,
            "student_err2d_px": 3.0, "teacher_err2d_px": 2.0, "train_loss": 0.1},
            message=f"epoch {int(epoch)}/4", kind="epoch"))
    # an old run's unprefixed scores were measured on the samples it trained on
    seen = " · train (seen)"
    xs = panel.metric_data()["student_mpjpe" + seen][0]
    assert xs == [1.0, 2.0, 3.0]  # every epoch of the run, not only the new ones
    # px and mm never share an axis
    assert set(panel.metric_plots) == {"mm", "px"}
    assert set(panel.metric_plots["mm"].data) == {"student_mpjpe" + seen,
                                                  "teacher_mpjpe" + seen}
    assert set(panel.metric_plots["px"].data) == {"student_err2d_px" + seen,
                                                  "teacher_err2d_px" + seen}
    plot = panel.metric_plots["mm"]
    plot._redraw()
    assert "[mm]" in plot.plot_item.getAxis("left").labelText
    # the legend is a row under the plot, not an item over the curves
    assert plot.plot_item.legend is None
    assert plot.legend_label.isVisibleTo(plot) and "student_mpjpe" in plot.legend_label.text()
    # no text drawn over the bar; the percentage is in the title
    assert not panel.bar.isTextVisible()
    assert "75 %" in panel.title.text()


def test_nrsfm_restart_step_label_matches_the_axis(qtbot, window):
    panel = window.job_panel
    window.job._name = "Reconstruct (NRSfM)"
    panel._on_runner_started("Reconstruct (NRSfM)")
    # restart 2 of 3: its own counter says step 50, the whole job is at step 150 of 300
    rec = Progress("restart 2/3", 150, 300, {"loss": 0.5}, message="step 50 loss 0.5000")
    panel._last_eta = 0.0
    window.job.progressed.emit(rec)
    assert "step 150/300" in panel.title.text() and "restart 2/3" in panel.title.text()
    assert "step 50 " not in panel.title.text()
    assert panel.loss_plot.data["loss"][0] == [150.0]


# ---------------------------------------------------------------------------- annotation
def test_edited_tag_gone_after_undo_also_after_reopening(qtbot, window, small_folder):
    open_and_wait(qtbot, window, small_folder)
    doc = window.doc
    with qtbot.waitSignal(doc.saved, timeout=10000):
        window.image_view.landmark_moved.emit(5, 77.0, 66.0)
    assert doc.edited[0]
    with qtbot.waitSignal(doc.saved, timeout=10000):
        window.undo_action.trigger()
    assert not doc.edited[0]
    assert "edited" not in window.dataset.model.data(window.dataset.model.index(0))
    qtbot.waitUntil(lambda: not doc.saving, timeout=10000)
    open_and_wait(qtbot, window, small_folder)  # as after a restart
    assert not window.doc.edited.any()


def test_multi_select_exclude_persist_and_reconstruct_skips_them(qtbot, window, small_folder):
    from poselab.nrsfm import NRSfMConfig

    open_and_wait(qtbot, window, small_folder)
    doc = window.doc
    window.dataset.select_many([1, 2])
    assert window.selected_samples() == [1, 2]
    with qtbot.waitSignal(doc.saved, timeout=10000):
        window.exclude_action.trigger()
    assert doc.excluded.tolist() == [False, True, True, False, False, False]
    assert "excluded" in window.dataset.model.data(window.dataset.model.index(1))
    window.dataset.filter_box.setCurrentText("Excluded")
    assert list(window.dataset.model.rows) == [1, 2]
    window.dataset.filter_box.setCurrentText("All")
    qtbot.waitUntil(lambda: not doc.saving, timeout=10000)
    open_and_wait(qtbot, window, small_folder)  # kept in the file, still excluded
    doc = window.doc
    assert len(doc.collection) == 6 and doc.excluded.tolist()[1:3] == [True, True]
    config = NRSfMConfig(dict_sizes=(16, 8), steps=20, restarts=1, batch_size=4, log_every=5)
    with qtbot.waitSignal(window.job.stopped, timeout=120000):
        window.start_reconstruct(config)
    ids = doc.collection.sample_ids
    assert list(doc.teacher.sample_ids) == [ids[i] for i in (0, 3, 4, 5)]
    k3 = doc.teacher_3d()
    assert k3.shape == (6, 14, 3)
    assert np.isnan(k3[[1, 2]]).all() and np.isfinite(k3[[0, 3, 4, 5]]).all()
    qtbot.waitUntil(lambda: window.metrics is not None, timeout=30000)
    # training gets the same four samples and the teacher restricted to them
    from poselab.gui.preflight import job_inputs

    rows, sub, teacher = job_inputs(doc.collection, doc.excluded, doc.teacher)
    assert rows.tolist() == [0, 3, 4, 5] and list(teacher.sample_ids) == list(sub.sample_ids)
    # including one again: the teacher lacks it, so Train says so at once
    window.dataset.select(1)
    window.include_action.trigger()
    window.start_training()
    assert not window.job.running and "reconstruct again" in window.last_error


# ---------------------------------------------------------------------------- skeletons
def test_skeleton_editor_edits_bones_pairs_and_saves_json(qtbot, window, tmp_path):
    from poselab.core.skeleton import Skeleton
    from poselab.gui.dialogs.skeleton_editor import SkeletonEditorDialog

    folder = make_folder(tmp_path / "d", n=3, skeleton="lsp14")
    open_and_wait(qtbot, window, folder)
    # a set without bones or pairs (a YOLO / DLC set without a skeleton)
    c = window.doc.collection
    c.skeleton = Skeleton("parts", c.skeleton.joint_names)
    window.show_sample(0)
    colours = window.image_view.joint_colours
    assert len(set(colours)) == c.num_joints  # not 14 identical green dots
    assert "Edit ▸ Skeleton" in window.image_view.caption.text()
    window.skeleton_action.trigger()
    dialog = window.skeleton_editor
    assert isinstance(dialog, SkeletonEditorDialog) and dialog.isVisible()
    dialog.bones.a.setCurrentIndex(0)
    dialog.bones.b.setCurrentIndex(1)
    dialog.bones.add_button.click()
    dialog.bones.add_button.click()  # a duplicate is not added
    dialog.bones.a.setCurrentIndex(1)
    dialog.bones.b.setCurrentIndex(2)
    dialog.bones.add_button.click()
    dialog.pairs.a.setCurrentIndex(3)
    dialog.pairs.b.setCurrentIndex(4)
    dialog.pairs.add_button.click()
    dialog.side_colours["left"] = (200, 0, 200)
    saved = dialog.save(tmp_path / "parts.json")
    dialog.bones.list.setCurrentRow(1)
    dialog.bones.remove_button.click()
    dialog._on_buttons_accepted()
    sk = window.doc.collection.skeleton
    assert sk.bones == ((0, 1),) and sk.left_right == ((3, 4),)
    assert window.image_view.joint_colours[3] == (200, 0, 200)
    back = Skeleton.load(saved)
    assert back.bones == ((0, 1), (1, 2)) and back.left_right == ((3, 4),)
    assert json.loads(saved.read_text())["side_colours"]["left"] == [200, 0, 200]
    # the edited skeleton is kept with the edits: reopening the folder brings it back
    qtbot.waitUntil(lambda: not window.doc.saving, timeout=10000)
    open_and_wait(qtbot, window, folder)
    sk = window.doc.collection.skeleton
    assert sk.bones == ((0, 1),) and sk.left_right == ((3, 4),)


def test_face_thumbnail_is_cropped_to_the_landmarks(tmp_path):
    import cv2

    from poselab.gui.thumbnails import landmark_boxes, thumbnail

    img = np.full((1080, 1920, 3), 30, np.uint8)
    img[500:600, 900:1000] = (0, 0, 255)  # a red "face" (BGR) of 100 px in a full-HD frame
    path = tmp_path / "frame.jpg"
    cv2.imwrite(str(path), img)
    kp = np.array([[[910, 510], [990, 510], [950, 590]]], np.float32)
    box = landmark_boxes(kp, np.full((1, 3), 2))[0]
    whole = thumbnail(path)
    crop = thumbnail(path, box=box)
    red = lambda t: float(((t[..., 0] > 150) & (t[..., 2] < 100)).mean())  # noqa: E731 (RGB)
    assert red(whole) < 0.02 and red(crop) > 0.3


# ---------------------------------------------------------------------------- window
def test_closed_docks_come_back_from_the_view_menu(qtbot, window):
    window.samples_dock.close()
    assert not window.samples_dock.isVisible()
    actions = {a.text(): a for a in window.view_menu.actions()}
    actions["Samples"].trigger()
    assert window.samples_dock.isVisible()
    window.jobs_dock.close()
    actions["Jobs and log"].trigger()
    assert window.jobs_dock.isVisible()


def test_help_menu(qtbot, window):
    texts = [a.text() for a in window.help_menu.actions()]
    assert "&About poselab" in texts and "&Keyboard and mouse" in texts
    window.shortcuts_action.trigger()
    assert "Ctrl+R" in window.help_box.text() and "label mode" in window.help_box.text()
    window.help_box.close()
    window.about_action.trigger()
    assert "poselab 0." in window.help_box.text()
    assert window.docs_url().toString().endswith("README.md")


def test_file_dialog_starts_at_home_then_the_last_folder(qtbot, window, small_folder,
                                                         monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    seen = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *a, **k: (seen.append(a[2]), ("", ""))[1])
    monkeypatch.chdir(small_folder)
    window.open_action.trigger()
    assert seen[-1] == str(Path.home())
    open_and_wait(qtbot, window, small_folder / "annotations.json")
    window.open_action.trigger()
    assert Path(seen[-1]) == small_folder.resolve()


def test_drop_target_highlight(qtbot, window, small_folder):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(small_folder))])
    window._test_mime = mime
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    assert window.drop_overlay.isVisible()
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.loader.stopped, timeout=30000):
        window.dropEvent(drop)
    assert not window.drop_overlay.isVisible()


def test_new_data_opens_in_side_view(qtbot, window, small_folder, tmp_path):
    open_and_wait(qtbot, window, small_folder)
    window.view3d.set_view("front")  # the user looked from the front at the previous data
    open_and_wait(qtbot, window, make_folder(tmp_path / "faces", n=2, skeleton="face14"))
    assert window.view3d.current_view == "side"


def test_the_reconstruct_form_starts_from_the_schedule_for_this_many_samples(qtbot, window,
                                                                             small_folder):
    from poselab.nrsfm import NRSfMConfig

    open_and_wait(qtbot, window, small_folder)
    window.reconstruct_action.trigger()  # 6 samples: the small-set schedule, shown in the form
    dialog = window.job_dialog
    assert dialog.form.config() == NRSfMConfig.for_samples(6)
    assert dialog.form.config().steps == 2000
    assert "Estimated duration" in dialog.estimate_label.text()
    assert "(6 samples" in dialog.estimate_label.text()
    dialog.reject()
    # a third of the landmarks unlabelled (excluded samples not counted): 5 restarts
    window.doc.collection.visibility[:4, :6] = 0
    window.doc.excluded[4:] = True
    assert abs(window._included_missing() - 6 / window.doc.collection.num_joints) < 1e-9
    window.reconstruct_action.trigger()
    assert window.job_dialog.form.config().restarts == 5
    window.job_dialog.reject()
