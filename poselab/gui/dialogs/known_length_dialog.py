"""State one known length (mm) of the open data set: the subject's height or the distance
between two landmarks (a bone, e.g. shoulder width). With it the 3D is shown and exported in mm
(:mod:`poselab.core.metric_scale`); "No known length" goes back to relative units."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
)

from poselab.core.metric_scale import KnownLength
from poselab.gui.dialogs.buttons import ok_cancel_row

KINDS = ("Between two landmarks (e.g. a bone)", "Subject height (largest landmark distance)",
         "No known length (relative units)")


class KnownLengthDialog(QDialog):
    """Kind, two landmarks and a length in mm; :meth:`known_length` gives the choice."""

    def __init__(self, skeleton, current: KnownLength | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Known length")
        names = list(skeleton.joint_names)
        self.kind = QComboBox()
        self.kind.addItems(KINDS)
        self.a, self.b = QComboBox(), QComboBox()
        self.a.addItems(names)
        self.b.addItems(names)
        if skeleton.bones:
            self.a.setCurrentIndex(skeleton.bones[0][0])
            self.b.setCurrentIndex(skeleton.bones[0][1])
        elif len(names) > 1:
            self.b.setCurrentIndex(1)
        self.mm = QDoubleSpinBox()
        self.mm.setRange(0.1, 100000.0)
        self.mm.setDecimals(1)
        self.mm.setSuffix(" mm")
        self.mm.setValue(300.0)
        if current is not None:
            self.mm.setValue(current.mm)
            if current.joints is None:
                self.kind.setCurrentIndex(1)
            else:
                self.a.setCurrentText(current.joints[0])
                self.b.setCurrentText(current.joints[1])
        form = QFormLayout()
        form.addRow("Known", self.kind)
        form.addRow("From", self.a)
        form.addRow("To", self.b)
        form.addRow("Length", self.mm)
        self.error, buttons = ok_cancel_row(self, self._on_buttons_accepted)
        layout = QVBoxLayout(self)
        intro = QLabel("One length you know for this data set, e.g. the shoulder width or the "
                       "subject's height. The 3D of every sample is scaled so that it measures "
                       "this length; with camera intrinsics the depth is absolute too.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.resize(440, 260)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.kind.currentIndexChanged.connect(self._on_kind_changed)
        self._on_kind_changed(self.kind.currentIndex())
        self._known: KnownLength | None = None

    def set_choice(self, mm: float | None, joints: tuple[str, str] | None = None) -> None:
        """Set the controls (tests, scripts): ``mm=None`` = no known length."""
        if mm is None:
            self.kind.setCurrentIndex(2)
            return
        self.kind.setCurrentIndex(1 if joints is None else 0)
        if joints is not None:
            self.a.setCurrentText(joints[0])
            self.b.setCurrentText(joints[1])
        self.mm.setValue(mm)

    def known_length(self) -> KnownLength | None:
        """The stated length after OK (None: relative units)."""
        return self._known

    def _on_kind_changed(self, k: int) -> None:
        self.a.setEnabled(k == 0)
        self.b.setEnabled(k == 0)
        self.mm.setEnabled(k != 2)

    def _on_buttons_accepted(self) -> None:
        k = self.kind.currentIndex()
        if k == 2:
            self._known = None
        elif k == 1:
            self._known = KnownLength(self.mm.value())
        else:
            if self.a.currentIndex() == self.b.currentIndex():
                self.error.setText("choose two different landmarks")
                return
            self._known = KnownLength(self.mm.value(), (self.a.currentText(),
                                                        self.b.currentText()))
        self.accept()
