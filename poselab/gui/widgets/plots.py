"""Live curves (losses per step, metrics per epoch) drawn with pyqtgraph.

Points arrive one by one from a worker's progress signal; the widget stores them and redraws at
most every ``refresh_ms`` milliseconds, so a fast job never floods the event loop.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Slot

PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


class CurvePlotWidget(pg.PlotWidget):
    """Named curves y(x) that grow while a job runs.

    Args:
        title: plot title.
        x_label: x-axis label (e.g. ``"step"``, ``"epoch"``).
        log_y: logarithmic y axis (losses).
    """

    def __init__(self, title: str = "", x_label: str = "step", log_y: bool = False,
                 refresh_ms: int = 150, parent=None) -> None:
        super().__init__(parent=parent, background="w")
        self.setTitle(title, color="k", size="10pt")
        self.setLabel("bottom", x_label)
        self.showGrid(x=True, y=True, alpha=0.3)
        self.setLogMode(False, log_y)
        self.log_y = log_y
        self.legend = self.addLegend(offset=(-10, 10), labelTextColor="k")
        self.data: dict[str, tuple[list[float], list[float]]] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._colours: dict[str, tuple[int, int, int]] = {}
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()

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
            self.removeItem(item)
        self.legend.clear()
        self.curves.clear()
        self._colours.clear()
        self._dirty = False

    @Slot()
    def _on_timer_timeout(self) -> None:
        if self._dirty:
            self._redraw()

    def _colour(self, name: str) -> tuple[int, int, int]:
        """Curves ``teacher_X`` and ``student_X`` share a colour (key ``X``)."""
        key = name.removeprefix("teacher_").removeprefix("student_")
        if key not in self._colours:
            self._colours[key] = PALETTE[len(self._colours) % len(PALETTE)]
        return self._colours[key]

    def _redraw(self) -> None:
        self._dirty = False
        for name, (xs, ys) in self.data.items():
            item = self.curves.get(name)
            if item is None:
                colour = self._colour(name)
                dashed = name.startswith("teacher_")
                pen = pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine if dashed
                               else Qt.PenStyle.SolidLine)
                item = self.plot([], [], name=name, pen=pen,
                                 symbol="o" if len(xs) < 60 else None, symbolSize=4,
                                 symbolBrush=colour, symbolPen=None)
                self.curves[name] = item
            item.setData(xs, ys)
