"""The open data set of the window: a PoseCollection, its edits (undo/redo) and 3D results.

Every landmark edit is a :class:`SetLandmarkCommand` on a ``QUndoStack``; after every change
(do, undo, redo) the collection is autosaved atomically to the sidecar COCO file
(``poselab.io.folder.edits_path``, DESIGN §8). The write runs in a worker thread on a snapshot
of the arrays, one write at a time; a change made during a write schedules one more write, so the
file always ends with the latest state and a killed app loses at most the write in flight.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QUndoCommand, QUndoStack

from poselab.core.collection import PoseCollection
from poselab.gui.workers import _start_now

log = logging.getLogger(__name__)


def sidecar_path(collection: PoseCollection) -> Path | None:
    """Where edits of ``collection`` are autosaved (``*.poselab.json``), or None (no source)."""
    if collection.source is None:
        return None
    from poselab.io.folder import edits_path

    return Path(edits_path(collection.source))


def results_dir(collection: PoseCollection) -> Path:
    """The folder where 3D results of ``collection`` are saved: the data folder itself, or the
    folder of its annotation file."""
    src = Path(collection.source) if collection.source is not None else Path.cwd()
    return src if src.is_dir() else src.parent


def teacher_path(collection: PoseCollection) -> Path:
    """``<data>/nrsfm.npz`` for a folder; ``<file stem>.nrsfm.npz`` beside an annotation file."""
    src = Path(collection.source) if collection.source is not None else Path.cwd() / "data"
    if src.is_dir():
        return src / "nrsfm.npz"
    return src.parent / f"{src.name.split('.')[0]}.nrsfm.npz"


def _write_sidecar(collection: PoseCollection, path: Path) -> Path:
    from poselab.io import write_coco

    write_coco(collection, path)
    return path


class SetLandmarkCommand(QUndoCommand):
    """Set landmark ``j`` of sample ``i`` to a position and visibility (undoable)."""

    def __init__(self, doc: Document, i: int, j: int, xy: tuple[float, float], vis: int,
                 text: str) -> None:
        super().__init__(text)
        self.doc, self.i, self.j = doc, i, j
        kp, v = doc.collection.keypoints_2d, doc.collection.visibility
        self.old = (float(kp[i, j, 0]), float(kp[i, j, 1]), int(v[i, j]))
        self.new = (float(xy[0]), float(xy[1]), int(vis))

    def redo(self) -> None:
        self.doc._apply(self.i, self.j, self.new)

    def undo(self) -> None:
        self.doc._apply(self.i, self.j, self.old)


class Document(QObject):
    """One open collection plus its editing state and results.

    Signals:
        sample_changed(int): landmarks of sample ``i`` changed (edit, undo or redo).
        saved(str): the sidecar file was written and holds every edit so far (its path).
        save_failed(str): the sidecar could not be written (message).
        results_changed(): teacher or student 3D changed.

    Attributes:
        collection: the :class:`PoseCollection` being edited (arrays changed in place).
        undo_stack: the ``QUndoStack`` of landmark edits.
        edited: ``(N,)`` bool, samples that differ from their state at opening, or were marked
            edited in the file (an undo back to the opened state clears the mark).
        excluded: ``(N,)`` bool, samples left out of NRSfM and training (kept in the file;
            saved in the sidecar's metadata).
        teacher: the :class:`~poselab.nrsfm.result.NRSfMResult`, or None. It may cover only
            some samples (those included when it was fitted): :meth:`teacher_3d` maps it.
        student_3d: ``(N, J, 3)`` float32 student predictions (camera frame), or None.
        checkpoint: path of the student checkpoint, or None.
    """

    sample_changed = Signal(int)
    saved = Signal(str)
    save_failed = Signal(str)
    results_changed = Signal()
    excluded_changed = Signal()

    def __init__(self, collection: PoseCollection, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.collection = collection
        self.undo_stack = QUndoStack(self)
        n = len(collection)
        edited = collection.metadata.get("edited")
        self.edited = np.zeros(n, bool)
        if isinstance(edited, list | tuple | np.ndarray) and len(edited) == n:
            self.edited = np.asarray(edited, bool).copy()
        self.edited_in_file = self.edited.copy()
        self._opened_kp = collection.keypoints_2d.copy()
        self._opened_vis = collection.visibility.copy()
        excluded = collection.metadata.get("excluded")
        self.excluded = np.zeros(n, bool)
        if isinstance(excluded, list | tuple | np.ndarray) and len(excluded) == n:
            self.excluded = np.asarray(excluded, bool).copy()
        self._changed_since_open = False
        from poselab.core.metric_scale import KnownLength

        #: a length the user stated (mm) for metric 3D, or None (relative units); per data set
        self.known_length = KnownLength.from_dict(collection.metadata.get("known_length"))
        self.teacher = None
        self.student_3d: np.ndarray | None = None
        self.checkpoint: Path | None = None
        self._save_worker = None
        self._save_again = False
        self._saved_path = ""
        self.autosave = True

    # ------------------------------------------------------------------ editing
    def set_landmark(self, i: int, j: int, xy: tuple[float, float], vis: int | None = None,
                     text: str = "") -> None:
        """Move / place landmark ``j`` of sample ``i`` (pixels); undoable, autosaved.

        Args:
            i: sample index.
            j: joint index.
            xy: ``(x, y)`` pixels, image frame.
            vis: COCO visibility for the landmark; None keeps it, or makes it 2 when unlabelled.
        """
        if vis is None:
            vis = int(self.collection.visibility[i, j]) or 2
        name = self.collection.skeleton.joint_names[j]
        self.undo_stack.push(SetLandmarkCommand(self, i, j, xy, vis, text or f"move {name}"))

    def toggle_visibility(self, i: int, j: int) -> None:
        """Visible (2) ↔ occluded (1); an unlabelled landmark stays unlabelled."""
        v = int(self.collection.visibility[i, j])
        if v == 0:
            return
        xy = tuple(self.collection.keypoints_2d[i, j])
        name = self.collection.skeleton.joint_names[j]
        new = 1 if v == 2 else 2
        self.undo_stack.push(SetLandmarkCommand(
            self, i, j, xy, new, f"{name} {'occluded' if new == 1 else 'visible'}"))

    def remove_landmark(self, i: int, j: int) -> None:
        """Mark landmark ``j`` of sample ``i`` unlabelled (visibility 0); undoable."""
        if int(self.collection.visibility[i, j]) == 0:
            return
        name = self.collection.skeleton.joint_names[j]
        self.undo_stack.push(SetLandmarkCommand(self, i, j, (0.0, 0.0), 0, f"remove {name}"))

    def next_missing(self, i: int) -> int | None:
        """The first unlabelled joint of sample ``i`` in skeleton order, or None."""
        missing = np.flatnonzero(self.collection.visibility[i] == 0)
        return int(missing[0]) if missing.size else None

    def _apply(self, i: int, j: int, state: tuple[float, float, int]) -> None:
        x, y, v = state
        self.collection.keypoints_2d[i, j] = (x, y) if v > 0 else (0.0, 0.0)
        self.collection.visibility[i, j] = v
        c = self.collection
        same = (np.array_equal(c.visibility[i], self._opened_vis[i])
                and np.allclose(c.keypoints_2d[i], self._opened_kp[i], atol=1e-4))
        self.edited[i] = bool(self.edited_in_file[i]) or not same
        self._changed_since_open = True
        self.sample_changed.emit(i)
        self.request_save()

    # ------------------------------------------------------------------ autosave
    def request_save(self) -> None:
        """Write the sidecar COCO file in a worker (coalesces requests during a write)."""
        if not self.autosave or self.collection.source is None:
            return
        if self._save_worker is not None:
            self._save_again = True
            return
        from superqt.utils import create_worker

        path = sidecar_path(self.collection)
        snapshot = self._snapshot()
        worker = create_worker(_write_sidecar, snapshot, path, _start_thread=False,
                               _ignore_errors=True)
        worker.returned.connect(self._on_save_returned)
        worker.errored.connect(self._on_save_errored)
        worker.finished.connect(self._on_save_finished)
        self._save_worker = worker
        _start_now(worker)

    def save_now(self) -> Path | None:
        """Write the sidecar synchronously (on close); returns its path."""
        if self.collection.source is None or not self._changed_since_open:
            return None
        return _write_sidecar(self._snapshot(), sidecar_path(self.collection))

    def _snapshot(self) -> PoseCollection:
        snapshot = self.collection.copy()
        snapshot.metadata = {**snapshot.metadata, "edited": self.edited.tolist(),
                             "excluded": self.excluded.tolist(),
                             "known_length": None if self.known_length is None
                             else self.known_length.to_dict()}
        return snapshot

    def set_known_length(self, known) -> None:
        """State a known length (:class:`~poselab.core.metric_scale.KnownLength`) or None;
        saved in the sidecar; the 3D results are re-scored."""
        self.known_length = known
        self._changed_since_open = True
        self.request_save()
        self.results_changed.emit()

    # ------------------------------------------------------------------ exclusion
    def set_excluded(self, indices, excluded: bool) -> None:
        """Exclude (or include again) samples ``indices`` from NRSfM and training; saved in
        the sidecar; the samples stay in the file."""
        idx = np.asarray(list(indices), int)
        if idx.size == 0 or bool(np.all(self.excluded[idx] == excluded)):
            return
        self.excluded[idx] = excluded
        self._changed_since_open = True
        self.excluded_changed.emit()
        self.request_save()

    def included(self) -> np.ndarray:
        """Indices of the samples not excluded, ``(M,)`` int."""
        return np.flatnonzero(~self.excluded)

    @property
    def saving(self) -> bool:
        return self._save_worker is not None

    @Slot(object)
    def _on_save_returned(self, path: object) -> None:
        log.debug("edits saved to %s", path)
        self._saved_path = str(path)

    @Slot(object)
    def _on_save_errored(self, exc: object) -> None:
        log.error("could not save edits: %s", exc)
        self.save_failed.emit(str(exc))

    @Slot()
    def _on_save_finished(self) -> None:
        self._save_worker = None
        if self._save_again:
            self._save_again = False
            self.request_save()
        elif self._saved_path:
            path, self._saved_path = self._saved_path, ""
            self.saved.emit(path)  # the file now holds every edit made so far

    # ------------------------------------------------------------------ results
    def set_teacher(self, result) -> None:
        """Attach an NRSfMResult fitted on some (or all) of the collection's samples."""
        self.teacher = result
        self.results_changed.emit()

    def rows_of(self, sample_ids) -> np.ndarray:
        """Collection index of each of ``sample_ids`` ``(M,)`` int (−1 where unknown)."""
        where = {s: i for i, s in enumerate(self.collection.sample_ids)}
        return np.asarray([where.get(s, -1) for s in sample_ids], int)

    def expand(self, values: np.ndarray, sample_ids) -> np.ndarray:
        """Per-sample ``values`` ``(M, ...)`` of ``sample_ids`` → ``(N, ...)`` float32 rows
        of the collection, NaN for samples not among them."""
        values = np.asarray(values, np.float32)
        if len(sample_ids) == len(self.collection) and list(sample_ids) == list(
                self.collection.sample_ids):
            return values
        out = np.full((len(self.collection), *values.shape[1:]), np.nan, np.float32)
        rows = self.rows_of(sample_ids)
        ok = rows >= 0
        out[rows[ok]] = values[ok]
        return out

    def teacher_3d(self) -> np.ndarray | None:
        """The teacher's ``keypoints_3d`` as ``(N, J, 3)``, NaN for samples it did not fit."""
        if self.teacher is None:
            return None
        ids = getattr(self.teacher, "sample_ids", None)
        k3 = np.asarray(self.teacher.keypoints_3d)
        if ids is None:
            return k3
        return self.expand(k3, list(ids))

    def set_student(self, keypoints_3d: np.ndarray | None, checkpoint: Path | None,
                    sample_ids=None) -> None:
        """Attach student predictions ``(M, J, 3)`` for ``sample_ids`` (default: every
        sample, ``M = N``) and the checkpoint they came from."""
        if keypoints_3d is not None and sample_ids is not None:
            keypoints_3d = self.expand(keypoints_3d, list(sample_ids))
        self.student_3d = None if keypoints_3d is None else np.asarray(keypoints_3d, np.float32)
        self.checkpoint = checkpoint
        self.results_changed.emit()

    def sources_3d(self) -> dict[str, np.ndarray]:
        """Available 3D sources by name: ``teacher``, ``student``, ``ground truth``."""
        out: dict[str, np.ndarray] = {}
        if self.teacher is not None:
            out["teacher"] = self.teacher_3d()
        if self.student_3d is not None:
            out["student"] = self.student_3d
        if self.collection.keypoints_3d is not None:
            out["ground truth"] = self.collection.keypoints_3d
        return out
