"""The GUI side of :mod:`poselab.core.outputs`: check a job's outputs before it starts.

A hard problem (the output is a folder, not writable, one of the job's inputs) is shown as an
error and the job does not start. A protected file (an annotation file, an image, a checkpoint
that is not the job's own) asks for a confirmation — the GUI's ``--force`` — in a non-blocking
question box; "Replace" starts the job again with ``force=True``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from poselab.core.errors import PoselabError
from poselab.core.outputs import OutputError, check_output

#: (path, is_folder, files written inside the folder)
Output = tuple[Path, bool, tuple[str, ...]]


def outputs_ok(window: QWidget, title: str, outputs: Iterable[Output],
               inputs: Iterable[str | Path | None], force: bool,
               retry: Callable[[], None]) -> bool:
    """True when every output may be written; otherwise tells the user and returns False.

    Args:
        window: the main window (``show_error``; the question box is kept in
            ``window.confirm_box`` for tests).
        title: the job's name, for the dialogs.
        outputs: the files and folders the job writes.
        inputs: the files the job reads (data source, teacher, checkpoint).
        force: the user already confirmed replacing protected files.
        retry: called when the user confirms replacing a protected file.
    """
    inputs = [p for p in inputs if p is not None]
    try:
        for path, folder, writes in outputs:
            check_output(path, inputs=inputs, folder=folder, writes=writes, force=force)
    except OutputError as err:
        if not err.forceable:
            window.show_error(f"Cannot start {title}", str(err))
            return False
        box = QMessageBox(QMessageBox.Icon.Question, title,
                          f"{err.path} {err.problem.split(';')[0]}.\n\n"
                          f"{title} would replace it. Replace it?",
                          QMessageBox.StandardButton.No, window)
        replace = box.addButton("Replace", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.buttonClicked.connect(lambda b: retry() if b is replace else None)
        window.confirm_box = box
        box.open()
        return False
    except PoselabError as err:
        window.show_error(f"Cannot start {title}", str(err))
        return False
    return True
