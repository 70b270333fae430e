"""Job panel: progress bar, ETA, Cancel, and live loss / metric curves of the running job.

It listens to a :class:`~poselab.gui.workers.JobRunner`. ``Progress`` records of kind
``"step"`` add their values to the loss plot (x = step); records of kind ``"epoch"`` add their
evaluation metrics to a metrics plot (x = epoch): each score on the training samples
("train (seen)", solid) and on the held-out samples ("held-out", dashed, same colour), with the
sample counts above the plots (:mod:`poselab.gui.widgets.epoch_metrics`); with ground truth
only the ``student_*`` and ``teacher_*`` scores. Metrics of different units never
share an axis: one plot per unit (:func:`metric_unit`: ``*_px`` pixels, MPJPE-like errors in the
ground truth's unit, costs without unit). Records of stage ``"history"`` (a resumed run's earlier
epochs, read from its checkpoint) are drawn like live epochs.

The progress bar draws no text (its percentage went under the style's chunk, "5(%"); the title
label above it says stage, step / total and percent, with the *same* step count as the plots'
x axis (NRSfM restarts restart their own step counter; the axis does not).
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
from poselab.gui.widgets.epoch_metrics import (
    counts_text,
    curve_name,
    split_scores,
)
from poselab.gui.widgets.plots import CurvePlotWidget

#: Progress values that are not curves (bookkeeping).
SKIPPED = frozenset({"samples_per_s", "lr", "epoch", "step", "restart"})
#: Metrics measured in the ground truth's 3D unit (mm), with or without a teacher_/student_ prefix.
GT_UNIT_METRICS = frozenset({"mpjpe", "pa_mpjpe", "depth_error", "mpjpe_unscaled", "n_mpjpe"})


def metric_unit(name: str, units_3d: str = "mm") -> str:
    """The unit of a per-epoch metric by name: ``"px"`` for ``*_px``, ``units_3d`` for
    MPJPE-like errors, ``""`` (no unit) for costs and ratios."""
    base = name.removeprefix("teacher_").removeprefix("student_")
    if base.endswith("_px"):
        return "px"
    if base in GT_UNIT_METRICS:
        return units_3d
    return ""


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
        self.bar.setTextVisible(False)  # the percentage is in the title (no text over the bar)
        self.eta_label = QLabel("")
        self.counts_label = QLabel("")
        self.counts_label.setWordWrap(True)
        self.last_epoch_scores: dict | None = None
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.loss_plot = CurvePlotWidget("Losses", "step")  # linear: log axes crowd their labels
        #: one per-epoch plot per unit (``""`` = no unit), made when a metric of it arrives
        self.metric_plots: dict[str, CurvePlotWidget] = {}
        self.units_3d = "mm"
        row = QHBoxLayout()
        row.addWidget(self.title, 1)
        row.addWidget(self.eta_label)
        row.addWidget(self.cancel_button)
        self.plots = plots = QSplitter()
        plots.addWidget(self.loss_plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.bar)
        layout.addWidget(self.counts_label)
        layout.addWidget(plots, 1)
        self._title_prefix = ""
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
        self._clear_metric_plots()
        self.loss_plot.setTitle("Losses")
        self.last_record = None
        self.counts_label.setText("")
        self.last_epoch_scores = None

    def set_units_3d(self, units: str) -> None:
        """The ground truth's 3D unit (for MPJPE-like epoch metrics), e.g. ``"mm"``."""
        self.units_3d = units or "mm"

    def metric_plot(self, unit: str) -> CurvePlotWidget:
        """The per-epoch plot of ``unit`` (created and shown on first use)."""
        plot = self.metric_plots.get(unit)
        if plot is None:
            label = f"{unit}" if unit else "no unit"
            plot = CurvePlotWidget(f"{self.runner.name}: metrics per epoch ({label})", "epoch",
                                   unit=unit)
            self.metric_plots[unit] = plot
            self.plots.addWidget(plot)
            n = self.plots.count()
            w = max(self.plots.width() // n, 1)
            self.plots.setSizes([w] * n)
        return plot

    def metric_data(self) -> dict[str, tuple[list[float], list[float]]]:
        """Every per-epoch curve of every unit, by name."""
        out: dict = {}
        for plot in self.metric_plots.values():
            out.update(plot.data)
        return out

    def _clear_metric_plots(self) -> None:
        for plot in self.metric_plots.values():
            plot.hide()
            plot.setParent(None)
            plot.deleteLater()
        self.metric_plots.clear()

    @Slot(str)
    def _on_runner_started(self, name: str) -> None:
        self.title.setText(f"{name}: starting…")
        self.bar.setValue(0)
        self.bar.setRange(0, 0)  # busy until the first record gives a total
        self.eta_label.setText("")
        self.cancel_button.setEnabled(True)
        self.loss_plot.clear_curves()
        self._clear_metric_plots()  # made when the first per-epoch record arrives
        self.counts_label.setText("")
        self.last_epoch_scores = None
        self.loss_plot.setTitle(f"{name}: losses")

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
            x = float(rec.values.get("epoch", rec.step)) if epoch else rec.step
            if epoch:
                self._add_epoch(x, rec.values)
            else:
                for name, value in rec.values.items():
                    if name in SKIPPED or name.startswith("phase_"):
                        continue
                    try:
                        self.loss_plot.add_point(name, x, float(value))
                    except (TypeError, ValueError):
                        continue
        now = time.perf_counter()
        if now - self._last_eta > 0.25 or rec.kind in ("info", "epoch"):
            self._last_eta = now
            self.eta_label.setText(format_eta(rec.eta_s))
            self.title.setText(f"{self.runner.name}: {self.status_text(rec)}")

    def _add_epoch(self, x: float, values: dict) -> None:
        """One epoch's scores, on training and held-out samples, on the per-unit plots."""
        scores = split_scores(values)
        # with ground truth the record has student_* and teacher_* scores: plot only those
        if any(s.startswith("student_") for s in scores):
            scores = {s: v for s, v in scores.items() if s.startswith(("student_", "teacher_"))}
        for score, by_split in scores.items():
            plot = self.metric_plot(metric_unit(score, self.units_3d))
            for split, v in by_split.items():
                plot.add_point(curve_name(split, score), x, v)
        counts = counts_text(values)
        if counts:
            self.counts_label.setText(f"Scores per epoch on {counts} (held-out: dashed, never "
                                      "seen by the optimiser)")
        if scores:
            self.last_epoch_scores = dict(values)

    @staticmethod
    def status_text(rec: Progress) -> str:
        """One line for a record: stage, step / total (the plots' x axis) and percent; the
        record's message for info records and for jobs without a step count."""
        if rec.kind == "info" or rec.total <= 0:
            return rec.message or rec.stage
        text = f"{rec.stage} — step {rec.step}/{rec.total} ({100 * rec.fraction:.0f} %)"
        if rec.kind == "epoch" and rec.message:
            text = f"{rec.message} — step {rec.step}/{rec.total} ({100 * rec.fraction:.0f} %)"
        elif "loss" in rec.values:
            text += f", loss {float(rec.values['loss']):.4g}"
        return text

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
