"""Metrics panel: whole-set and per-sample scores of the teacher and the student.

With 3D ground truth: MPJPE, PA-MPJPE and depth error (paper 000 protocol, DESIGN §7) from
:func:`poselab.metrics.summary.evaluate`; without: the 2D reprojection error (pixels) of each
source and the teacher–student disagreement (:func:`poselab.metrics.summary.disagreement`).
:func:`compute_metrics` is plain numpy (no Qt) and runs in a worker; the panel only formats.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

log = logging.getLogger(__name__)

NAMES = {"mpjpe": "MPJPE", "pa_mpjpe": "PA-MPJPE", "depth_error": "Depth error",
         "reprojection_px": "Reprojection (px)", "reprojection_error": "Reprojection error",
         "e3d_akhter": "e3D (Akhter)", "e3d_frame": "e3D (per frame)",
         "n_mpjpe": "N-MPJPE", "disagreement": "Teacher–student disagreement"}


def compute_metrics(collection, sources: dict[str, np.ndarray],
                    units: dict[str, str]) -> dict[str, Any]:
    """Score every 3D source of a collection.

    Args:
        collection: the :class:`~poselab.core.collection.PoseCollection` (2D, maybe 3D truth).
        sources: ``{"teacher": (N, J, 3), "student": (N, J, 3)}`` camera frame.
        units: unit of each source (``"px"`` for the teacher; the student's unit).

    Returns:
        ``{"family": str, "units": str, "set": {source: {metric: float}},
        "per_sample": {source: {metric: (N,) array}}, "shown": [metric names]}``.
    """
    from poselab.metrics.summary import disagreement, evaluate

    out: dict[str, Any] = {"set": {}, "per_sample": {}, "shown": [], "family": "", "units": ""}
    for name, pred in sources.items():
        if name == "ground truth":
            continue
        try:
            r = evaluate(pred, collection, pred_units=units.get(name))
        except Exception as err:  # noqa: BLE001 - one bad source must not hide the others
            log.warning("metrics for %s failed: %s", name, err)
            continue
        out["family"] = r.get("family", "")
        out["units"] = r.get("units", "")
        shown = list(r.get("shown") or r.get("metrics", {}).keys())
        for m in shown:
            if m not in out["shown"]:
                out["shown"].append(m)
        out["set"][name] = {k: float(v) for k, v in r.get("metrics", {}).items()
                            if isinstance(v, int | float | np.floating)}
        out["per_sample"][name] = {k: np.asarray(v, float)
                                   for k, v in r.get("per_sample", {}).items()}
    if "teacher" in sources and "student" in sources:
        try:
            per = np.asarray(disagreement(sources["teacher"], sources["student"],
                                          collection.skeleton, reduce=False), float)
            out["set"].setdefault("student", {})["disagreement"] = float(np.nanmean(per))
            out["per_sample"].setdefault("student", {})["disagreement"] = per
            if "disagreement" not in out["shown"]:
                out["shown"].append("disagreement")
        except Exception as err:  # noqa: BLE001
            log.warning("disagreement failed: %s", err)
    return out


def _fmt(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "–"
    return f"{v:.3g}" if abs(v) < 100 else f"{v:.1f}"


class MetricsPanel(QWidget):
    """Two HTML tables: the whole set, and the selected sample."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("No 3D results yet.")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.label)
        self.result: dict[str, Any] | None = None
        self.sample: int | None = None
        self.sample_name = ""

    def set_result(self, result: dict[str, Any] | None) -> None:
        self.result = result
        self._render()

    def set_sample(self, i: int | None, name: str = "") -> None:
        self.sample, self.sample_name = i, name
        self._render()

    def _render(self) -> None:
        r = self.result
        if not r or not r["set"]:
            self.label.setText("No 3D results yet — press <b>Reconstruct (NRSfM)</b>.")
            return
        shown = r["shown"]
        sources = list(r["set"])
        head = "".join(f"<th>{NAMES.get(m, m)}</th>" for m in shown)
        unit = r.get("units") or ""
        family = r.get("family") or ""
        note = {"pose": f"against 3D ground truth ({unit}, paper-000 protocol)",
                "reprojection": "no 3D ground truth: 2D reprojection error (px) and "
                                "teacher–student disagreement (PA-MPJPE / bone length)",
                "nrsfm": "classic NRSfM errors (normalised)"}.get(family, family)

        def table(values_of) -> str:
            rows = []
            for s in sources:
                cells = "".join(f"<td align='right'>{_fmt(values_of(s, m))}</td>"
                                for m in shown)
                rows.append(f"<tr><td><b>{s}</b></td>{cells}</tr>")
            return ("<table cellspacing='0' cellpadding='3' border='1'>"
                    f"<tr><th></th>{head}</tr>{''.join(rows)}</table>")

        html = f"<b>Whole set</b> <small>({note})</small>"
        html += table(lambda s, m: r["set"].get(s, {}).get(m))
        if self.sample is not None:
            i = self.sample

            def per(s, m):
                arr = r["per_sample"].get(s, {}).get(m)
                return None if arr is None or i >= len(arr) else float(arr[i])

            html += f"<br><b>This sample</b> <small>{self.sample_name}</small>" + table(per)
        self.label.setText(html)
