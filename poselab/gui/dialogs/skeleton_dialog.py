"""Choose the skeleton for a folder of unlabelled images: a built-in one or a JSON file."""

from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from poselab.core.errors import PoselabError
from poselab.core.skeletons import BUILTIN, get_skeleton
from poselab.gui.dialogs.buttons import ok_cancel_row


class SkeletonDialog(QDialog):
    """Pick a built-in skeleton or a skeleton JSON; :meth:`skeleton` returns the choice."""

    FROM_FILE = "From JSON file…"

    def __init__(self, folder: str, parent=None, problem: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose a skeleton")
        self.combo = QComboBox()
        for name, sk in BUILTIN.items():
            self.combo.addItem(f"{name} ({sk.num_joints} landmarks)", name)
        self.combo.addItem(self.FROM_FILE, "")
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("skeleton JSON (joint_names, bones, left_right)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        self.error, buttons = ok_cancel_row(self, self._on_buttons_accepted)
        layout = QVBoxLayout(self)
        where = f"<b>{html.escape(folder)}</b>"
        self.intro = intro = QLabel(
            f"{where}: {html.escape(problem)}.<br>Choose the skeleton whose landmarks the "
            "labels list, in order." if problem else
            f"{where} has images but no annotation file.<br>Choose the landmarks to label; "
            "then click them in order.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self.combo)
        layout.addLayout(row)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._skeleton = None

    def skeleton(self):
        """The chosen :class:`~poselab.core.skeleton.Skeleton` (after ``exec()`` accepted)."""
        return self._skeleton

    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Skeleton JSON", "", "JSON (*.json)")
        if path:
            self.path_edit.setText(path)
            self.combo.setCurrentIndex(self.combo.count() - 1)

    def _on_buttons_accepted(self) -> None:
        key = self.combo.currentData() or self.path_edit.text().strip()
        try:
            self._skeleton = get_skeleton(key)
        except PoselabError as err:
            self.error.setText(str(err))
            return
        self.accept()
