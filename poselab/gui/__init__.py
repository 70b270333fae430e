"""The poselab desktop app (PySide6): browse and annotate landmarks, reconstruct 3D with the
NRSfM teacher, train a student, compare in 3D, export (DESIGN §1).

Only this package imports Qt. Entry point: :func:`poselab.gui.app.run` (``poselab`` / ``poselab
PATH`` / ``poselab gui``). Importing ``poselab.gui`` itself loads nothing heavy.
"""

from __future__ import annotations


def run(path=None, demo: bool = True) -> int:
    """Open the window (see :func:`poselab.gui.app.run`)."""
    from poselab.gui.app import run as _run

    return _run(path, demo)
