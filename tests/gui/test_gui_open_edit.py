"""Opening data (drop, errors) and editing landmarks (undo, autosave) in the main window."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from gui_helpers import make_folder, open_and_wait
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication


def drop(window, path: Path) -> None:
    """Drag ``path`` onto the window: a real QDragEnterEvent then QDropEvent given to the
    window's handlers (Qt delivers synthetic drops only inside a real drag; mime data is kept
    alive while the events exist, PLATFORM.md)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    window._test_mime = mime
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert event.isAccepted()


def test_drop_folder_loads_it(qtbot, window, small_folder):
    with qtbot.waitSignal(window.loader.stopped, timeout=30000):
        drop(window, small_folder)
    assert window.doc is not None
    c = window.doc.collection
    assert len(c) == 6 and c.skeleton.name == "lsp14"
    assert window.dataset.model.rowCount() == 6
    assert window.current == 0
    assert window.image_view.skeleton is c.skeleton
    np.testing.assert_allclose(window.image_view.keypoints, c.keypoints_2d[0])
    assert str(small_folder.resolve()) in window.recent_files()
    # thumbnails stream in from the worker
    qtbot.waitUntil(lambda: len(window.dataset.model.icons) == 6, timeout=20000)


def test_invalid_drop_shows_error_and_keeps_data(qtbot, window, small_folder, tmp_path):
    open_and_wait(qtbot, window, small_folder)
    doc = window.doc
    bad = tmp_path / "broken.json"
    bad.write_text("{ not json")
    with qtbot.waitSignal(window.loader.stopped, timeout=30000):
        drop(window, bad)
    assert window.error_box is not None and window.error_box.isVisible()
    assert "broken.json" in window.error_box.text()
    assert window.doc is doc and len(window.doc.collection) == 6
    window.error_box.close()
    # a folder with two annotation files is ambiguous: reported, data kept
    two = make_folder(tmp_path / "two")
    (two / "other.json").write_text((two / "annotations.json").read_text())
    with qtbot.waitSignal(window.loader.stopped, timeout=30000):
        drop(window, two)
    assert window.doc is doc
    assert "annotation" in window.last_error.lower()


def read_sidecar(path: Path) -> np.ndarray:
    """The (J, 3) keypoints [x, y, v] of the first annotation in a COCO sidecar."""
    data = json.loads(path.read_text())
    return np.asarray(data["annotations"][0]["keypoints"], float).reshape(-1, 3)


def test_move_landmark_undo_and_autosave(qtbot, window, small_folder):
    from poselab.io import edits_path, open_folder

    open_and_wait(qtbot, window, small_folder)
    doc = window.doc
    original = doc.collection.keypoints_2d[0, 5].copy()
    sidecar = edits_path(doc.collection)
    assert not sidecar.exists()

    # the image view's drag emits landmark_moved on release; the window makes a command
    with qtbot.waitSignal(doc.saved, timeout=10000):
        window.image_view.landmark_moved.emit(5, 77.0, 66.0)
    np.testing.assert_allclose(doc.collection.keypoints_2d[0, 5], (77.0, 66.0))
    np.testing.assert_allclose(read_sidecar(sidecar)[5, :2], (77.0, 66.0))
    np.testing.assert_allclose(window.image_view.keypoints[5], (77.0, 66.0))
    assert doc.edited[0]

    with qtbot.waitSignal(doc.saved, timeout=10000):
        window.undo_action.trigger()
    np.testing.assert_allclose(doc.collection.keypoints_2d[0, 5], original)
    qtbot.waitUntil(lambda: not doc.saving, timeout=10000)
    np.testing.assert_allclose(read_sidecar(sidecar)[5, :2], original, atol=1e-3)

    with qtbot.waitSignal(doc.saved, timeout=10000):
        window.redo_action.trigger()
    qtbot.waitUntil(lambda: not doc.saving, timeout=10000)
    # reopening the folder (as after a crash) loads the edits
    again = open_folder(small_folder)
    np.testing.assert_allclose(again.keypoints_2d[0, 5], (77.0, 66.0))


