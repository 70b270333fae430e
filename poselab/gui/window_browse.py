"""Browsing and editing in the main window (mixed into
:class:`~poselab.gui.main_window.MainWindow`): show a sample in the image, 3D and metrics
views; move, place, hide and remove landmarks (undoable, through the
:class:`~poselab.gui.document.Document`); exclude samples; follow the document's signals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Slot


class BrowseMixin:
    """Sample display and landmark editing slots."""

    @Slot(int)
    def _on_dataset_sample_selected(self, i: int) -> None:
        self.show_sample(i)

    def show_sample(self, i: int) -> None:
        """Show sample ``i`` in the image view, 3D view and metrics."""
        doc = self.doc
        if doc is None or not 0 <= i < len(doc.collection):
            return
        c = doc.collection
        self.current = i
        sizes = None if c.image_sizes is None else tuple(c.image_sizes[i])
        self.image_view.show_sample(c.skeleton, c.keypoints_2d[i], c.visibility[i],
                                    c.image_paths[i], self._caption(i), sizes,
                                    key=(id(doc), i))
        self._show_3d()
        self.metrics_panel.set_sample(i, c.sample_ids[i])
        self.status_sample.setText(f"sample {i + 1} / {len(c)}")

    def _caption(self, i: int) -> str:
        c = self.doc.collection
        nxt = self.doc.next_missing(i)
        text = f"<b>{c.sample_ids[i]}</b>"
        if self.doc.excluded[i]:
            text += " <i>(excluded from Reconstruct and Train)</i>"
        if nxt is not None and self.label_mode_action.isChecked():
            text += f" — label mode: click to place <b>{c.skeleton.joint_names[nxt]}</b>"
        elif nxt is not None:
            text += (f" — {c.skeleton.joint_names[nxt]} and others unlabelled; press <b>L</b> "
                     "(label mode) to place them by clicking")
        else:
            text += " — drag a landmark to move it; right click toggles occluded"
        if not c.skeleton.bones:
            text += " — <i>no bones: Edit ▸ Skeleton… adds them</i>"
        return text

    def _show_3d(self) -> None:
        doc, i = self.doc, self.current
        if doc is None or i is None:
            return
        # a source without 3D for this sample (it was excluded when fitted) is not drawn
        srcs = {k: v[i] for k, v in doc.sources_3d().items() if np.isfinite(v[i]).all()}
        q = (self.metrics or {}).get("quality") or {}
        rel = q.get("joint_std_rel")
        self.view3d.set_joint_uncertainty(None if rel is None or i >= len(rel) else rel[i])
        known = doc.known_length
        self.view3d.set_units_text(
            f"3D scaled to mm ({known.describe()})" if known is not None else
            "3D in relative units")
        self.view3d.show_skeletons(doc.collection.skeleton, srcs)

    @Slot()
    def _on_next_triggered(self) -> None:
        self.dataset.step(+1)

    @Slot()
    def _on_prev_triggered(self) -> None:
        self.dataset.step(-1)

    # ================================================================== editing
    @Slot(int, float, float)
    def _on_image_landmark_moved(self, j: int, x: float, y: float) -> None:
        if self.doc is not None and self.current is not None:
            self.doc.set_landmark(self.current, j, (x, y))

    @Slot(float, float)
    def _on_image_place_requested(self, x: float, y: float) -> None:
        if self.doc is None or self.current is None:
            return
        if not self.label_mode_action.isChecked():
            return  # a stray click on data with deliberately missing points places nothing
        j = self.doc.next_missing(self.current)
        if j is None:
            return
        name = self.doc.collection.skeleton.joint_names[j]
        self.doc.set_landmark(self.current, j, (x, y), 2, f"place {name}")
        self.image_view.select_joint(j)

    @Slot()
    def _on_label_mode_toggled(self) -> None:
        if self.current is not None:
            self.show_sample(self.current)

    def selected_samples(self) -> list[int]:
        """Collection indices of the samples selected in the list (several with Ctrl/Shift)."""
        return self.dataset.selected_indices()

    @Slot()
    def _on_exclude_triggered(self) -> None:
        if self.doc is not None:
            self.doc.set_excluded(self.selected_samples(), True)

    @Slot()
    def _on_include_triggered(self) -> None:
        if self.doc is not None:
            self.doc.set_excluded(self.selected_samples(), False)

    @Slot()
    def _on_doc_excluded_changed(self) -> None:
        n = int(self.doc.excluded.sum())
        self.dataset.apply_filter()
        self.statusBar().showMessage(f"{n} of {len(self.doc.collection)} samples excluded from "
                                     "Reconstruct and Train", 5000)
        if self.current is not None:
            self.show_sample(self.current)

    @Slot(int)
    def _on_image_visibility_toggled(self, j: int) -> None:
        if self.doc is not None and self.current is not None:
            self.doc.toggle_visibility(self.current, j)

    @Slot()
    def _on_toggle_vis_triggered(self) -> None:
        j = self.image_view.selected_joint
        if j is not None:
            self._on_image_visibility_toggled(j)

    @Slot()
    def _on_remove_triggered(self) -> None:
        j = self.image_view.selected_joint
        if self.doc is not None and self.current is not None and j is not None:
            self.doc.remove_landmark(self.current, j)

    @Slot()
    def _on_undo_triggered(self) -> None:
        if self.doc is not None:
            self.doc.undo_stack.undo()

    @Slot()
    def _on_redo_triggered(self) -> None:
        if self.doc is not None:
            self.doc.undo_stack.redo()

    @Slot(int)
    def _on_undo_index_changed(self, _index: int) -> None:
        self._update_actions()

    @Slot(int)
    def _on_doc_sample_changed(self, i: int) -> None:
        if i != self.current:
            self.dataset.select(i)
        else:
            self.show_sample(i)
        if self.dataset.filter_box.currentText() == "Edited":
            self.dataset.apply_filter()  # an undo back to the opened state leaves the list
        else:
            self.dataset.refresh()
        self.status_save.setText("saving edits…")

    @Slot(str)
    def _on_doc_saved(self, path: str) -> None:
        if self.doc is not None and not self.doc.saving:
            self.status_save.setText(f"edits saved to {Path(path).name}")

    @Slot(str)
    def _on_doc_save_failed(self, message: str) -> None:
        self.status_save.setText("edits NOT saved")
        self.show_error("Could not save edits", message)
