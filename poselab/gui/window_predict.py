"""File ▸ Predict 3D… of the main window (mixed into
:class:`~poselab.gui.main_window.MainWindow`): pick a trained run and new input in
:class:`~poselab.gui.dialogs.predict_dialog.PredictDialog`, run
:func:`poselab.gui.predict_job.predict_to_folder` as the window's job (child process, progress,
Cancel), then open its ``predicted.json`` like any collection — the student's 3D is the
"student" source of the 3D view and of File ▸ Export.

Recent runs (trained or opened here) are kept newest first in the window's ``QSettings`` under
``recent_runs`` (JSON); runs whose checkpoint has gone are dropped when listed.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import Slot

from poselab.gui.predict_job import (
    COLLECTION_FILE,
    PREDICTIONS_FILE,
    PredictRequest,
    RunInfo,
    describe_run,
    predict_to_folder,
)
from poselab.gui.workers import JobRunner

log = logging.getLogger(__name__)

MAX_RUNS = 12


def _in_process(target, *args, name: str):
    """A job factory running ``target(*args)`` in a child process when the window's jobs do
    (:data:`poselab.gui.job_functions.JOBS_IN_PROCESS`), else in the worker thread."""
    def factory(cancel):
        from poselab.core.process_job import run_in_process
        from poselab.gui import job_functions

        if not job_functions.JOBS_IN_PROCESS:
            return (yield from target(*args, cancel=cancel))
        return (yield from run_in_process(target, *args, cancel=cancel, name=name,
                                          niceness=job_functions.JOB_NICENESS))

    return factory


def _predict_job(req: PredictRequest):
    def factory(cancel):
        from poselab.core.lock import output_lock

        with output_lock(req.out_dir / PREDICTIONS_FILE):
            return (yield from _in_process(predict_to_folder, req, name="prediction")(cancel))

    return factory


class PredictMixin:
    """Predict 3D slots, recent runs and :meth:`start_predict` for tests and scripts."""

    # ================================================================== recent runs
    def recent_runs(self) -> list[RunInfo]:
        """Runs trained or opened in the GUI, newest first; missing checkpoints left out."""
        try:
            raw = json.loads(str(self.settings.value("recent_runs", "[]") or "[]"))
            runs = [RunInfo.from_dict(d) for d in raw]
        except (ValueError, TypeError, KeyError):
            log.warning("recent runs in the settings are unreadable; starting a new list")
            runs = []
        return [r for r in runs if r.checkpoint.is_file()]

    def add_recent_run(self, info: RunInfo) -> None:
        """Put ``info`` first in the recent runs (once)."""
        key = info.checkpoint.resolve()
        runs = [info, *(r for r in self.recent_runs() if r.checkpoint.resolve() != key)]
        self.settings.setValue("recent_runs",
                               json.dumps([r.to_dict() for r in runs[:MAX_RUNS]]))

    def _add_trained_run(self, train_result, student: str) -> None:
        from poselab.gui.predict_job import held_out_text

        doc_sk = self.doc.collection.skeleton if self.doc is not None else None
        history = list(getattr(train_result, "history", []) or [])
        self.add_recent_run(RunInfo(
            Path(train_result.checkpoint).resolve(), student, len(history),
            doc_sk.name if doc_sk else "", doc_sk.num_joints if doc_sk else 0,
            held_out_text(getattr(train_result, "metrics", None)
                          or (history[-1] if history else {}))))

    # ================================================================== dialog
    @Slot()
    def _on_predict_triggered(self) -> None:
        from poselab.gui.dialogs.predict_dialog import PredictDialog

        runs = self.recent_runs()
        dialog = PredictDialog(runs, self.dialog_dir(), self)
        dialog.browse_requested.connect(self.read_run)
        self.open_dialog(dialog, "predict_dialog", self._on_predict_dialog_accepted)
        # the student of the open data (trained earlier, reopened) joins the list once read
        ck = self.doc.checkpoint if self.doc is not None else None
        if ck is not None and Path(ck).is_file() and all(
                r.checkpoint.resolve() != Path(ck).resolve() for r in runs):
            self.read_run(str(ck))

    @Slot()
    def _on_predict_dialog_accepted(self) -> None:
        req = self.predict_dialog.request()
        if req is not None:
            self.start_predict(req)

    @Slot(str)
    def read_run(self, path: str) -> None:
        """Read a checkpoint (or run folder) in a worker; on success it joins the recent runs
        and the open Predict dialog lists and selects it."""
        if not hasattr(self, "run_reader"):
            self.run_reader = JobRunner(self)
            self.run_reader.finished.connect(self._on_run_reader_finished)
            self.run_reader.failed.connect(self._on_run_reader_failed)
        if self.run_reader.running:
            return
        self.run_reader.start("Read run", _in_process(describe_run, Path(path),
                                                      name="reading a run"), quiet=True)

    @Slot(object)
    def _on_run_reader_finished(self, info: object) -> None:
        self.add_recent_run(info)
        dialog = getattr(self, "predict_dialog", None)
        if dialog is not None and dialog.isVisible():
            dialog.add_run(info)

    @Slot(str)
    def _on_run_reader_failed(self, message: str) -> None:
        self.show_error("Not a trained run", message)

    # ================================================================== job
    def start_predict(self, req: PredictRequest, force: bool = False) -> None:
        """Run Predict 3D for ``req`` as the window's job; the outputs are checked first
        (:mod:`poselab.gui.output_check`: never over the input or the checkpoint)."""
        if self.job.running:
            self.show_error("Cannot predict", f"{self.job.name} is still running")
            return
        from poselab.gui.output_check import outputs_ok

        if not outputs_ok(self, "Predict 3D",
                          [(req.out_dir, True, (COLLECTION_FILE, PREDICTIONS_FILE))],
                          [req.checkpoint, req.input], force,
                          lambda: self.start_predict(req, force=True)):
            return
        self._job_kind = "predict"
        self._job_doc = None
        self.bottom_tabs.setCurrentWidget(self.job_panel)
        self.job.start("Predict 3D", _predict_job(req))
        self._update_actions()

    def _on_predict_finished(self, result) -> None:
        out_json, info = result
        self.add_recent_run(info)
        self.statusBar().showMessage(f"3D predicted with the {info.student} student; opening "
                                     f"{out_json}", 8000)
        self.open_path(out_json)
