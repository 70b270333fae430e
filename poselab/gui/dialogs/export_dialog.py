"""Export dialog: which 3D source, which format, which samples, where.

The dialog only collects choices (:class:`ExportChoice`); the window writes the file with
``poselab.io.export_csv`` / ``export_json`` (DESIGN §8 layout, atomic).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True)
class ExportChoice:
    """What to export: ``sources`` (names of 3D sources), ``fmt`` ("csv" | "json"),
    ``selected_only`` (only the selected sample), ``path`` (output file)."""

    sources: tuple[str, ...]
    fmt: str
    selected_only: bool
    path: Path


class ExportDialog(QDialog):
    """Radio buttons for source / format / samples and an output path."""

    def __init__(self, available: list[str], default_dir: Path, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export 3D poses")
        self.available = available
        self.default_dir = Path(default_dir)
        options = []
        if "teacher" in available:
            options.append(("Teacher (NRSfM)", ("teacher",)))
        if "student" in available:
            options.append(("Student", ("student",)))
        if "teacher" in available and "student" in available:
            options.append(("Both", ("teacher", "student")))
        if "ground truth" in available:
            options.append(("Ground truth", ("ground truth",)))
        self.source_buttons = self._group([o[0] for o in options])
        self._source_values = [o[1] for o in options]
        self.format_buttons = self._group(["CSV", "JSON"])
        self.sample_buttons = self._group(["All samples", "Selected sample"])
        self.path_edit = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Source", self._row(self.source_buttons))
        form.addRow("Format", self._row(self.format_buttons))
        form.addRow("Samples", self._row(self.sample_buttons))
        form.addRow("File", path_row)
        self.error = QLabel("" if options else "Nothing to export yet: reconstruct first.")
        self.error.setStyleSheet("color: #b00")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.format_buttons.idToggled.connect(self._on_format_toggled)
        self.source_buttons.idToggled.connect(self._on_format_toggled)
        self._choice: ExportChoice | None = None
        self._update_path()

    def _group(self, labels: list[str]) -> QButtonGroup:
        group = QButtonGroup(self)
        for k, text in enumerate(labels):
            b = QRadioButton(text)
            group.addButton(b, k)
            if k == 0:
                b.setChecked(True)
        return group

    @staticmethod
    def _row(group: QButtonGroup) -> QWidget:
        w = QWidget()
        row = QHBoxLayout(w)
        row.setContentsMargins(0, 0, 0, 0)
        for b in group.buttons():
            row.addWidget(b)
        row.addStretch(1)
        return w

    # ------------------------------------------------------------------ choices
    def set_choice(self, source: int = 0, fmt: str = "csv", selected_only: bool = False,
                   path: Path | None = None) -> None:
        """Set the controls programmatically (tests, scripts)."""
        self.source_buttons.button(source).setChecked(True)
        self.format_buttons.button(0 if fmt == "csv" else 1).setChecked(True)
        self.sample_buttons.button(1 if selected_only else 0).setChecked(True)
        if path is not None:
            self.path_edit.setText(str(path))
        else:
            self._update_path()

    def choice(self) -> ExportChoice | None:
        """The choice after the dialog was accepted."""
        return self._choice

    def current_choice(self) -> ExportChoice | None:
        sid = self.source_buttons.checkedId()
        if sid < 0 or not self._source_values:
            return None
        fmt = "csv" if self.format_buttons.checkedId() == 0 else "json"
        return ExportChoice(self._source_values[sid], fmt, self.sample_buttons.checkedId() == 1,
                            Path(self.path_edit.text().strip()))

    def _update_path(self) -> None:
        c = self.current_choice()
        if c is None:
            return
        stem = "_".join(s.replace(" ", "_") for s in c.sources)
        self.path_edit.setText(str(self.default_dir / f"poses_3d_{stem}.{c.fmt}"))

    def _on_format_toggled(self, _id: int, checked: bool) -> None:
        if checked:
            self._update_path()

    def _on_browse_clicked(self) -> None:
        c = self.current_choice()
        filt = "CSV (*.csv)" if c is None or c.fmt == "csv" else "JSON (*.json)"
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path_edit.text(), filt)
        if path:
            self.path_edit.setText(path)

    def _on_buttons_accepted(self) -> None:
        c = self.current_choice()
        if c is None:
            self.error.setText("Nothing to export yet: reconstruct first.")
            return
        if not c.path.name:
            self.error.setText("Choose an output file.")
            return
        self._choice = c
        self.accept()
