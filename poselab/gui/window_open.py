"""Opening data in the main window (mixed into :class:`~poselab.gui.main_window.MainWindow`):
:meth:`open_path` runs :func:`poselab.gui.loading.load_job` in a worker; a folder without
annotations (or YOLO labels without keypoint names) asks for a skeleton first; drag and drop,
the Open dialogs and the recent files list.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFileDialog

from poselab.gui.document import Document
from poselab.gui.loading import Loaded, NeedsSkeleton, load_job
from poselab.io.dlc import below_pcutoff_note

log = logging.getLogger(__name__)

MAX_RECENT = 8


class OpeningMixin:
    """Open, drop, recent files; :meth:`_set_loaded` makes the opened data the document."""

    def open_path(self, path: str | Path, skeleton=None) -> None:
        """Open a folder or annotation file in a worker; errors go to a dialog and the
        current data stays open."""
        path = Path(path)
        if self.loader.running:
            log.warning("still opening %s; ignoring %s", self.loader.name, path)
            return
        self.statusBar().showMessage(f"Opening {path}…")
        self._open_started = time.perf_counter()
        self.loader.start(f"Open {path.name}", _bind_load(path, skeleton))

    @Slot(object)
    def _on_loader_finished(self, result: object) -> None:
        if isinstance(result, NeedsSkeleton):
            self._ask_skeleton(result)
            return
        if isinstance(result, Loaded):
            self._set_loaded(result)

    @Slot()
    def _on_loader_stopped(self) -> None:
        """Whatever the outcome (cancel included), "Opening …" does not stay."""
        if self.statusBar().currentMessage().startswith("Opening"):
            self.statusBar().clearMessage()

    @Slot(str)
    def _on_loader_failed(self, message: str) -> None:
        self.statusBar().showMessage("Could not open the data", 5000)
        self.show_error("Could not open", message)

    def _ask_skeleton(self, need: NeedsSkeleton) -> None:
        from poselab.gui.dialogs.skeleton_dialog import SkeletonDialog

        dialog = SkeletonDialog(str(need.path), self, need.problem if need.labelled else "")
        self._pending_labelled = need.labelled
        self._pending_unlabelled = need.path
        self.open_dialog(dialog, "skeleton_dialog", self._on_skeleton_dialog_accepted,
                         self._on_skeleton_dialog_rejected)

    @Slot()
    def _on_skeleton_dialog_rejected(self) -> None:
        self.statusBar().showMessage(f"Not opened: {self._pending_unlabelled}", 5000)

    @Slot()
    def _on_skeleton_dialog_accepted(self) -> None:
        sk = self.skeleton_dialog.skeleton()
        if sk is not None:
            # a folder to label starts in label mode; YOLO labels only lacked their names
            self._label_after_open = not getattr(self, "_pending_labelled", False)
            self.open_path(self._pending_unlabelled, skeleton=sk)

    def _set_loaded(self, loaded: Loaded) -> None:
        old = self.doc
        if old is not None:
            try:
                if old.undo_stack.count():
                    old.save_now()
            except Exception as err:  # noqa: BLE001 - never lose the new data for the old
                log.error("could not save edits of the previous data: %s", err)
            old.autosave = False
            old.deleteLater()
        doc = Document(loaded.collection, self)
        doc.teacher = loaded.teacher
        if loaded.student_3d is not None:
            doc.student_3d = doc.expand(loaded.student_3d, loaded.student_ids
                                        or list(loaded.collection.sample_ids))
        doc.checkpoint = loaded.checkpoint
        doc.sample_changed.connect(self._on_doc_sample_changed)
        doc.saved.connect(self._on_doc_saved)
        doc.save_failed.connect(self._on_doc_save_failed)
        doc.results_changed.connect(self._on_doc_results_changed)
        doc.undo_stack.indexChanged.connect(self._on_undo_index_changed)
        doc.excluded_changed.connect(self._on_doc_excluded_changed)
        self.doc = doc
        self.label_mode_action.setChecked(bool(getattr(self, "_label_after_open", False)))
        self._label_after_open = False
        self.view3d.set_view("side")  # every data set opens in side view (depth visible)
        self.current = None
        self.metrics = None
        if not self.job.running:
            self.job_panel.reset()
        self.metrics_panel.set_result(None)
        self.metrics_panel.set_run_scores(None)
        self.dataset.set_document(doc)
        c = loaded.collection
        elapsed = time.perf_counter() - getattr(self, "_open_started", time.perf_counter())
        self.setWindowTitle(f"poselab — {loaded.path}")
        low = below_pcutoff_note(c)
        self.statusBar().showMessage(f"Opened {len(c)} samples, skeleton {c.skeleton.name} "
                                     f"({c.num_joints} landmarks) in {elapsed:.2f} s"
                                     + (f"; {low}" if low else ""), 8000)
        log.info("opened %s: %d samples, %d landmarks", loaded.path, len(c), c.num_joints)
        self._add_recent(loaded.path)
        self.status_save.setText("")
        if len(c):
            self.dataset.select(0)
        self._on_doc_results_changed()
        self._update_actions()

    # ---- drag and drop
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
            self.set_drop_highlight(True)
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.set_drop_highlight(False)
        super().dragLeaveEvent(event)

    def set_drop_highlight(self, on: bool) -> None:
        """Show (or hide) the "Drop to open" overlay over the window's central area."""
        if on:
            self.drop_overlay.setGeometry(self.centralWidget().geometry())
            self.drop_overlay.raise_()
            self.drop_overlay.show()
        else:
            self.drop_overlay.hide()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.set_drop_highlight(False)
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if not urls:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_path(urls[0].toLocalFile())

    # ---- file dialogs and recent files
    def dialog_dir(self) -> str:
        """Where file dialogs start: the folder last opened, else the home folder (never the
        working directory the app happened to be started in)."""
        last = self.settings.value("last_dir", "")
        if last and Path(str(last)).is_dir():
            return str(last)
        return str(Path.home())

    def _remember_dir(self, path: str | Path) -> None:
        p = Path(path)
        self.settings.setValue("last_dir", str(p if p.is_dir() else p.parent))

    @Slot()
    def _on_open_triggered(self) -> None:
        from poselab.io.folder import READABLE_SUFFIXES

        patterns = " ".join(f"*{s}" for s in READABLE_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(
            self, "Open annotations", self.dialog_dir(),
            f"Annotations and datasets ({patterns});;All files (*)")
        if path:
            self._remember_dir(path)
            self.open_path(path)

    @Slot()
    def _on_open_folder_triggered(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open folder", self.dialog_dir())
        if path:
            self._remember_dir(Path(path).parent)
            self.open_path(path)

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: Path) -> None:
        p = str(Path(path).resolve())
        recent = [r for r in self.recent_files() if r != p]
        self.settings.setValue("recent", [p, *recent][:MAX_RECENT])
        self._remember_dir(Path(p).parent)
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        for p in self.recent_files():
            a = self.recent_menu.addAction(p)
            a.setData(p)
            a.triggered.connect(self._on_recent_triggered)
        self.recent_menu.setEnabled(bool(self.recent_files()))

    @Slot()
    def _on_recent_triggered(self) -> None:
        action = self.sender()
        if action is not None:
            self.open_path(action.data())


def _bind_load(path: Path, skeleton):
    def factory(cancel):
        return load_job(path, skeleton, cancel)

    return factory


