"""Dataset panel: the list of samples with thumbnails, and a filter.

Filters: all samples, incomplete (some landmark unlabelled), edited (differs from the opened
state, or marked edited in the sidecar), excluded (left out of Reconstruct and Train),
unreadable images (missing, truncated or undecodable; kept for Reconstruct, left out of image
training and prediction), least
certain first (the teacher's GT-free uncertainty, :mod:`poselab.metrics.quality`), and largest
teacher–student disagreement first (needs both results). Several samples can be selected
(Ctrl / Shift click) to exclude or include them together.
Thumbnails stream in from a worker (:mod:`poselab.gui.thumbnails`); rows show a grey
placeholder until theirs arrives.
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QLabel,
    QListView,
    QVBoxLayout,
    QWidget,
)

from poselab.gui.thumbnails import THUMB_HEIGHT, ThumbBatch, make_thumbnails
from poselab.gui.workers import JobRunner

log = logging.getLogger(__name__)

FILTERS = ("All", "Incomplete", "Edited", "Excluded", "Unreadable images",
           "Least certain first", "Largest disagreement", "Suspect labels")
#: Filters that sort by a per-sample score: (attribute of the panel, text when it is missing).
SCORE_FILTERS = {"Least certain first": ("uncertainty", "needs a teacher (Reconstruct)"),
                 "Largest disagreement": ("disagreement", "needs teacher and student results"),
                 "Suspect labels": ("suspect", "the teacher found no label that looks "
                                               "like a gross error or a left/right swap")}
#: Score filters that list only the samples scoring above 0.
NONZERO_FILTERS = {"Suspect labels"}


class SampleListModel(QAbstractListModel):
    """Rows = a list of sample indices (the filtered view) of a Document's collection."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.doc = None
        self.rows = np.zeros(0, int)
        self.icons: dict[int, QIcon] = {}
        self.scores: np.ndarray | None = None
        self.score_label = ""
        placeholder = QPixmap(THUMB_HEIGHT * 16 // 9, THUMB_HEIGHT)
        placeholder.fill(QColor(70, 70, 70))
        self.placeholder = QIcon(placeholder)

    def set_rows(self, doc, rows: np.ndarray, scores: np.ndarray | None = None,
                 score_label: str = "") -> None:
        self.beginResetModel()
        self.doc = doc
        self.rows = np.asarray(rows, int)
        self.scores = scores
        self.score_label = score_label
        self.endResetModel()

    def rowCount(self, parent=None) -> int:  # noqa: N802 - Qt API
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.doc is None:
            return None
        i = int(self.rows[index.row()])
        c = self.doc.collection
        if role == Qt.ItemDataRole.DisplayRole:
            missing = int((c.visibility[i] == 0).sum())
            text = c.sample_ids[i]
            if missing:
                text += f"\n{missing} unlabelled"
            if self.doc.edited[i]:
                text += "  ✎ edited"
            if self.doc.excluded[i]:
                text += "  ⊘ excluded"
            if self.scores is not None and np.isfinite(self.scores[i]):
                text += f"\n{self.score_label.format(self.scores[i])}"
            return text
        if role == Qt.ItemDataRole.ForegroundRole and self.doc.excluded[i]:
            return QColor(140, 140, 140)
        if role == Qt.ItemDataRole.DecorationRole:
            return self.icons.get(i, self.placeholder)
        if role == Qt.ItemDataRole.UserRole:
            return i
        return None

    def add_icons(self, items: list[tuple[int, np.ndarray]]) -> None:
        for i, img in items:
            h, w = img.shape[:2]
            qimg = QImage(img.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
            self.icons[i] = QIcon(QPixmap.fromImage(qimg))
        if len(self.rows):
            self.dataChanged.emit(self.index(0), self.index(len(self.rows) - 1),
                                  [Qt.ItemDataRole.DecorationRole])

    def refresh(self) -> None:
        if len(self.rows):
            self.dataChanged.emit(self.index(0), self.index(len(self.rows) - 1))


class DatasetPanel(QWidget):
    """Sample list with a filter; emits ``sample_selected(int)`` (collection index)."""

    sample_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter_box = QComboBox()
        self.filter_box.addItems(FILTERS)
        self.count_label = QLabel("")
        self.view = QListView()
        self.view.setIconSize(QSize(THUMB_HEIGHT * 16 // 9, THUMB_HEIGHT))
        self.view.setUniformItemSizes(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.model = SampleListModel(self)
        self.view.setModel(self.model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.filter_box)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count_label)
        self.filter_box.currentIndexChanged.connect(self._on_filter_changed)
        self.view.selectionModel().currentChanged.connect(self._on_view_current_changed)
        self.thumbs = JobRunner(self)
        self.thumbs.progressed.connect(self._on_thumbs_progressed)
        self.thumbs.stopped.connect(self._on_thumbs_stopped)
        self.doc = None
        self.disagreement: np.ndarray | None = None
        self.uncertainty: np.ndarray | None = None
        self.suspect: np.ndarray | None = None
        self.labels = {"disagreement": "disagreement {:.3g} (no unit)",
                       "uncertainty": "uncertainty {:.3g}",
                       "suspect": "{:.0f} suspect labels"}
        self._pending_paths = None

    # ------------------------------------------------------------------ API
    def set_document(self, doc) -> None:
        """Show ``doc``'s samples and start streaming thumbnails."""
        self.doc = doc
        self.disagreement = None
        self.suspect = None
        self.model.icons.clear()
        self.apply_filter()
        paths = list(doc.collection.image_paths) if doc is not None else []
        boxes = None
        if doc is not None:
            from poselab.gui.thumbnails import landmark_boxes

            boxes = landmark_boxes(doc.collection.keypoints_2d, doc.collection.visibility)
        if self.thumbs.running:
            self._pending_paths = (paths, boxes)
            self.thumbs.cancel()
        else:
            self._start_thumbs(paths, boxes)

    def set_disagreement(self, scores: np.ndarray | None) -> None:
        """Per-sample teacher–student disagreement ``(N,)`` (for the filter), or None."""
        self.disagreement = None if scores is None else np.asarray(scores, float)
        self.apply_filter()

    def set_uncertainty(self, scores: np.ndarray | None, label: str = "uncertainty {:.3g}"
                        ) -> None:
        """Per-sample GT-free uncertainty ``(N,)`` (larger = less certain) for "Least certain
        first", or None; ``label`` formats one value with its unit."""
        self.uncertainty = None if scores is None else np.asarray(scores, float)
        self.labels["uncertainty"] = label
        self.apply_filter()

    def set_suspect_labels(self, counts: np.ndarray | None) -> None:
        """Per-sample count ``(N,)`` of labels the teacher found to look like gross errors
        (:mod:`poselab.nrsfm.outliers`) or left/right swaps (:mod:`poselab.nrsfm.swaps`), for
        "Suspect labels", or None."""
        self.suspect = None if counts is None else np.asarray(counts, float)
        self.apply_filter()

    def selected_indices(self) -> list[int]:
        """Collection indices of the selected rows (the current one when none is selected)."""
        rows = sorted({ix.row() for ix in self.view.selectionModel().selectedIndexes()})
        out = [int(self.model.rows[r]) for r in rows if r < len(self.model.rows)]
        if not out and self.current_index() is not None:
            out = [self.current_index()]
        return out

    def select_many(self, indices) -> None:
        """Select collection samples ``indices`` (those the filter shows)."""
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        sel = QItemSelection()
        for i in indices:
            rows = np.flatnonzero(self.model.rows == i)
            if rows.size:
                ix = self.model.index(int(rows[0]))
                sel.select(ix, ix)
        self.view.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def apply_filter(self) -> None:
        doc = self.doc
        if doc is None:
            self.model.set_rows(None, np.zeros(0, int))
            self.count_label.setText("")
            return
        current = self.current_index()
        c = doc.collection
        n = len(c)
        mode = FILTERS[self.filter_box.currentIndex()]
        scores, missing, label = None, "", ""
        if mode == "Incomplete":
            rows = np.flatnonzero((c.visibility == 0).any(1))
        elif mode == "Edited":
            rows = np.flatnonzero(doc.edited)
        elif mode == "Excluded":
            rows = np.flatnonzero(doc.excluded)
        elif mode == "Unreadable images":  # flagged on open (poselab.io.open_folder)
            from poselab.io.images import image_problems

            rows = np.flatnonzero(image_problems(c, probe=False) != "")
        elif mode in SCORE_FILTERS:
            attr, missing = SCORE_FILTERS[mode]
            scores = getattr(self, attr)
            label = self.labels[attr]
            if scores is None:
                rows = np.zeros(0, int)
            else:
                missing = ""
                rows = np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")
                if mode in NONZERO_FILTERS:
                    rows = rows[np.nan_to_num(scores[rows]) > 0]
        else:
            rows = np.arange(n)
        self.model.set_rows(doc, rows, scores, label)
        excluded = int(doc.excluded.sum())
        self.count_label.setText(missing or f"{len(rows)} of {n} samples"
                                 + (f", {excluded} excluded" if excluded else ""))
        if current is not None and current in set(rows.tolist()):
            self.select(current)

    def current_index(self) -> int | None:
        idx = self.view.currentIndex()
        return None if not idx.isValid() else int(self.model.rows[idx.row()])

    def select(self, i: int) -> None:
        """Make collection sample ``i`` current (if the filter shows it)."""
        rows = np.flatnonzero(self.model.rows == i)
        if rows.size:
            idx = self.model.index(int(rows[0]))
            self.view.setCurrentIndex(idx)
            self.view.scrollTo(idx)

    def step(self, delta: int) -> None:
        """Move the selection by ``delta`` rows (next/previous image)."""
        n = self.model.rowCount()
        if n == 0:
            return
        row = self.view.currentIndex().row()
        row = 0 if row < 0 else min(max(row + delta, 0), n - 1)
        self.view.setCurrentIndex(self.model.index(row))

    def refresh(self) -> None:
        self.model.refresh()

    # ------------------------------------------------------------------ slots
    @Slot(int)
    def _on_filter_changed(self, _index: int) -> None:
        self.apply_filter()

    @Slot(QModelIndex, QModelIndex)
    def _on_view_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.sample_selected.emit(int(self.model.rows[current.row()]))

    @Slot(object)
    def _on_thumbs_progressed(self, batch: object) -> None:
        if isinstance(batch, ThumbBatch):
            self.model.add_icons(batch.items)

    @Slot()
    def _on_thumbs_stopped(self) -> None:
        if self._pending_paths is not None:
            (paths, boxes), self._pending_paths = self._pending_paths, None
            self._start_thumbs(paths, boxes)

    def _start_thumbs(self, paths, boxes=None) -> None:
        if not any(p is not None for p in paths):
            return
        self.thumbs.start("Thumbnails", _thumb_factory(paths, boxes), quiet=True)


def _thumb_factory(paths, boxes=None):
    def factory(cancel):
        return make_thumbnails(paths, cancel=cancel, boxes=boxes)

    return factory
