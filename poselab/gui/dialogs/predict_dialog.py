"""File ▸ Predict 3D…: choose a trained run, new input, device; gives a
:class:`~poselab.gui.predict_job.PredictRequest` (the GUI's ``poselab predict``).

The run comes from the recent runs (trained or opened in the GUI, newest first) or from
Browse… (a ``checkpoint.pt`` or its run folder; the window reads it in a worker and calls
:meth:`PredictDialog.add_run`). The dialog says which inputs the chosen student accepts: image
students take a folder of unlabelled images, a video or a 2D file with images; a 2D lifter only
a 2D landmarks file (DeepLabCut, SLEAP, COCO…).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from poselab.gui.dialogs.buttons import ok_cancel_row
from poselab.gui.predict_job import INPUT_KINDS, PredictRequest, RunInfo, accepted_inputs

DEVICES = ("auto", "cpu", "cuda")


def default_out_dir(input_path: Path, student: str) -> Path:
    """``<input folder>/<input stem>_predict_<student>``: beside the input, never inside it."""
    stem = input_path.name.split(".")[0] or "input"
    return input_path.parent / f"{stem}_predict_{student}"


class PredictDialog(QDialog):
    """Run, input, output folder, device and batch size; :meth:`request` gives the choice.

    Signals:
        browse_requested(str): the user picked a checkpoint or run folder to be read.
    """

    browse_requested = Signal(str)

    def __init__(self, runs: list[RunInfo], start_dir: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Predict 3D")
        self.start_dir = start_dir
        self.runs = QListWidget()
        self.runs.setMinimumHeight(110)
        browse_run = QPushButton("Browse…")
        browse_run.setToolTip("A checkpoint.pt or the run folder holding it")
        browse_run.clicked.connect(self._on_browse_run_clicked)
        self.kind = QComboBox()
        for key, text in INPUT_KINDS.items():
            self.kind.addItem(text, key)
        self.accepts = QLabel("")
        self.accepts.setWordWrap(True)
        self.input_edit = QLineEdit()
        self.input_edit.setPlaceholderText("folder, video or 2D file")
        browse_input = QPushButton("Browse…")
        browse_input.clicked.connect(self._on_browse_input_clicked)
        self.every = QSpinBox()
        self.every.setRange(1, 10000)
        self.every.setSuffix(" frames")
        self.every.setToolTip("Keep every k-th frame of the video (1: all)")
        self.out_edit = QLineEdit()
        self.out_edit.setPlaceholderText("output folder (default: beside the input)")
        self.device = QComboBox()
        self.device.addItems(DEVICES)
        self.batch = QSpinBox()
        self.batch.setRange(0, 4096)
        self.batch.setSpecialValueText("default")
        form = QFormLayout()
        form.addRow("Input kind", self.kind)
        form.addRow("", self.accepts)
        form.addRow("Input", _row(self.input_edit, browse_input))
        form.addRow("Every k-th frame", self.every)
        form.addRow("Output folder", self.out_edit)
        form.addRow("Device", self.device)
        form.addRow("Batch size", self.batch)
        self.error, buttons = ok_cancel_row(self, self._on_buttons_accepted)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Trained run</b> (recent runs, newest first)"))
        layout.addWidget(self.runs)
        layout.addLayout(_row(QLabel("Not listed?"), browse_run))
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(620, 480)
        self.runs.currentRowChanged.connect(self._on_runs_row_changed)
        self.kind.currentIndexChanged.connect(self._on_kind_changed)
        self.input_edit.textChanged.connect(self._on_input_changed)
        for info in runs:
            self.add_run(info, select=False)
        if self.runs.count():
            self.runs.setCurrentRow(0)
        self._on_runs_row_changed(self.runs.currentRow())
        self._out_auto = True
        self.out_edit.textEdited.connect(self._on_out_edited)
        self._request: PredictRequest | None = None

    # ------------------------------------------------------------------ API
    def add_run(self, info: RunInfo, select: bool = True) -> None:
        """List ``info`` (first when ``select``; a run listed already moves there)."""
        for row in range(self.runs.count()):
            if self.runs.item(row).data(256).checkpoint == info.checkpoint:
                self.runs.takeItem(row)
                break
        item = QListWidgetItem(f"{info.describe()}\n{info.checkpoint}")
        item.setData(256, info)  # Qt.UserRole
        if select:
            self.runs.insertItem(0, item)
            self.runs.setCurrentRow(0)
        else:
            self.runs.addItem(item)

    def current_run(self) -> RunInfo | None:
        item = self.runs.currentItem()
        return None if item is None else item.data(256)

    def set_input(self, kind: str, path: str | Path, every: int = 1) -> None:
        """Set the input controls (tests, scripts)."""
        self.kind.setCurrentIndex(self.kind.findData(kind))
        self.input_edit.setText(str(path))
        self.every.setValue(every)

    def request(self) -> PredictRequest | None:
        """The job to run, after OK."""
        return self._request

    # ------------------------------------------------------------------ slots
    def _on_runs_row_changed(self, _row: int) -> None:
        info = self.current_run()
        allowed = accepted_inputs(info.student) if info else tuple(INPUT_KINDS)
        model = self.kind.model()
        for i in range(self.kind.count()):
            model.item(i).setEnabled(self.kind.itemData(i) in allowed)
        if self.kind.currentData() not in allowed:
            self.kind.setCurrentIndex(self.kind.findData(allowed[0]))
        names = ", ".join(INPUT_KINDS[k] for k in allowed)
        self.accepts.setText(f"<small>A {info.student} student accepts: {names}.</small>"
                             if info else "<small>Choose a trained run first.</small>")
        self._update_out()

    def _on_kind_changed(self, _index: int) -> None:
        self.every.setEnabled(self.kind.currentData() == "video")

    def _on_input_changed(self, _text: str) -> None:
        self._update_out()

    def _on_out_edited(self, _text: str) -> None:
        self._out_auto = False

    def _update_out(self) -> None:
        info, text = self.current_run(), self.input_edit.text().strip()
        if getattr(self, "_out_auto", True) and info is not None and text:
            self.out_edit.setText(str(default_out_dir(Path(text), info.student)))

    def _on_browse_run_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Trained run", self.start_dir,
                                              "Student checkpoint (*.pt);;All files (*)")
        if path:
            self.browse_requested.emit(path)

    def _on_browse_input_clicked(self) -> None:
        kind = self.kind.currentData()
        if kind == "images":
            path = QFileDialog.getExistingDirectory(self, "Folder of images", self.start_dir)
        else:
            pattern = ("Videos (*.mp4 *.avi *.mov *.mkv *.webm)" if kind == "video" else
                       "2D landmarks (*.json *.csv *.h5 *.slp *.npz *.yaml)")
            path, _ = QFileDialog.getOpenFileName(self, "Input", self.start_dir,
                                                  f"{pattern};;All files (*)")
        if path:
            self.input_edit.setText(path)

    def _on_buttons_accepted(self) -> None:
        info = self.current_run()
        text = self.input_edit.text().strip()
        kind = self.kind.currentData()
        if info is None:
            self.error.setText("choose a trained run (or Browse… for a checkpoint)")
            return
        if kind not in accepted_inputs(info.student):
            self.error.setText(f"a {info.student} student cannot use a {INPUT_KINDS[kind]}")
            return
        if not text or not Path(text).exists():
            self.error.setText(f"input not found: {text or '(none)'}")
            return
        out = self.out_edit.text().strip() or str(default_out_dir(Path(text), info.student))
        self._request = PredictRequest(info.checkpoint, Path(text), kind, Path(out),
                                       every=self.every.value(),
                                       device=self.device.currentText(),
                                       batch_size=self.batch.value() or None)
        self.accept()


def _row(*widgets) -> QHBoxLayout:
    """The widgets side by side, the first one stretched."""
    row = QHBoxLayout()
    for k, w in enumerate(widgets):
        row.addWidget(w, 1 if k == 0 else 0)
    return row
