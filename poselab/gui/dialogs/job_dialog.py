"""Settings dialog for a long job: a form built from its config dataclass (NRSfM, training).

For training it also offers *Resume from checkpoint* (a ``.pt`` file) and applies the config's
presets when the preset choice changes (``PRESET_VALUES`` of the config's module).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
)

from poselab.core.errors import PoselabError
from poselab.gui.widgets.config_form import ConfigForm


class JobDialog(QDialog):
    """A config form with OK/Cancel; optional resume-from-checkpoint row.

    Args:
        title: window title.
        config_cls: the config dataclass (``NRSfMConfig``, ``TrainConfig``).
        initial: the starting values (or None for the defaults).
        main: field names shown first (the rest under "Advanced settings").
        resume: offer a checkpoint chooser for resuming training.
        default_checkpoint: pre-filled checkpoint path for resuming.
        estimate: ``config → str`` (e.g. the estimated duration), shown above the buttons and
            updated as the form changes; None shows nothing.
    """

    def __init__(self, title: str, config_cls, initial=None, main: tuple[str, ...] = (),
                 resume: bool = False, default_checkpoint: Path | None = None,
                 parent=None, estimate=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(460, 560)
        self.form = ConfigForm(config_cls, initial, main)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        self.resume_box = QCheckBox("Resume from checkpoint")
        self.resume_edit = QLineEdit("" if default_checkpoint is None else str(default_checkpoint))
        if resume:
            browse = QPushButton("Browse…")
            browse.clicked.connect(self._on_browse_clicked)
            row = QHBoxLayout()
            row.addWidget(self.resume_box)
            row.addWidget(self.resume_edit, 1)
            row.addWidget(browse)
            layout.addLayout(row)
        self.estimate_label = QLabel("")
        self._estimate = estimate
        if estimate is not None:
            layout.addWidget(self.estimate_label)
            self.form.changed.connect(self._on_form_changed)
            self._on_form_changed()
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b00")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start")
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._config = None
        preset = self.form.editors.get("preset")
        self._presets = getattr(sys.modules.get(config_cls.__module__), "PRESET_VALUES", None)
        if preset is not None and self._presets:
            preset.currentTextChanged.connect(self._on_preset_changed)

    def config(self):
        """The validated config (after the dialog was accepted)."""
        return self._config

    def resume_path(self) -> Path | None:
        """The checkpoint to resume from, or None."""
        text = self.resume_edit.text().strip()
        return Path(text) if self.resume_box.isChecked() and text else None

    def _on_form_changed(self) -> None:
        try:
            self.estimate_label.setText(self._estimate(self.form.config()))
        except (PoselabError, TypeError, ValueError):
            self.estimate_label.setText("")

    def _on_preset_changed(self, name: str) -> None:
        values = self._presets.get(name)
        if values:
            self.form.set_values(values)

    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Checkpoint", self.resume_edit.text(),
                                              "Checkpoints (*.pt)")
        if path:
            self.resume_edit.setText(path)
            self.resume_box.setChecked(True)

    def _on_buttons_accepted(self) -> None:
        try:
            self._config = self.form.config()
        except (PoselabError, TypeError, ValueError) as err:
            self.error.setText(str(err))
            return
        if self.resume_box.isChecked() and not (self.resume_path() or Path()).is_file():
            self.error.setText("choose an existing checkpoint (.pt) to resume from")
            return
        self.accept()
