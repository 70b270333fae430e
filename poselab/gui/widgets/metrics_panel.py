"""Metrics panel: whole-set and per-sample scores, and the teacher's trust without ground truth.

Computed by :func:`poselab.metrics.report.app_report` in a worker (no Qt); the panel only
formats. Every column header states its unit; a line on top says whether 3D is in mm (a known
length was stated) or in relative units (then only scale-free 3D numbers are shown).
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
         "reprojection_px": "2D reprojection", "e3d_akhter": "e3D (Akhter)",
         "e3d_frame": "e3D (per frame)", "n_mpjpe": "N-MPJPE", "mpjpe_unscaled": "MPJPE unscaled",
         "disagreement_pct": "Teacher–student disagreement"}
#: Trust without ground truth (poselab.metrics.quality), in display order.
QUALITY_NAMES = {"reprojection_network_px": "Network 2D reprojection",
                 "reprojection_network_rel_pct": "Network 2D reprojection",
                 "uncertainty_pct": "Uncertainty", "uncertainty_mm": "Uncertainty",
                 "bone_deviation_pct": "Bone-length deviation",
                 "least_certain_score": "Least-certain score",
                 "suspect_labels": "Suspect labels (gross errors, swaps?)"}
QUALITY_SET_NAMES = {"restart_spread": "Restart spread", "noise_px": "2D label noise σ",
                     "smoothing_samples": "Labels smoothed over",
                     "denoised_noise_px": "2D label noise after denoising",
                     "completion_error_pct": "Hidden landmarks predicted to",
                     "suspect_swaps": "Left/right swaps suspected",
                     "mirrored_turned": "Depth-mirrored samples turned",
                     "code_atoms": "Code kept (smoother depth)",
                     "depth_roughness": "Depth roughness",
                     "depth_spread": "Depth spread (over x, y)",
                     "low_rank_depth_px": "Depth moved by the low-rank polish"}


def compute_metrics(collection, sources: dict[str, np.ndarray], units: dict[str, str],
                    teacher=None, known=None) -> dict[str, Any]:
    """:func:`poselab.metrics.report.app_report` (run in a worker; kept here for callers)."""
    from poselab.metrics.report import app_report

    return app_report(collection, sources, units, teacher=teacher, known=known)


def _fmt(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "–"
    return f"{v:.3g}" if abs(v) < 100 else f"{v:.1f}"


def _head(name: str, unit: str) -> str:
    return f"<th>{name}<br><small>({unit or 'no unit'})</small></th>"


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
        self.run_scores: dict[str, Any] | None = None
        self.sample: int | None = None
        self.sample_name = ""

    def set_result(self, result: dict[str, Any] | None) -> None:
        self.result = result
        self._render()

    def set_run_scores(self, values: dict[str, Any] | None) -> None:
        """The last epoch's scores of the student's training run (``train_*``/``val_*`` keys,
        :mod:`poselab.gui.widgets.epoch_metrics`), or None."""
        self.run_scores = dict(values) if values else None
        self._render()

    def set_sample(self, i: int | None, name: str = "") -> None:
        self.sample, self.sample_name = i, name
        self._render()

    def _render(self) -> None:
        r = self.result
        run = self._run_html()
        if not r or (not r["set"] and not r.get("quality")):
            self.label.setText(run or "No 3D results yet — press <b>Reconstruct (NRSfM)</b>.")
            return
        i = self.sample
        html = self._units_note(r)
        if r["set"]:
            html += self._scores(r, i)
        q = r.get("quality")
        if q:
            html += self._quality(q, i)
        self.label.setText(html + run)

    def _run_html(self) -> str:
        from poselab.gui.widgets.epoch_metrics import split_table_html

        table = split_table_html(self.run_scores or {})
        if not table:
            return ""
        return ("<br><b>Student training run, last epoch</b> <small>(train (seen): samples "
                "the optimiser used; held-out: samples it never saw; units as in the "
                f"job plots)</small>{table}")

    @staticmethod
    def _units_note(r) -> str:
        if r.get("mm_per_unit") is not None:
            frame = r.get("frame_mm") or "camera"
            return (f"<small>3D in <b>mm</b> from the known length {r.get('known')} "
                    f"(frame: {frame}).</small><br>")
        return ("<small>3D in <b>relative units</b> (image pixel scale): 3D numbers below are "
                "scale-free. State a known length (Samples ▸ Known length…) for mm."
                "</small><br>")

    def _scores(self, r, i) -> str:
        shown = r["shown"]
        sources = list(r["set"])
        units = r.get("score_units", {})
        head = "".join(_head(NAMES.get(m, m), units.get(m, "")) for m in shown)
        family = r.get("family") or ""
        note = {"pose": "against 3D ground truth, paper-000 protocol",
                "reprojection": "no 3D ground truth",
                "nrsfm": "classic NRSfM errors"}.get(family, family)

        def table(values_of) -> str:
            rows = []
            for s in sources:
                cells = "".join(f"<td align='right'>{_fmt(values_of(s, m))}</td>"
                                for m in shown)
                rows.append(f"<tr><td><b>{s}</b></td>{cells}</tr>")
            return ("<table cellspacing='0' cellpadding='3' border='1'>"
                    f"<tr><th></th>{head}</tr>{''.join(rows)}</table>")

        html = f"<b>Scores, whole set</b> <small>({note})</small>"
        html += table(lambda s, m: r["set"].get(s, {}).get(m))
        if i is not None:
            def per(s, m):
                arr = r["per_sample"].get(s, {}).get(m)
                return None if arr is None or i >= len(arr) else float(arr[i])

            html += f"<b>This sample</b> <small>{self.sample_name}</small>" + table(per)
        return html

    def _quality(self, q, i) -> str:
        units = q["units"]
        names = [m for m in QUALITY_NAMES if m in q["per_sample"]]
        set_only = [m for m in QUALITY_SET_NAMES if m in q["set"]]
        head = "".join(_head(QUALITY_NAMES[m], units.get(m, "")) for m in names)
        head += "".join(_head(QUALITY_SET_NAMES[m], units.get(m, "")) for m in set_only)
        cells = "".join(f"<td align='right'>{_fmt(q['set'].get(m))}</td>"
                        for m in names + set_only)
        rows = f"<tr><td><b>whole set</b></td>{cells}</tr>"
        if i is not None:
            def one(m):
                arr = q["per_sample"][m]
                return None if i >= len(arr) else float(arr[i])

            cells = "".join(f"<td align='right'>{_fmt(one(m))}</td>" for m in names)
            cells += "<td></td>" * len(set_only)
            rows += f"<tr><td><b>this sample</b></td>{cells}</tr>"
        return ("<br><b>Trust without ground truth (teacher)</b> <small>(larger = less "
                "certain)</small><table cellspacing='0' cellpadding='3' border='1'>"
                f"<tr><th></th>{head}</tr>{rows}</table>")
