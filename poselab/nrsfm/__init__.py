"""Deep NRSfM teacher (DESIGN.md §4): 3D shapes and cameras from 2D landmarks alone.

``from poselab.nrsfm import NRSfMConfig, fit, reconstruct, NRSfMResult``. Importing the package
does not import torch (``fit`` and ``reconstruct`` import it when called), so the GUI starts
fast.
"""

from __future__ import annotations

from poselab.nrsfm.config import NRSfMConfig
from poselab.nrsfm.fit import fit
from poselab.nrsfm.reconstruct import reconstruct
from poselab.nrsfm.result import NRSfMResult

__all__ = ["NRSfMConfig", "NRSfMResult", "fit", "reconstruct"]
