"""The poselab main window (DESIGN §1): browse, annotate, reconstruct, train, compare, export.

Layout: dataset panel (left dock), image view (centre), 3D view + metrics (right dock), job
panel and log (bottom tabs), status bar. This module: layout, actions, opening (drop, dialogs,
recent files), browsing, editing and export; the long jobs (reconstruct, train, metrics, demo)
are in :mod:`poselab.gui.jobs`. Every long job runs in a
:class:`~poselab.gui.workers.JobRunner`; slots only start jobs and show their results
(STYLE.md §2, PLATFORM.md).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QToolBar,
)

from poselab.core.errors import PoselabError
from poselab.gui.document import Document, teacher_path
from poselab.gui.jobs import JobsMixin
from poselab.gui.loading import Loaded, NeedsSkeleton, load_job
from poselab.gui.widgets.dataset_panel import DatasetPanel
from poselab.gui.widgets.image_view import ImageViewWidget
from poselab.gui.widgets.job_panel import JobPanel
from poselab.gui.widgets.log_panel import LogPanel
from poselab.gui.widgets.metrics_panel import MetricsPanel
from poselab.gui.widgets.view3d import View3DWidget
from poselab.gui.window_tools import ToolsMixin
from poselab.gui.workers import JobRunner

log = logging.getLogger(__name__)

MAX_RECENT = 8


class MainWindow(ToolsMixin, JobsMixin, QMainWindow):
    """The app window. Public methods drive it from tests and scripts:
    :meth:`open_path`, :meth:`start_reconstruct`, :meth:`start_training`, :meth:`export`."""

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("poselab")
        self.resize(1500, 920)
        self.setAcceptDrops(True)
        self.settings = settings or QSettings("poselab", "poselab")
        self.doc: Document | None = None
        self.current: int | None = None
        self.metrics: dict | None = None
        self.error_box: QMessageBox | None = None
        self.last_error = ""

        # ---- runners
        self.loader = JobRunner(self)
        self.loader.finished.connect(self._on_loader_finished)
        self.loader.failed.connect(self._on_loader_failed)
        self.loader.stopped.connect(self._on_loader_stopped)
        self.job = JobRunner(self)  # reconstruct / train (one at a time)
        self.job.finished.connect(self._on_job_finished)
        self.job.failed.connect(self._on_job_failed)
        self.job.stopped.connect(self._on_job_stopped)
        self.metrics_runner = JobRunner(self)
        self.metrics_runner.finished.connect(self._on_metrics_finished)
        self.metrics_runner.stopped.connect(self._on_metrics_stopped)
        self._metrics_again = False

        # ---- widgets
        self.dataset = DatasetPanel()
        self.dataset.sample_selected.connect(self._on_dataset_sample_selected)
        self.dataset.thumbs.stopped.connect(self._on_thumbs_stopped)
        self.warm_up = JobRunner(self)
        self.image_view = ImageViewWidget()
        self.image_view.landmark_moved.connect(self._on_image_landmark_moved)
        self.image_view.place_requested.connect(self._on_image_place_requested)
        self.image_view.visibility_toggled.connect(self._on_image_visibility_toggled)
        self.view3d = View3DWidget()
        self.metrics_panel = MetricsPanel()
        self.job_panel = JobPanel(self.job)
        self.job.cancelled.connect(self._on_job_cancelled)  # after the panel's: its text wins
        self.log_panel = LogPanel()
        self.log_panel.install()

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.view3d)
        right.addWidget(self.metrics_panel)
        right.setSizes([470, 330])
        centre = QSplitter(Qt.Orientation.Horizontal)
        centre.addWidget(self.image_view)
        centre.addWidget(right)
        centre.setSizes([800, 520])
        self.setCentralWidget(centre)

        self.samples_dock = dock = QDockWidget("Samples", self)
        dock.setObjectName("samples_dock")
        dock.setWidget(self.dataset)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.bottom_tabs = QTabWidget()
        self.bottom_tabs.addTab(self.job_panel, "Jobs")
        self.bottom_tabs.addTab(self.log_panel, "Log")
        self.jobs_dock = bottom = QDockWidget("Jobs and log", self)
        bottom.setObjectName("jobs_dock")
        bottom.setWidget(self.bottom_tabs)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, bottom)
        self.resizeDocks([dock], [260], Qt.Orientation.Horizontal)
        self.resizeDocks([bottom], [300], Qt.Orientation.Vertical)

        self.status_sample = QLabel("")
        self.status_save = QLabel("")
        self.statusBar().addPermanentWidget(self.status_sample)
        self.statusBar().addPermanentWidget(self.status_save)
        self.drop_overlay = QLabel("Drop to open", self)
        self.drop_overlay.setObjectName("dropOverlay")
        self.drop_overlay.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_overlay.setStyleSheet(
            "#dropOverlay { background: rgba(40, 120, 220, 60); border: 4px dashed "
            "rgb(40, 120, 220); color: rgb(20, 60, 140); font-size: 28px; font-weight: bold; }")
        self.drop_overlay.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.drop_overlay.hide()
        self._build_actions()
        self._update_actions()
        self.statusBar().showMessage("Drop a folder or an annotation file onto the window")

    # ================================================================== actions
    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        keys = QKeySequence.StandardKey
        self.open_action = self._action("&Open…", self._on_open_triggered, keys.Open,
                                        "Open a folder or an annotation file")
        self.open_folder_action = self._action("Open &folder…", self._on_open_folder_triggered,
                                               "Ctrl+Shift+O")
        self.reconstruct_action = self._action(
            "Reconstruct (NRSfM)", self._on_reconstruct_triggered, "Ctrl+R",
            "Fit the Deep NRSfM teacher on all samples")
        self.train_action = self._action("Train student", self._on_train_triggered, "Ctrl+T",
                                         "Distil the teacher into an image → 3D student")
        self.cancel_action = self._action("Cancel job", self.job.cancel, "Esc")
        self.export_action = self._action("&Export 3D…", self._on_export_triggered, "Ctrl+E")
        self.export_2d_action = self._action(
            "Export &landmarks (2D)…", self._on_export_2d_triggered, None,
            "Save the 2D landmarks, edits included, as SLEAP .slp or COCO keypoints JSON")
        self.quit_action = self._action("&Quit", self.close, keys.Quit)
        self.undo_action = self._action("&Undo", self._on_undo_triggered, keys.Undo)
        self.redo_action = self._action("&Redo", self._on_redo_triggered, keys.Redo)
        self.next_action = self._action("Next image", self._on_next_triggered, "Right",
                                        "Next image (→, N, Page Down)")
        self.next_action.setShortcuts([QKeySequence("Right"), QKeySequence("N"),
                                       QKeySequence("PgDown")])
        self.prev_action = self._action("Previous image", self._on_prev_triggered, "Left",
                                        "Previous image (←, P, Page Up)")
        self.prev_action.setShortcuts([QKeySequence("Left"), QKeySequence("P"),
                                       QKeySequence("PgUp")])
        self.toggle_vis_action = self._action("Toggle visibility", self._on_toggle_vis_triggered,
                                              "V", "Selected landmark: visible ↔ occluded")
        self.remove_action = self._action("Remove landmark", self._on_remove_triggered, "Delete",
                                          "Selected landmark: unlabelled")
        self.label_mode_action = self._action(
            "&Label mode", self._on_label_mode_toggled, "L",
            "Clicks on the image place the next unlabelled landmark (off: clicks only select)")
        self.label_mode_action.setCheckable(True)
        self.exclude_action = self._action(
            "E&xclude selected samples", self._on_exclude_triggered, "Ctrl+Shift+X",
            "Leave the selected samples out of Reconstruct and Train (kept in the file)")
        self.include_action = self._action(
            "&Include selected samples", self._on_include_triggered, "Ctrl+Shift+I",
            "Use the selected samples again in Reconstruct and Train")
        self.known_length_action = self._action(
            "&Known length…", self._on_known_length_triggered, "Ctrl+K",
            "State one length in mm (a bone or the subject's height): 3D shown and exported in mm")
        self.skeleton_action = self._action(
            "&Skeleton…", self._on_skeleton_triggered, None,
            "Edit the skeleton: bones, left/right pairs, colours; save as skeleton JSON")
        self.about_action = self._action("&About poselab", self._on_about_triggered)
        self.shortcuts_action = self._action("&Keyboard and mouse", self._on_shortcuts_triggered,
                                             keys.HelpContents)
        self.docs_action = self._action("&Documentation (README)", self._on_docs_triggered)

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.open_folder_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        file_menu.addAction(self.export_action)
        file_menu.addAction(self.export_2d_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        for a in (self.undo_action, self.redo_action, None, self.label_mode_action,
                  self.toggle_vis_action, self.remove_action, None, self.skeleton_action):
            if a is None:
                edit_menu.addSeparator()
            else:
                edit_menu.addAction(a)
        samples_menu = self.menuBar().addMenu("&Samples")
        samples_menu.addAction(self.exclude_action)
        samples_menu.addAction(self.include_action)
        samples_menu.addSeparator()
        samples_menu.addAction(self.known_length_action)
        go_menu = self.menuBar().addMenu("&Go")
        go_menu.addAction(self.prev_action)
        go_menu.addAction(self.next_action)
        run_menu = self.menuBar().addMenu("&Run")
        for a in (self.reconstruct_action, self.train_action, self.cancel_action):
            run_menu.addAction(a)
        view_menu = self.menuBar().addMenu("&View")
        for name in ("front", "side", "top"):
            view_menu.addAction(self._action(f"3D {name} view",
                                             getattr(self.view3d, f"_on_{name}_clicked")))
        view_menu.addSeparator()
        for dock in (self.samples_dock, self.jobs_dock):  # a closed dock comes back from here
            view_menu.addAction(dock.toggleViewAction())
        self.view_menu = view_menu
        help_menu = self.menuBar().addMenu("&Help")
        for a in (self.shortcuts_action, self.docs_action, None, self.about_action):
            if a is None:
                help_menu.addSeparator()
            else:
                help_menu.addAction(a)
        self.help_menu = help_menu
        self._rebuild_recent_menu()

        bar = QToolBar("Main")
        bar.setObjectName("main_toolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for a in (self.open_action, None, self.undo_action, self.redo_action, None,
                  self.prev_action, self.next_action, self.label_mode_action, None,
                  self.reconstruct_action,
                  self.train_action, self.cancel_action, None, self.export_action):
            if a is None:
                bar.addSeparator()
            else:
                bar.addAction(a)
        self.addToolBar(bar)

    def _update_actions(self) -> None:
        has = self.doc is not None
        busy = self.job.running
        self.reconstruct_action.setEnabled(has and not busy)
        self.train_action.setEnabled(has and not busy and self.doc.teacher is not None
                                     if has else False)
        self.cancel_action.setEnabled(busy)
        self.export_action.setEnabled(has and bool(self.doc.sources_3d()) if has else False)
        self.export_2d_action.setEnabled(has)
        self.undo_action.setEnabled(has and self.doc.undo_stack.canUndo() if has else False)
        self.redo_action.setEnabled(has and self.doc.undo_stack.canRedo() if has else False)
        self.exclude_action.setEnabled(has and not busy)
        self.include_action.setEnabled(has and not busy)
        self.skeleton_action.setEnabled(has and not busy)
        self.known_length_action.setEnabled(has)

    # ================================================================== opening
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

        dialog = SkeletonDialog(str(need.path), self)
        self.skeleton_dialog = dialog
        dialog.accepted.connect(self._on_skeleton_dialog_accepted)
        dialog.rejected.connect(self._on_skeleton_dialog_rejected)
        self._pending_unlabelled = need.path
        dialog.open()

    @Slot()
    def _on_skeleton_dialog_rejected(self) -> None:
        self.statusBar().showMessage(f"Not opened: {self._pending_unlabelled}", 5000)

    @Slot()
    def _on_skeleton_dialog_accepted(self) -> None:
        sk = self.skeleton_dialog.skeleton()
        if sk is not None:
            self._label_after_open = True  # a folder to label: start in label mode
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
        self.dataset.set_document(doc)
        c = loaded.collection
        elapsed = time.perf_counter() - getattr(self, "_open_started", time.perf_counter())
        self.setWindowTitle(f"poselab — {loaded.path}")
        self.statusBar().showMessage(f"Opened {len(c)} samples, skeleton {c.skeleton.name} "
                                     f"({c.num_joints} landmarks) in {elapsed:.2f} s", 8000)
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

    def show_error(self, title: str, message: str) -> None:
        """Non-blocking error dialog (kept in :attr:`error_box` for tests)."""
        log.error("%s: %s", title, message)
        self.last_error = message
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok,
                          self)
        self.error_box = box
        box.open()

    # ================================================================== browsing
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

    # ================================================================== export
    @Slot()
    def _on_export_2d_triggered(self) -> None:
        if self.doc is None:
            return
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export landmarks (2D)", self.dialog_dir(),
            "SLEAP labels (*.slp);;COCO keypoints (*.json)")
        if not path:
            return
        if not Path(path).suffix:
            path += ".json" if "COCO" in chosen else ".slp"
        try:
            self.export_landmarks(Path(path))
        except PoselabError as err:
            self.show_error("Export failed", str(err))

    def export_landmarks(self, path: Path) -> Path:
        """Write the current 2D landmarks (edits included) as ``.slp`` (sleap-io) or COCO
        ``.json``; never over the data's own files.

        Raises:
            PoselabError: another suffix, an input file as output, or a writer error.
        """
        from poselab.core.outputs import check_output
        from poselab.io import edits_path, write_coco, write_slp

        c = self.doc.collection
        inputs = [c.source, c.metadata.get("edits_of")]
        if c.source is not None:
            inputs.append(edits_path(c))
        path = check_output(path, inputs=inputs, suffixes=(".slp", ".json"))
        (write_slp if path.suffix.lower() == ".slp" else write_coco)(c, path)
        self.statusBar().showMessage(f"Landmarks exported to {path}", 8000)
        return path

    @Slot()
    def _on_export_triggered(self) -> None:
        if self.doc is None:
            return
        from poselab.gui.dialogs.export_dialog import ExportDialog

        tp = teacher_path(self.doc.collection)
        dialog = ExportDialog(list(self.doc.sources_3d()), tp.parent, self)
        self.export_dialog = dialog
        dialog.accepted.connect(self._on_export_dialog_accepted)
        dialog.open()

    @Slot()
    def _on_export_dialog_accepted(self) -> None:
        choice = self.export_dialog.choice()
        if choice is not None:
            self._export_checked(choice, force=False)

    def _export_checked(self, choice, force: bool) -> None:
        """Export after checking the file (:mod:`poselab.gui.output_check`): never over the
        data's own annotation file without a confirmation."""
        from poselab.gui.output_check import outputs_ok

        if not outputs_ok(self, "Export", [(Path(choice.path), False, ())],
                          [self.doc.collection.source if self.doc else None], force,
                          lambda: self._export_checked(choice, force=True)):
            return
        try:
            self.export(choice.sources, choice.fmt, choice.selected_only, choice.path)
        except (PoselabError, OSError) as err:
            self.show_error("Export failed", str(err))

    def export(self, sources: tuple[str, ...], fmt: str, selected_only: bool,
               path: Path) -> Path:
        """Write the chosen 3D sources with ``poselab.io`` (CSV or JSON, DESIGN §8).

        Units: with a known length (:attr:`Document.known_length`) teacher and student are
        written in mm (:mod:`poselab.core.metric_scale`; camera frame with intrinsics, else
        centred on each sample), otherwise ``units=relative`` (pixel scale). Ground truth is
        written only beside predictions in mm, in their frame and alignment (centred when they
        are); never on its own or beside relative predictions. Samples without 3D in a chosen
        source (excluded when it was made) are left out.

        Raises:
            PoselabError: nothing to export, ground truth without mm predictions, a writer error.
        """
        from poselab.core.metric_scale import (
            FRAME_CENTRED,
            RELATIVE,
            centre_like,
            scale_factors,
            to_metric,
        )
        from poselab.io import export_csv, export_json

        doc = self.doc
        available = doc.sources_3d() if doc is not None else {}
        chosen = {s: available[s] for s in sources if s in available}
        if not chosen:
            raise PoselabError("nothing to export: reconstruct (or train) first")
        c = doc.collection
        preds = {s: a for s, a in chosen.items() if s != "ground truth"}
        arrays, units, frames = {}, {}, {}
        factors = None
        if doc.known_length is not None and preds:
            base = available.get("teacher", next(iter(preds.values())))
            factors = scale_factors(base, c.skeleton, doc.known_length)
        frame_mm = None
        for s, a in preds.items():
            key = s.replace(" ", "_")  # file names of the sources (DESIGN §8)
            if factors is not None:
                arrays[key], frame_mm = to_metric(a, factors, c.intrinsics)
                units[key], frames[key] = "mm", frame_mm
            else:
                arrays[key], units[key], frames[key] = a, RELATIVE, "camera"
        if "ground truth" in chosen:
            if frame_mm is None:
                raise PoselabError("ground truth is exported only beside teacher or student 3D "
                                   "in mm, in their frame: state a known length (Samples ▸ "
                                   "Known length…) and export it with them")
            gt = chosen["ground truth"]
            arrays["ground_truth"] = centre_like(gt) if frame_mm == FRAME_CENTRED else gt
            units["ground_truth"], frames["ground_truth"] = c.units_3d, frame_mm
        finite = np.ones(len(c), bool)
        for a in arrays.values():
            finite &= np.isfinite(a).all((1, 2))
        if selected_only and self.current is not None:
            samples = [self.current] if finite[self.current] else []
        else:
            samples = np.flatnonzero(finite).tolist()
        if not samples:
            raise PoselabError("nothing to export: the chosen samples have no 3D (excluded?)")
        writer = export_csv if fmt == "csv" else export_json
        writer(path, c, arrays, units, frames, samples=samples)
        log.info("exported %s (%s, %s) to %s", ", ".join(chosen), fmt.upper(),
                 ", ".join(sorted(set(units.values()))), path)
        unit_text = ", ".join(sorted(set(units.values())))
        self.statusBar().showMessage(f"Exported to {path} ({unit_text})", 8000)
        return Path(path)

    # ================================================================== closing
    def confirm_quit(self) -> bool:
        """Ask before quitting while a job runs (Yes: cancel it and quit)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Quit poselab?",
                          f"{self.job.name} is still running. Cancel it and quit?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        self.quit_box = box
        return box.exec() == QMessageBox.StandardButton.Yes

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self.job.running:
            if not self.confirm_quit():
                event.ignore()
                return
            self.job.cancel()
        self.dataset.thumbs.cancel()
        if self.warm_up.running:  # let an import finish: a thread inside it at exit can crash
            from PySide6.QtCore import QThreadPool

            QThreadPool.globalInstance().waitForDone(30000)
        if self.doc is not None and self.doc.undo_stack.count():
            try:
                self.doc.save_now()
            except Exception as err:  # noqa: BLE001
                log.error("could not save edits: %s", err)
        self.log_panel.uninstall()
        super().closeEvent(event)


def _bind_load(path: Path, skeleton):
    def factory(cancel):
        return load_job(path, skeleton, cancel)

    return factory


