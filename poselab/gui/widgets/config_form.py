"""A form built from a config dataclass's field metadata (``poselab.core.config.hint``).

Works for any frozen ``ConfigBase`` dataclass (``TrainConfig``, ``NRSfMConfig``): each field
becomes an editor chosen from its type and hints — choices → combo box, bool → check box, int
with a range → spin box, float → spin box with a range (scientific-looking values in a text
box), anything else → text box. The label, unit and help text come from the hint. Fields named
in ``main`` come first; the rest go into a collapsible "Advanced" section. ``config()`` builds
the dataclass (its ``__post_init__`` validates and may raise ``PoselabError``).
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)


def _field_type(cls, f: dataclasses.Field) -> Any:
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001 - unresolvable annotations fall back to the default
        hints = {}
    return hints.get(f.name, type(f.default))


class ConfigForm(QWidget):
    """Editors for the fields of ``config_cls``, initialised from ``initial`` (or defaults).

    Signals:
        changed(): any editor changed.
    """

    changed = Signal()

    def __init__(self, config_cls, initial=None, main: tuple[str, ...] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config_cls = config_cls
        initial = initial if initial is not None else config_cls()
        self.editors: dict[str, QWidget] = {}
        self.kinds: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        fields = [f for f in dataclasses.fields(config_cls) if f.init]
        main_fields = [f for f in fields if f.name in main]
        main_fields.sort(key=lambda f: main.index(f.name))
        other = [f for f in fields if f.name not in main]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        main_form = QFormLayout()
        layout.addLayout(main_form)
        for f in main_fields:
            self._add_row(main_form, f, getattr(initial, f.name))
        if other:
            from superqt import QCollapsible

            self.advanced = QCollapsible("Advanced settings")
            inner = QWidget()
            form = QFormLayout(inner)
            for f in other:
                self._add_row(form, f, getattr(initial, f.name))
            self.advanced.addWidget(inner)
            layout.addWidget(self.advanced)
        layout.addStretch(1)

    # ------------------------------------------------------------------ building
    def _add_row(self, form: QFormLayout, f: dataclasses.Field, value: Any) -> None:
        meta = dict(f.metadata) if f.metadata else {}
        label = meta.get("label") or f.name.replace("_", " ").capitalize()
        unit = meta.get("unit") or ""
        choices = meta.get("choices")
        rng = meta.get("range")
        typ = _field_type(self.config_cls, f)
        if choices:
            w = QComboBox()
            w.addItems([str(c) for c in choices])
            w.setCurrentText(str(value))
            w.currentIndexChanged.connect(self._on_editor_changed)
            kind = "choice"
        elif typ is bool or isinstance(value, bool):
            w = QCheckBox()
            w.setChecked(bool(value))
            w.toggled.connect(self._on_editor_changed)
            kind = "bool"
        elif (typ is int or isinstance(value, int)) and not isinstance(value, bool):
            w = QSpinBox()
            lo, hi = rng if rng else (-(2**31) + 1, 2**31 - 1)
            w.setRange(int(max(lo, -(2**31) + 1)), int(min(hi, 2**31 - 1)))
            w.setValue(int(value))
            if unit:
                w.setSuffix(f" {unit}")
            w.valueChanged.connect(self._on_editor_changed)
            kind = "int"
        elif typ is float or isinstance(value, float):
            lo, hi = rng if rng else (-1e12, 1e12)
            if 0 < abs(float(value)) < 1e-2 or (lo > 0 and lo < 1e-3):
                w = QLineEdit(f"{float(value):g}")
                w.textChanged.connect(self._on_editor_changed)
                kind = "float_text"
            else:
                w = QDoubleSpinBox()
                w.setDecimals(4)
                w.setRange(float(lo), float(hi))
                w.setSingleStep(max((float(hi) - float(lo)) / 100, 1e-4) if rng else 0.1)
                w.setValue(float(value))
                if unit:
                    w.setSuffix(f" {unit}")
                w.valueChanged.connect(self._on_editor_changed)
                kind = "float"
        elif isinstance(value, tuple | list):
            w = QLineEdit(", ".join(str(v) for v in value))
            w.textChanged.connect(self._on_editor_changed)
            kind = "tuple"
        else:
            w = QLineEdit("" if value is None else str(value))
            w.textChanged.connect(self._on_editor_changed)
            kind = "none_str" if value is None else "str"
        w.setObjectName(f"field_{f.name}")
        tip = meta.get("help") or ""
        if rng:
            tip = (tip + "\n" if tip else "") + f"range {rng[0]} – {rng[1]} {unit}".rstrip()
        w.setToolTip(tip)
        self.editors[f.name] = w
        self.kinds[f.name] = kind
        text = label + (f" ({unit})" if unit and kind in ("float_text", "tuple") else "")
        self.labels[f.name] = text
        form.addRow(text, w)

    # ------------------------------------------------------------------ values
    def values(self) -> dict[str, Any]:
        """Field name → the editor's value (typed as the field)."""
        out: dict[str, Any] = {}
        for name, w in self.editors.items():
            kind = self.kinds[name]
            if kind == "choice":
                out[name] = w.currentText()
            elif kind == "bool":
                out[name] = w.isChecked()
            elif kind == "int":
                out[name] = int(w.value())
            elif kind == "float":
                out[name] = float(w.value())
            elif kind == "float_text":
                try:
                    out[name] = float(w.text())
                except ValueError:
                    out[name] = w.text()
            elif kind == "tuple":
                parts = [p.strip() for p in w.text().split(",") if p.strip()]
                out[name] = tuple(_number(p) for p in parts)
            elif kind == "none_str":
                out[name] = w.text() or None
            else:
                out[name] = w.text()
        return out

    def set_values(self, values: dict[str, Any]) -> None:
        """Set editors from a dict (unknown names are ignored)."""
        for name, value in values.items():
            w = self.editors.get(name)
            if w is None:
                continue
            kind = self.kinds[name]
            w.blockSignals(True)
            if kind == "choice":
                w.setCurrentText(str(value))
            elif kind == "bool":
                w.setChecked(bool(value))
            elif kind in ("int", "float"):
                w.setValue(value)
            elif kind == "tuple":
                w.setText(", ".join(str(v) for v in value))
            else:
                w.setText("" if value is None else (f"{value:g}" if isinstance(value, float)
                                                    else str(value)))
            w.blockSignals(False)
        self.changed.emit()

    def config(self):
        """The config dataclass built from the editors.

        Raises:
            PoselabError: a value rejected by the config's validation.
        """
        return self.config_cls(**self.values())

    def _on_editor_changed(self, *_args) -> None:
        self.changed.emit()


def _number(text: str) -> Any:
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text
