"""Skeleton editor: bones, left/right pairs and side colours of the open data's skeleton.

The joints (names, order) are the data's and stay fixed; the user adds or removes bones
(parent → child) and left/right pairs, picks the colours of left, right and centre landmarks,
and may save the result as a skeleton JSON (``Skeleton.save``; the colours go under
``"side_colours"``, which ``Skeleton.load`` ignores). :meth:`result_skeleton` gives the new
:class:`~poselab.core.skeleton.Skeleton` after OK.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from poselab.core.errors import PoselabError
from poselab.core.skeleton import Skeleton
from poselab.gui.colours import SIDE_COLOURS


class _PairEditor(QGroupBox):
    """A list of joint pairs with two joint choosers, Add and Remove."""

    def __init__(self, title: str, names: tuple[str, ...], pairs, first: str, second: str,
                 parent=None) -> None:
        super().__init__(title, parent)
        self.names = names
        self.list = QListWidget()
        self.a, self.b = QComboBox(), QComboBox()
        self.a.addItems(list(names))
        self.b.addItems(list(names))
        self.add_button, self.remove_button = QPushButton("Add"), QPushButton("Remove")
        self.add_button.clicked.connect(self._on_add_clicked)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        grid = QGridLayout(self)
        grid.addWidget(self.list, 0, 0, 1, 4)
        grid.addWidget(QLabel(first), 1, 0)
        grid.addWidget(self.a, 1, 1)
        grid.addWidget(QLabel(second), 1, 2)
        grid.addWidget(self.b, 1, 3)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        grid.addLayout(row, 2, 0, 1, 4)
        for a, b in pairs:
            self.add_pair(a, b)

    def add_pair(self, a: int, b: int) -> bool:
        """Add the pair of joint indices (no self-pairs, no duplicates); returns whether."""
        if a == b or (a, b) in self.pairs() or (b, a) in self.pairs():
            return False
        item = QListWidgetItem(f"{self.names[a]} — {self.names[b]}")
        item.setData(256, (int(a), int(b)))
        self.list.addItem(item)
        return True

    def pairs(self) -> list[tuple[int, int]]:
        return [tuple(self.list.item(k).data(256)) for k in range(self.list.count())]

    def _on_add_clicked(self) -> None:
        self.add_pair(self.a.currentIndex(), self.b.currentIndex())

    def _on_remove_clicked(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))


class SkeletonEditorDialog(QDialog):
    """Edit bones, left/right pairs and side colours of ``skeleton`` (same joints).

    Args:
        skeleton: the open data's skeleton.
        folder: where "Save as JSON…" starts.
    """

    def __init__(self, skeleton: Skeleton, folder: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Skeleton — {skeleton.name} ({skeleton.num_joints} landmarks)")
        self.skeleton = skeleton
        self.folder = folder
        names = skeleton.joint_names
        self.bones = _PairEditor("Bones (drawn between landmarks)", names, skeleton.bones,
                                 "parent", "child")
        self.pairs = _PairEditor("Left / right pairs (mirror each other)", names,
                                 skeleton.left_right, "left", "right")
        self.side_colours = dict(SIDE_COLOURS)
        self.colour_buttons = {}
        colours = QHBoxLayout()
        for side in ("left", "right", "centre"):
            b = QPushButton(side)
            b.clicked.connect(self._on_colour_clicked)
            b.setProperty("side", side)
            self.colour_buttons[side] = b
            colours.addWidget(b)
        self._paint_buttons()
        hint = QLabel("Without left/right pairs every landmark gets its own colour.")
        hint.setWordWrap(True)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b00")
        save = QPushButton("Save as JSON…")
        save.clicked.connect(self._on_save_clicked)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(save, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(self.bones)
        row.addWidget(self.pairs)
        layout.addLayout(row, 1)
        layout.addWidget(QLabel("Colours of left, right and centre landmarks:"))
        layout.addLayout(colours)
        layout.addWidget(hint)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._result: Skeleton | None = None

    def current_skeleton(self) -> Skeleton:
        """The skeleton as edited so far.

        Raises:
            DataError: a joint in two left/right pairs.
        """
        return Skeleton(self.skeleton.name, self.skeleton.joint_names, tuple(self.bones.pairs()),
                        tuple(self.pairs.pairs()))

    def result_skeleton(self) -> Skeleton | None:
        """The edited skeleton after OK, else None."""
        return self._result

    def save(self, path: str | Path) -> Path:
        """Write the edited skeleton as JSON (with ``side_colours``), atomically."""
        from poselab.core.atomic import atomic_write_text

        data = {**self.current_skeleton().to_dict(),
                "side_colours": {k: list(v) for k, v in self.side_colours.items()}}
        atomic_write_text(path, json.dumps(data, indent=2))
        return Path(path)

    def _paint_buttons(self) -> None:
        for side, b in self.colour_buttons.items():
            r, g, bl = self.side_colours[side]
            b.setStyleSheet(f"background: rgb({r},{g},{bl}); color: white; font-weight: bold")

    def _on_colour_clicked(self) -> None:
        side = self.sender().property("side")
        colour = QColorDialog.getColor(QColor(*self.side_colours[side]), self, f"{side} colour")
        if colour.isValid():
            self.side_colours[side] = (colour.red(), colour.green(), colour.blue())
            self._paint_buttons()

    def _on_save_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save skeleton", str(Path(self.folder or ".") / f"{self.skeleton.name}.json"),
            "Skeleton JSON (*.json)")
        if path:
            try:
                self.save(path)
            except (PoselabError, OSError) as err:
                self.error.setText(str(err))

    def _on_buttons_accepted(self) -> None:
        try:
            self._result = self.current_skeleton()
        except PoselabError as err:
            self.error.setText(str(err))
            return
        self.accept()
