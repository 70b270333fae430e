"""Issue 14 in the app: Reconstruct checks its output before it starts — an error at once for
an unusable path, a question before replacing a file poselab recognises as annotations."""

from __future__ import annotations

import numpy as np
from gui_helpers import open_and_wait


def test_reconstruct_refuses_a_folder_where_the_teacher_goes(qtbot, window, small_folder):
    from poselab.gui.document import teacher_path

    open_and_wait(qtbot, window, small_folder)
    teacher_path(window.doc.collection).mkdir()
    window.start_reconstruct()
    assert not window.job.running
    assert "is a folder" in window.last_error


def test_reconstruct_asks_before_replacing_annotations(qtbot, window, small_folder):
    from poselab.gui.document import teacher_path
    from poselab.io import write_npz

    open_and_wait(qtbot, window, small_folder)
    target = teacher_path(window.doc.collection)
    write_npz(window.doc.collection, target)  # the user's own landmarks under that name
    before = target.read_bytes()
    window.start_reconstruct()
    assert not window.job.running
    box = window.confirm_box
    assert "landmark .npz file" in box.text()
    box.reject()  # "No": nothing starts, nothing is written
    assert not window.job.running and target.read_bytes() == before
    with np.load(target) as z:
        assert "keypoints_2d" in z.files
