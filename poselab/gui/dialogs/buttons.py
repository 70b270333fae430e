"""The OK / Cancel row of poselab's validating dialogs, with the red error line above it.

OK runs the dialog's own check (``on_ok``), which either accepts the dialog or writes the
problem into the error line and keeps it open; Cancel rejects.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel


def ok_cancel_row(dialog: QDialog, on_ok: Callable[[], None]) -> tuple[QLabel, QDialogButtonBox]:
    """An empty red error label and an OK / Cancel button box wired to ``on_ok`` /
    ``dialog.reject``; the caller adds both to its layout (label first)."""
    error = QLabel("")
    error.setStyleSheet("color: #b00")
    error.setWordWrap(True)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(on_ok)
    buttons.rejected.connect(dialog.reject)
    return error, buttons
