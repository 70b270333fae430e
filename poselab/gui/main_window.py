"""The poselab main window (DESIGN §1): browse, annotate, reconstruct, train, compare, predict,
export.

Layout: dataset panel (left dock), image view (centre), 3D view + metrics (right dock), job
panel and log (bottom tabs), status bar. This module builds the layout and owns the runners;
each concept is a mixin of its own module: actions and menus (:mod:`~poselab.gui.window_actions`),
opening (:mod:`~poselab.gui.window_open`), browsing and editing
(:mod:`~poselab.gui.window_browse`), export (:mod:`~poselab.gui.window_export`), File ▸ Predict
3D (:mod:`~poselab.gui.window_predict`), the long jobs (:mod:`~poselab.gui.jobs`) and the tools
(:mod:`~poselab.gui.window_tools`). Every long job runs in a
:class:`~poselab.gui.workers.JobRunner`; slots only start jobs and show their results
(STYLE.md §2, PLATFORM.md).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
)

from poselab.gui.document import Document
from poselab.gui.jobs import JobsMixin
from poselab.gui.widgets.dataset_panel import DatasetPanel
from poselab.gui.widgets.image_view import ImageViewWidget
from poselab.gui.widgets.job_panel import JobPanel
from poselab.gui.widgets.log_panel import LogPanel
from poselab.gui.widgets.metrics_panel import MetricsPanel
from poselab.gui.widgets.view3d import View3DWidget
from poselab.gui.window_actions import ActionsMixin
from poselab.gui.window_browse import BrowseMixin
from poselab.gui.window_export import ExportMixin
from poselab.gui.window_open import OpeningMixin
from poselab.gui.window_predict import PredictMixin
from poselab.gui.window_tools import ToolsMixin
from poselab.gui.workers import JobRunner

log = logging.getLogger(__name__)


class MainWindow(ActionsMixin, OpeningMixin, BrowseMixin, ExportMixin, PredictMixin, ToolsMixin,
                 JobsMixin, QMainWindow):
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


    def open_dialog(self, dialog: QDialog, name: str, on_accepted, on_rejected=None) -> QDialog:
        """Open ``dialog`` window-modal without blocking, keep it as attribute ``name`` (tests
        drive it there) and connect its outcome to the given slots."""
        setattr(self, name, dialog)
        dialog.accepted.connect(on_accepted)
        if on_rejected is not None:
            dialog.rejected.connect(on_rejected)
        dialog.open()
        return dialog

    def show_error(self, title: str, message: str) -> None:
        """Non-blocking error dialog (kept in :attr:`error_box` for tests)."""
        log.error("%s: %s", title, message)
        self.last_error = message
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok,
                          self)
        self.error_box = box
        box.open()

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

