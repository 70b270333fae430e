"""Long jobs of the main window: reconstruct (NRSfM), train a student, metrics, the demo, and
the torch warm-up. :class:`JobsMixin` holds the window's job slots: they start the progress
generators of :mod:`poselab.gui.job_functions` in a :class:`~poselab.gui.workers.JobRunner`
(STYLE.md §2) and show their results; the compute lives in ``poselab.nrsfm``,
``poselab.distill`` and ``poselab.metrics``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import Slot

from poselab.gui import job_functions
from poselab.gui.document import teacher_path
from poselab.gui.loading import student_path
from poselab.gui.workers import JobRunner

log = logging.getLogger(__name__)

#: Fields of the training form shown first (the rest under "Advanced settings").
TRAIN_MAIN = ("student", "preset", "epochs", "device", "depth_loss", "l1_weight", "batch_size",
              "lr", "val_fraction", "val_key")
NRSFM_MAIN = ("steps", "restarts", "batch_size", "lr", "sparsity", "camera_model",
              "bone_lengths", "device")
#: Unit of the student's predictions (``poselab.distill.predict``: camera frame, pixels).
STUDENT_UNITS = "px"


class JobsMixin:
    """The main window's job slots (mixed into :class:`~poselab.gui.main_window.MainWindow`,
    which owns the runners ``job``, ``metrics_runner`` and ``warm_up`` and the panels)."""

    @Slot()
    def _on_thumbs_stopped(self) -> None:
        """Once the first thumbnails are in, warm torch up in the background (once) — only when
        jobs run in this process. With :data:`~poselab.gui.job_functions.JOBS_IN_PROCESS` the
        GUI process never needs torch, and keeping it out matters: its ~280k Python objects
        made each full garbage collection stall the event loop for 200–250 ms (bench_gui.py
        part 2: spinning 3D view, p99 gap 46 → 16 ms and max 246 → 40 ms without torch
        loaded)."""
        import os
        import sys

        if (job_functions.JOBS_IN_PROCESS or "torch" in sys.modules or self.warm_up.running
                or getattr(self, "_warmed", False) or os.environ.get("POSELAB_NO_WARMUP")):
            return
        self._warmed = True
        self.warm_up.start("Warm-up", job_functions.warm_up_job, torch_threads=None, quiet=True)

    # ================================================================== reconstruct
    def _included_count(self) -> int:
        """Samples a job on the open collection would get (the excluded ones left out)."""
        import numpy as np

        return int((~np.asarray(self.doc.excluded, bool)).sum())

    def _included_missing(self) -> float:
        """Share of the landmarks of those samples that is unlabelled."""
        import numpy as np

        keep = ~np.asarray(self.doc.excluded, bool)
        observed = self.doc.collection.observed[keep]
        return float(1.0 - observed.mean()) if observed.size else 0.0

    @Slot()
    def _on_reconstruct_triggered(self) -> None:
        if self.doc is None:
            return
        from poselab.gui.dialogs.job_dialog import JobDialog
        from poselab.nrsfm import NRSfMConfig
        from poselab.nrsfm.articulation import rigid_wanted
        from poselab.nrsfm.estimate import describe_estimate

        n = self._included_count()
        skeleton = self.doc.collection.skeleton
        dialog = JobDialog(
            "Reconstruct (NRSfM)", NRSfMConfig,
            NRSfMConfig.for_samples(n, self._included_missing()), NRSFM_MAIN,
            parent=self, estimate=lambda config: describe_estimate(
                config, n, rigid_wanted(config.bone_lengths, skeleton, warn=False)))
        self.open_dialog(dialog, "job_dialog", self._on_reconstruct_dialog_accepted)

    @Slot()
    def _on_reconstruct_dialog_accepted(self) -> None:
        self.start_reconstruct(self.job_dialog.config())

    def start_reconstruct(self, config=None, force: bool = False) -> None:
        """Fit the teacher on the open collection in a worker (``config`` default: defaults).
        The output is checked first (:mod:`poselab.gui.output_check`); ``force``: the user
        confirmed replacing a protected file."""
        if self.doc is None or self.job.running:
            return
        from poselab.gui.preflight import check_reconstruct, job_inputs

        problem = check_reconstruct(self.doc.collection, self.doc.excluded)
        if problem:  # at once, not after a worker process has started
            self.show_error("Cannot reconstruct", problem)
            return
        if config is None:
            from poselab.nrsfm import NRSfMConfig

            config = NRSfMConfig.for_samples(self._included_count(), self._included_missing())
        self._job_rows, snapshot, _ = job_inputs(self.doc.collection, self.doc.excluded)
        out = teacher_path(self.doc.collection)
        from poselab.gui.output_check import outputs_ok

        if not outputs_ok(self, "Reconstruct (NRSfM)", [(out, False, ())],
                          [self.doc.collection.source], force,
                          lambda: self.start_reconstruct(config, force=True)):
            return
        self._job_kind = "reconstruct"
        self._job_doc = self.doc
        self.bottom_tabs.setCurrentWidget(self.job_panel)
        self.job.start("Reconstruct (NRSfM)",
                       job_functions.reconstruct_job(snapshot, config, out))
        self._update_actions()

    # ================================================================== train
    @Slot()
    def _on_train_triggered(self) -> None:
        if self.doc is None or self.doc.teacher is None:
            return
        from poselab.distill import TrainConfig
        from poselab.distill.estimate import describe_estimate
        from poselab.gui.dialogs.job_dialog import JobDialog

        n = len(self.doc.collection)
        dialog = JobDialog("Train student", TrainConfig, None, TRAIN_MAIN, resume=True,
                           default_checkpoint=self.doc.checkpoint, parent=self,
                           estimate=lambda config: describe_estimate(config, n))
        self.open_dialog(dialog, "job_dialog", self._on_train_dialog_accepted)

    @Slot()
    def _on_train_dialog_accepted(self) -> None:
        self.start_training(self.job_dialog.config(), self.job_dialog.resume_path())

    def student_dir(self) -> Path:
        tp = teacher_path(self.doc.collection)
        return tp.parent / (tp.name.replace("nrsfm.npz", "student").lstrip("."))

    def start_training(self, config=None, resume: Path | None = None,
                       force: bool = False) -> None:
        """Train a student from the teacher in a child process driven by a worker thread.
        The outputs are checked first (:mod:`poselab.gui.output_check`)."""
        if self.doc is None or self.doc.teacher is None or self.job.running:
            return
        if config is None:
            from poselab.distill import TrainConfig

            config = TrainConfig()
        from poselab.gui.preflight import check_train, job_inputs

        problem = check_train(self.doc.collection, self.doc.excluded, self.doc.teacher,
                              config.student, resume)
        if problem:  # at once, not after a worker process has started
            self.show_error("Cannot train", problem)
            return
        self._job_rows, snapshot, teacher = job_inputs(self.doc.collection, self.doc.excluded,
                                                       self.doc.teacher)
        tp = teacher_path(self.doc.collection)
        from poselab.distill.checkpoint import FILENAME as CKPT
        from poselab.gui.output_check import outputs_ok

        if not outputs_ok(self, "Train student",
                          [(self.student_dir(), True, (CKPT,)), (student_path(tp), False, ())],
                          [self.doc.collection.source, tp], force,
                          lambda: self.start_training(config, resume, force=True)):
            return
        self._job_kind = "train"
        self._job_doc = self.doc
        self._job_ids = list(snapshot.sample_ids)
        self._job_student = config.student
        self.bottom_tabs.setCurrentWidget(self.job_panel)
        self.job_panel.set_units_3d(self.doc.collection.units_3d)
        self.job.start("Train student",
                       job_functions.train_job(snapshot, teacher, config, self.student_dir(),
                                               resume, student_path(tp)))
        self._update_actions()

    # ================================================================== job outcome
    @Slot(object)
    def _on_job_finished(self, result: object) -> None:
        if self._job_kind == "predict":  # needs no open data: the result opens as new data
            self._on_predict_finished(result)
            return
        doc = getattr(self, "_job_doc", None)
        if doc is not self.doc or doc is None:
            log.info("job finished for data that is no longer open; result kept on disk")
            return
        if self._job_kind == "reconstruct":
            from poselab.nrsfm.device_choice import describe_choice

            doc.set_teacher(result)
            note = describe_choice(result.extra.get("device_choice"))
            self.statusBar().showMessage("Teacher reconstructed; saved to "
                                         f"{teacher_path(doc.collection)}"
                                         + (f" ({note})" if note else ""), 8000)
        elif self._job_kind == "train":
            train_result, pred = result
            self._add_trained_run(train_result, self._job_student)
            self.metrics_panel.set_run_scores(getattr(train_result, "metrics", None))
            doc.set_student(pred, Path(train_result.checkpoint), sample_ids=self._job_ids)
            self.statusBar().showMessage(f"Student trained: {train_result.checkpoint}", 8000)

    @Slot(str)
    def _on_job_failed(self, message: str) -> None:
        from poselab.gui.preflight import translate_error

        self.show_error(f"{self.job.name} failed",
                        translate_error(message, getattr(self, "_job_rows", None)))

    @Slot()
    def _on_job_cancelled(self) -> None:
        msg = f"{self.job.name} cancelled; nothing was saved"
        if getattr(self, "_job_kind", "") == "predict":
            msg = (f"{self.job.name} cancelled; no result was written (video frames already "
                   "extracted are kept and reused by the next run)")
        doc = getattr(self, "_job_doc", None)
        if getattr(self, "_job_kind", "") == "train" and doc is not None and doc is self.doc:
            from poselab.distill.checkpoint import FILENAME

            ckpt = self.student_dir() / FILENAME
            if ckpt.is_file():  # written after every finished epoch (poselab.distill.train)
                doc.checkpoint = ckpt
                msg = (f"{self.job.name} cancelled; the checkpoint of the last finished epoch "
                       f"is kept ({ckpt}) — Train student ▸ Resume from checkpoint continues "
                       "from it")
            else:
                msg = (f"{self.job.name} cancelled before its first epoch ended; no checkpoint "
                       "was saved")
        self.statusBar().showMessage(msg, 15000)
        self.job_panel.title.setText(msg)

    @Slot()
    def _on_job_stopped(self) -> None:
        self._update_actions()

    # ================================================================== results / metrics
    @Slot()
    def _on_doc_results_changed(self) -> None:
        self._show_3d()
        self._update_actions()
        self._start_metrics()

    def _start_metrics(self) -> None:
        doc = self.doc
        if doc is None:
            return
        sources = {k: v for k, v in doc.sources_3d().items() if k != "ground truth"}
        if not sources:
            self.metrics = None
            self.metrics_panel.set_result(None)
            self.dataset.set_disagreement(None)
            self.dataset.set_uncertainty(None)
            self.dataset.set_suspect_labels(None)
            return
        if self.metrics_runner.running:
            self._metrics_again = True
            return
        units = {"teacher": "px", "student": STUDENT_UNITS}
        self._metrics_doc = doc
        teacher = doc.teacher if hasattr(doc.teacher, "sample_ids") else None
        self.metrics_runner.start("Metrics",
                                  job_functions.metrics_job(doc.collection.copy(), sources, units,
                                                            teacher, doc.known_length),
                                  quiet=True)

    @Slot(object)
    def _on_metrics_finished(self, result: object) -> None:
        if getattr(self, "_metrics_doc", None) is not self.doc:
            return
        self.metrics = result
        self.metrics_panel.set_result(result)
        per = result.get("per_sample", {}).get("student", {}).get("disagreement_pct")
        self.dataset.labels["disagreement"] = "disagreement {:.3g} % of bone length"
        self.dataset.set_disagreement(per)
        q = result.get("quality")
        if q:
            from poselab.gui.widgets.metrics_panel import QUALITY_NAMES

            key = q["rank_by"]
            self.dataset.set_uncertainty(q["per_sample"][key],
                                         f"{QUALITY_NAMES[key].lower()} {{:.3g}} "
                                         f"{q['units'][key]}")
            self.dataset.set_suspect_labels(q["per_sample"].get("suspect_labels"))
        else:
            self.dataset.set_uncertainty(None)
            self.dataset.set_suspect_labels(None)
        self._show_3d()

    @Slot()
    def _on_metrics_stopped(self) -> None:
        if self._metrics_again:
            self._metrics_again = False
            self._start_metrics()

    # ================================================================== demo
    def open_demo(self) -> None:
        """Open the bundled demo collection, building it in a worker first if needed (a
        progress dialog appears when that takes more than half a second)."""
        if not hasattr(self, "demo_runner"):
            self.demo_runner = JobRunner(self)
            self.demo_runner.progressed.connect(self._on_demo_progressed)
            self.demo_runner.finished.connect(self._on_demo_finished)
            self.demo_runner.failed.connect(self._on_demo_failed)
            self.demo_runner.stopped.connect(self._on_demo_stopped)
            self.demo_dialog = None
        if self.demo_runner.running:
            return
        self._demo_t0 = time.perf_counter()
        self.statusBar().showMessage("Opening the demo…")
        self.demo_runner.start("Demo", job_functions.demo_job)

    @Slot(object)
    def _on_demo_progressed(self, rec: object) -> None:
        from PySide6.QtWidgets import QProgressDialog

        if self.demo_dialog is None and time.perf_counter() - self._demo_t0 > 0.5:
            d = QProgressDialog("Building the demo collection (first start only)…", "Cancel",
                                0, 1000, self)
            d.setWindowTitle("poselab demo")
            d.setMinimumDuration(0)
            d.canceled.connect(self.demo_runner.cancel)
            self.demo_dialog = d
            d.show()
        if self.demo_dialog is not None and getattr(rec, "total", 0):
            self.demo_dialog.setValue(int(1000 * rec.fraction))
            if getattr(rec, "message", ""):
                self.demo_dialog.setLabelText(rec.message)

    @Slot(object)
    def _on_demo_finished(self, folder: object) -> None:
        self.open_path(Path(folder))

    @Slot(str)
    def _on_demo_failed(self, message: str) -> None:
        self.show_error("Could not open the demo", message)

    @Slot()
    def _on_demo_stopped(self) -> None:
        if self.demo_dialog is not None:
            self.demo_dialog.close()
            self.demo_dialog = None
