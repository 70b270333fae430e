"""Live curves (losses per step, metrics per epoch) drawn with pyqtgraph.

Points arrive one by one from a worker's progress signal; the widget stores them and redraws at
most every ``refresh_ms`` milliseconds, so a fast job never floods the event loop.

The legend is a text row *under* the plot (:attr:`CurvePlotWidget.legend_label`), never an
item inside it: pyqtgraph's in-plot legend clipped long names and covered the curves. Each plot
has one y unit (``unit``), shown on its axis; curves of other units go to another plot.
Per-epoch scores come in pairs, on the training samples ("train (seen)", solid) and on the
held-out samples ("held-out", dashed, same colour).
"""

from __future__ import annotations

import html
import math

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from poselab.gui.widgets.epoch_metrics import curve_key, is_held_out_curve

PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


class CurvePlotWidget(QWidget):
    """Named curves y(x) that grow while a job runs, with a legend row below the plot.

    Args:
        title: plot title.
        x_label: x-axis label (e.g. ``"step"``, ``"epoch"``).
        log_y: logarithmic y axis (losses).
        unit: the y unit (``"px"``, ``"mm"``, ``""`` for dimensionless), on the y axis.
    """

    def __init__(self, title: str = "", x_label: str = "step", log_y: bool = False,
                 refresh_ms: int = 150, unit: str = "", parent=None) -> None:
        super().__init__(parent)
        self.plot_widget = pg.PlotWidget(background="w")
        self.plot_item = self.plot_widget.getPlotItem()
        self.setTitle(title)
        self.plot_widget.setLabel("bottom", x_label)
        self.unit = unit
        self.set_unit(unit)
        self.plot_widget.showGrid(x=True, y=True, alpha=0.3)
        self.plot_widget.setLogMode(False, log_y)
        self.log_y = log_y
        self.legend_label = QLabel("")
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.legend_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.legend_label)
        self.data: dict[str, tuple[list[float], list[float]]] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._colours: dict[str, tuple[int, int, int]] = {}
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()

    def setTitle(self, title: str, **_ignored) -> None:  # noqa: N802 - pyqtgraph-style name
        self.plot_widget.setTitle(title, color="k", size="10pt")
        self.title_text = title

    def set_unit(self, unit: str) -> None:
        """The y axis label: the unit in brackets, or "dimensionless"."""
        self.unit = unit
        self.plot_widget.setLabel("left", f"[{unit}]" if unit else "(no unit)")

    def add_point(self, name: str, x: float, y: float) -> None:
        """Append ``(x, y)`` to curve ``name`` (created on first use); non-finite y skipped."""
        if y is None or not math.isfinite(float(y)) or (self.log_y and y <= 0):
            return
        xs, ys = self.data.setdefault(name, ([], []))
        xs.append(float(x))
        ys.append(float(y))
        self._dirty = True

    def set_curve(self, name: str, xs, ys) -> None:
        """Replace curve ``name`` by the given points (e.g. a saved loss history)."""
        self.data[name] = ([float(v) for v in xs], [float(v) for v in ys])
        self._dirty = True
        self._redraw()

    def clear_curves(self) -> None:
        self.data.clear()
        for item in self.curves.values():
            self.plot_widget.removeItem(item)
        self.curves.clear()
        self._colours.clear()
        self.legend_label.setText("")
        self._dirty = False

    @Slot()
    def _on_timer_timeout(self) -> None:
        if self._dirty:
            self._redraw()

    @staticmethod
    def dashed(name: str) -> bool:
        """Held-out curves (:mod:`poselab.gui.widgets.epoch_metrics`) are drawn dashed."""
        return is_held_out_curve(name)

    def _colour(self, name: str) -> tuple[int, int, int]:
        """The train and held-out curves of one score share a colour."""
        key = curve_key(name)
        if key not in self._colours:
            self._colours[key] = PALETTE[len(self._colours) % len(PALETTE)]
        return self._colours[key]

    def legend_names(self) -> list[str]:
        """Names in the legend row, in drawing order."""
        return list(self.curves)

    def _redraw(self) -> None:
        self._dirty = False
        new = False
        for name, (xs, ys) in self.data.items():
            item = self.curves.get(name)
            if item is None:
                colour = self._colour(name)
                dashed = self.dashed(name)
                pen = pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine if dashed
                               else Qt.PenStyle.SolidLine)
                item = self.plot_widget.plot([], [], pen=pen,
                                             symbol="o" if len(xs) < 60 else None,
                                             symbolSize=4, symbolBrush=colour, symbolPen=None)
                self.curves[name] = item
                new = True
            item.setData(xs, ys)
        if new:
            parts = []
            for name in self.curves:
                r, g, b = self._colour(name)
                dash = "- - " if self.dashed(name) else "—"
                parts.append(f"<span style='color:rgb({r},{g},{b})'><b>{dash}</b> "
                             f"{html.escape(name)}</span>")
            self.legend_label.setText("&nbsp;&nbsp; ".join(parts))
