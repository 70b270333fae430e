"""File ▸ Export of the main window (mixed into :class:`~poselab.gui.main_window.MainWindow`):
the 2D landmarks as ``.slp``/COCO and the 3D sources as CSV/JSON (DESIGN §8), never over the
data's own files.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFileDialog

from poselab.core.errors import PoselabError
from poselab.gui.document import teacher_path

log = logging.getLogger(__name__)


class ExportMixin:
    """Export slots and :meth:`export` / :meth:`export_landmarks` for tests and scripts."""

    @Slot()
    def _on_export_2d_triggered(self) -> None:
        if self.doc is None:
            return
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export landmarks (2D)", self.dialog_dir(),
            "SLEAP labels (*.slp);;COCO keypoints (*.json)")
        if not path:
            return
        if not Path(path).suffix:
            path += ".json" if "COCO" in chosen else ".slp"
        try:
            self.export_landmarks(Path(path))
        except PoselabError as err:
            self.show_error("Export failed", str(err))

    def export_landmarks(self, path: Path) -> Path:
        """Write the current 2D landmarks (edits included) as ``.slp`` (sleap-io) or COCO
        ``.json``; never over the data's own files.

        Raises:
            PoselabError: another suffix, an input file as output, or a writer error.
        """
        from poselab.core.outputs import check_output
        from poselab.io import edits_path, write_coco, write_slp

        c = self.doc.collection
        inputs = [c.source, c.metadata.get("edits_of")]
        if c.source is not None:
            inputs.append(edits_path(c))
        path = check_output(path, inputs=inputs, suffixes=(".slp", ".json"))
        (write_slp if path.suffix.lower() == ".slp" else write_coco)(c, path)
        self.statusBar().showMessage(f"Landmarks exported to {path}", 8000)
        return path

    @Slot()
    def _on_export_triggered(self) -> None:
        if self.doc is None:
            return
        from poselab.gui.dialogs.export_dialog import ExportDialog

        tp = teacher_path(self.doc.collection)
        dialog = ExportDialog(list(self.doc.sources_3d()), tp.parent, self)
        self.open_dialog(dialog, "export_dialog", self._on_export_dialog_accepted)

    @Slot()
    def _on_export_dialog_accepted(self) -> None:
        choice = self.export_dialog.choice()
        if choice is not None:
            self._export_checked(choice, force=False)

    def _export_checked(self, choice, force: bool) -> None:
        """Export after checking the file (:mod:`poselab.gui.output_check`): never over the
        data's own annotation file without a confirmation."""
        from poselab.gui.output_check import outputs_ok

        if not outputs_ok(self, "Export", [(Path(choice.path), False, ())],
                          [self.doc.collection.source if self.doc else None], force,
                          lambda: self._export_checked(choice, force=True)):
            return
        try:
            self.export(choice.sources, choice.fmt, choice.selected_only, choice.path)
        except (PoselabError, OSError) as err:
            self.show_error("Export failed", str(err))

    def export(self, sources: tuple[str, ...], fmt: str, selected_only: bool,
               path: Path) -> Path:
        """Write the chosen 3D sources with ``poselab.io`` (CSV or JSON, DESIGN §8).

        Units: with a known length (:attr:`Document.known_length`) teacher and student are
        written in mm (:mod:`poselab.core.metric_scale`; camera frame with intrinsics, else
        centred on each sample), otherwise ``units=relative`` (pixel scale). Ground truth is
        written only beside predictions in mm, in their frame and alignment (centred when they
        are); never on its own or beside relative predictions. Samples without 3D in a chosen
        source (excluded when it was made) are left out.

        Raises:
            PoselabError: nothing to export, ground truth without mm predictions, a writer error.
        """
        from poselab.core.metric_scale import (
            FRAME_CENTRED,
            RELATIVE,
            centre_like,
            scale_factors,
            to_metric,
        )
        from poselab.io import export_csv, export_json

        doc = self.doc
        available = doc.sources_3d() if doc is not None else {}
        chosen = {s: available[s] for s in sources if s in available}
        if not chosen:
            raise PoselabError("nothing to export: reconstruct (or train) first")
        c = doc.collection
        preds = {s: a for s, a in chosen.items() if s != "ground truth"}
        arrays, units, frames = {}, {}, {}
        factors = None
        if doc.known_length is not None and preds:
            base = available.get("teacher", next(iter(preds.values())))
            factors = scale_factors(base, c.skeleton, doc.known_length)
        frame_mm = None
        for s, a in preds.items():
            key = s.replace(" ", "_")  # file names of the sources (DESIGN §8)
            if factors is not None:
                arrays[key], frame_mm = to_metric(a, factors, c.intrinsics)
                units[key], frames[key] = "mm", frame_mm
            else:
                arrays[key], units[key], frames[key] = a, RELATIVE, "camera"
        if "ground truth" in chosen:
            if frame_mm is None:
                raise PoselabError("ground truth is exported only beside teacher or student 3D "
                                   "in mm, in their frame: state a known length (Samples ▸ "
                                   "Known length…) and export it with them")
            gt = chosen["ground truth"]
            arrays["ground_truth"] = centre_like(gt) if frame_mm == FRAME_CENTRED else gt
            units["ground_truth"], frames["ground_truth"] = c.units_3d, frame_mm
        finite = np.ones(len(c), bool)
        for a in arrays.values():
            finite &= np.isfinite(a).all((1, 2))
        if selected_only and self.current is not None:
            samples = [self.current] if finite[self.current] else []
        else:
            samples = np.flatnonzero(finite).tolist()
        if not samples:
            raise PoselabError("nothing to export: the chosen samples have no 3D (excluded?)")
        writer = export_csv if fmt == "csv" else export_json
        writer(path, c, arrays, units, frames, samples=samples)
        log.info("exported %s (%s, %s) to %s", ", ".join(chosen), fmt.upper(),
                 ", ".join(sorted(set(units.values()))), path)
        unit_text = ", ".join(sorted(set(units.values())))
        self.statusBar().showMessage(f"Exported to {path} ({unit_text})", 8000)
        return Path(path)
