"""The main window's Samples ▸ Known length…, Edit ▸ Skeleton… and Help slots (mixed into
:class:`~poselab.gui.main_window.MainWindow`; split out to keep that module small). Slots only
open dialogs and show results; the arithmetic is in :mod:`poselab.core.metric_scale`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox


class ToolsMixin:
    """Known length, skeleton editor and the Help menu of the main window."""

    # ================================================================== known length
    @Slot()
    def _on_known_length_triggered(self) -> None:
        if self.doc is None:
            return
        from poselab.gui.dialogs.known_length_dialog import KnownLengthDialog

        dialog = KnownLengthDialog(self.doc.collection.skeleton, self.doc.known_length, self)
        self.open_dialog(dialog, "known_length_dialog", self._on_known_length_dialog_accepted)

    @Slot()
    def _on_known_length_dialog_accepted(self) -> None:
        if self.doc is not None:
            known = self.known_length_dialog.known_length()
            self.doc.set_known_length(known)
            self.statusBar().showMessage(
                f"Known length {known.describe()}: 3D in mm" if known is not None
                else "No known length: 3D in relative units", 8000)

    # ================================================================== help
    def docs_url(self):
        """The README: the installed copy beside the package, else the project page."""
        from PySide6.QtCore import QUrl

        readme = Path(__file__).resolve().parents[2] / "README.md"
        if readme.is_file():
            return QUrl.fromLocalFile(str(readme))
        return QUrl("https://pypi.org/project/poselab/")

    @Slot()
    def _on_docs_triggered(self) -> None:
        from PySide6.QtGui import QDesktopServices

        QDesktopServices.openUrl(self.docs_url())

    def _info_box(self, title: str, html: str) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Information, title, html,
                          QMessageBox.StandardButton.Ok, self)
        box.setTextFormat(Qt.TextFormat.RichText)
        self.help_box = box
        box.open()
        return box

    @Slot()
    def _on_about_triggered(self) -> None:
        from poselab import __version__

        self._info_box("About poselab", f"<b>poselab {__version__}</b><br>2D landmarks → 3D "
                       "poses with a Deep NRSfM teacher (Kong &amp; Lucey 2019) and distilled "
                       "students.<br>No 3D ground truth needed; where present it is used for "
                       f"scoring only.<br><a href='{self.docs_url().toString()}'>Documentation"
                       "</a>")

    def shortcuts_html(self) -> str:
        """A table of every action with a shortcut, and the mouse gestures."""
        rows = []
        for a in self.actions():
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText)
                             for k in a.shortcuts())
            if keys:
                rows.append(f"<tr><td>{a.text().replace('&', '')}</td><td><b>{keys}</b></td></tr>")
        mouse = ("<tr><td>Move a landmark</td><td>drag it</td></tr>"
                 "<tr><td>Occluded ↔ visible</td><td>right click it</td></tr>"
                 "<tr><td>Place the next landmark</td><td>click (in label mode, L)</td></tr>"
                 "<tr><td>Several samples</td><td>Ctrl / Shift click in the list</td></tr>"
                 "<tr><td>Rotate / zoom the 3D view</td><td>drag / wheel</td></tr>")
        return f"<table cellpadding='2'>{''.join(rows)}{mouse}</table>"

    @Slot()
    def _on_shortcuts_triggered(self) -> None:
        self._info_box("Keyboard and mouse", self.shortcuts_html())

    # ================================================================== skeleton
    @Slot()
    def _on_skeleton_triggered(self) -> None:
        if self.doc is None:
            return
        from poselab.gui.dialogs.skeleton_editor import SkeletonEditorDialog

        dialog = SkeletonEditorDialog(self.doc.collection.skeleton, self.dialog_dir(), self)
        self.open_dialog(dialog, "skeleton_editor", self._on_skeleton_editor_accepted)

    @Slot()
    def _on_skeleton_editor_accepted(self) -> None:
        sk = self.skeleton_editor.result_skeleton()
        if sk is not None and self.doc is not None:
            self.image_view.side_colours = dict(self.skeleton_editor.side_colours)
            self.set_skeleton(sk)

    def set_skeleton(self, skeleton) -> None:
        """Use ``skeleton`` (same joints, new bones / pairs / colours) for the open data; the
        sidecar keeps its bones (COCO ``skeleton``)."""
        c = self.doc.collection
        if tuple(skeleton.joint_names) != tuple(c.skeleton.joint_names):
            self.show_error("Skeleton not applied", "the edited skeleton has other joints")
            return
        c.skeleton = skeleton
        self.doc._changed_since_open = True
        self.doc.request_save()
        if self.current is not None:
            self.show_sample(self.current)
