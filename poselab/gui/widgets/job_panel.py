"""Job panel: progress bar, ETA, Cancel, and live loss / metric curves of the running job.

It listens to a :class:`~poselab.gui.workers.JobRunner`. ``Progress`` records of kind
``"step"`` add their values to the loss plot (x = step); records of kind ``"epoch"`` add their
evaluation metrics to the metrics plot (x = epoch): ``student_*`` solid and ``teacher_*`` dashed
in the same colour, so teacher and student compare over epochs.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from poselab.core.progress import Progress
from poselab.gui.widgets.plots import CurvePlotWidget

#: Progress values that are not curves (bookkeeping).
SKIPPED = frozenset({"samples_per_s", "lr", "epoch", "step", "restart"})


def format_eta(seconds: float | None) -> str:
    """``"ETA 1 min 05 s"`` style text; empty when unknown."""
    if seconds is None:
        return ""
    s = int(round(seconds))
    if s >= 3600:
        return f"ETA {s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"ETA {s // 60} min {s % 60:02d} s"
    return f"ETA {s} s"


class JobPanel(QWidget):
    """Progress of one job at a time; ``cancel_button`` is wired by the owner to the runner."""

    def __init__(self, runner, parent=None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.title = QLabel("No job running")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.eta_label = QLabel("")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.loss_plot = CurvePlotWidget("Losses", "step")  # linear: log axes crowd their labels
        self.metric_plot = CurvePlotWidget("Metrics per epoch", "epoch")
        row = QHBoxLayout()
        row.addWidget(self.title, 1)
        row.addWidget(self.eta_label)
        row.addWidget(self.cancel_button)
        self.plots = plots = QSplitter()
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.metric_plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.bar)
        layout.addWidget(plots, 1)
        self.metric_plot.hide()
        self._last_eta = 0.0
        self.last_record: Progress | None = None
        runner.started.connect(self._on_runner_started)
        runner.progressed.connect(self._on_runner_progressed)
        runner.stopped.connect(self._on_runner_stopped)
        runner.finished.connect(self._on_runner_finished)
        runner.cancelled.connect(self._on_runner_cancelled)
        runner.failed.connect(self._on_runner_failed)
        self.cancel_button.clicked.connect(runner.cancel)

    def reset(self) -> None:
        """Back to "no job" (new data opened)."""
        self.title.setText("No job running")
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.eta_label.setText("")
        self.loss_plot.clear_curves()
        self.metric_plot.clear_curves()
        self.loss_plot.setTitle("Losses", color="k", size="10pt")
        self.metric_plot.hide()
        self.last_record = None

    @Slot(str)
    def _on_runner_started(self, name: str) -> None:
        self.title.setText(f"{name}: starting…")
        self.bar.setValue(0)
        self.bar.setRange(0, 0)  # busy until the first record gives a total
        self.eta_label.setText("")
        self.cancel_button.setEnabled(True)
        self.loss_plot.clear_curves()
        self.metric_plot.clear_curves()
        self.metric_plot.hide()  # shown when the first per-epoch record arrives
        self.loss_plot.setTitle(f"{name}: losses", color="k", size="10pt")
        self.metric_plot.setTitle(f"{name}: metrics per epoch", color="k", size="10pt")

    @Slot(object)
    def _on_runner_progressed(self, rec: object) -> None:
        if not isinstance(rec, Progress):
            return
        self.last_record = rec
        if rec.total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * rec.fraction))
        if rec.kind in ("step", "epoch"):
            epoch = rec.kind == "epoch"
            plot = self.metric_plot if epoch else self.loss_plot
            if epoch and not self.metric_plot.isVisible():
                self.metric_plot.show()
                half = max(self.plots.width() // 2, 1)
                self.plots.setSizes([half, half])
            x = float(rec.values.get("epoch", rec.step)) if epoch else rec.step
            # with ground truth the record has student_* and teacher_* scores: plot those
            compared = epoch and any(k.startswith("student_") for k in rec.values)
            for name, value in rec.values.items():
                if name in SKIPPED or (epoch and name.startswith("train_")):
                    continue  # per-step losses are on the loss plot already
                if compared and not name.startswith(("student_", "teacher_")):
                    continue  # with ground truth: only the teacher vs student metrics
                try:
                    plot.add_point(name, x, float(value))
                except (TypeError, ValueError):
                    pass
        now = time.perf_counter()
        if now - self._last_eta > 0.25:
            self._last_eta = now
            self.eta_label.setText(format_eta(rec.eta_s))
            msg = rec.message or f"{rec.stage} {rec.step}/{rec.total or '?'}"
            self.title.setText(f"{self.runner.name}: {msg}")

    @Slot()
    def _on_runner_stopped(self) -> None:
        self.cancel_button.setEnabled(False)
        self.bar.setRange(0, 1000)

    @Slot(object)
    def _on_runner_finished(self, _result: object) -> None:
        self.bar.setValue(1000)
        self.eta_label.setText("")
        self.title.setText(f"{self.runner.name}: done")

    @Slot()
    def _on_runner_cancelled(self) -> None:
        self.eta_label.setText("")
        self.title.setText(f"{self.runner.name}: cancelled")

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        self.eta_label.setText("")
        self.title.setText(f"{self.runner.name}: failed — {message}")