def test_place_toggle_and_navigate(qtbot, window, small_folder):
    open_and_wait(qtbot, window, small_folder)
    doc = window.doc
    assert doc.next_missing(0) == 3
    # outside label mode a click on an incomplete sample places nothing (DLC data miss points
    # on purpose; issue 18)
    assert not window.label_mode_action.isChecked()
    window.image_view.place_requested.emit(30.0, 40.0)
    assert doc.collection.visibility[0, 3] == 0 and doc.undo_stack.count() == 0
    assert "press <b>L</b>" in window.image_view.caption.text()
    window.label_mode_action.trigger()  # key L
    assert "label mode" in window.image_view.caption.text()
    window.image_view.place_requested.emit(30.0, 40.0)  # places the first unlabelled: joint 3
    assert doc.collection.visibility[0, 3] == 2
    np.testing.assert_allclose(doc.collection.keypoints_2d[0, 3], (30.0, 40.0))
    assert doc.next_missing(0) is None
    window.image_view.visibility_toggled.emit(3)  # right click: visible → occluded
    assert doc.collection.visibility[0, 3] == 1
    window.toggle_vis_action.trigger()  # key V on the selected landmark (3): back to visible
    assert doc.collection.visibility[0, 3] == 2
    window.remove_action.trigger()
    assert doc.collection.visibility[0, 3] == 0
    assert doc.undo_stack.count() == 4
    window.next_action.trigger()
    assert window.current == 1
    window.prev_action.trigger()
    assert window.current == 0
    # place, occlude, show, remove: sample 0 is back as opened, so it is not "edited"
    window.dataset.filter_box.setCurrentText("Edited")
    assert list(window.dataset.model.rows) == [] and not doc.edited.any()
    window.undo_action.trigger()  # the landmark is placed again: edited
    assert list(window.dataset.model.rows) == [0]
    assert "✎ edited" in window.dataset.model.data(window.dataset.model.index(0))
    qtbot.waitUntil(lambda: not doc.saving, timeout=10000)


def test_unlabelled_folder_asks_for_skeleton(qtbot, window, tmp_path):
    folder = make_folder(tmp_path / "raw", n=3, annotate=False)
    with qtbot.waitSignal(window.loader.stopped, timeout=30000):
        window.open_path(folder)
    dialog = window.skeleton_dialog
    assert dialog.isVisible()
    dialog.combo.setCurrentIndex(dialog.combo.findData("face14"))
    with qtbot.waitSignal(window.loader.stopped, timeout=30000):
        dialog._on_buttons_accepted()
    c = window.doc.collection
    assert len(c) == 3 and c.skeleton.name == "face14" and (c.visibility == 0).all()
    assert window.label_mode_action.isChecked()  # a folder to label opens in label mode
    # label by clicking in order
    for k, xy in enumerate([(10, 10), (20, 10), (30, 10)]):
        window.image_view.place_requested.emit(*map(float, xy))
        assert c.visibility[0, k] == 2
    qtbot.waitUntil(lambda: not window.doc.saving, timeout=10000)
    from poselab.io import edits_path

    assert edits_path(c).is_file()


def test_drag_in_view_moves_landmark(qtbot, window, small_folder):
    """A mouse drag on a landmark in the image view becomes one undoable edit."""
    open_and_wait(qtbot, window, small_folder)
    view = window.image_view
    qtbot.waitUntil(lambda: view.graphics.isVisible(), timeout=5000)
    vb = view.viewbox
    # the docks settle the view's size (and so its mapping) some events after opening: the
    # press must land where the landmark is then, or the drag pans the view instead
    for _ in range(60):
        before = vb.mapViewToScene(QPointF(*map(float, view.keypoints[5])))
        qtbot.wait(50)
        start = vb.mapViewToScene(QPointF(*map(float, view.keypoints[5])))
        if (start - before).manhattanLength() < 0.01:
            break
    assert view.joint_at(start) == 5
    target = vb.mapViewToScene(QPointF(100.0, 60.0))
    gv = view.graphics
    p0 = gv.mapFromScene(start)
    p1 = gv.mapFromScene(target)
    vp = gv.viewport()
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

    def send(kind, pos, button, buttons):
        ev = QMouseEvent(kind, QPointF(pos), QPointF(vp.mapToGlobal(pos)), button, buttons,
                         Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(vp, ev)

    send(QEvent.Type.MouseButtonPress, p0, left, left)
    for t in np.linspace(0, 1, 8):
        p = QPoint(int(p0.x() + t * (p1.x() - p0.x())), int(p0.y() + t * (p1.y() - p0.y())))
        qtbot.wait(40)  # pyqtgraph drops mouse moves closer than one frame apart
        send(QEvent.Type.MouseMove, p, none, left)
    send(QEvent.Type.MouseButtonRelease, p1, left, none)
    kp = window.doc.collection.keypoints_2d[0, 5]
    assert window.doc.undo_stack.count() == 1
    assert abs(kp[0] - 100) < 3 and abs(kp[1] - 60) < 3
    qtbot.waitUntil(lambda: not window.doc.saving, timeout=10000)
