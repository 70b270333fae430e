"""The lifter students' historical entry points (paper 001; DESIGN.md §5b–c).

Both lifters (``"lifter2d"``, ``"heatmap-lifter"``; :mod:`poselab.distill.students.lifters`)
train in the one loop of :mod:`poselab.distill.engine`; :func:`train_lifter` adds only the
heatmap initialisation from another run, :func:`predict_lifter` is
:func:`poselab.distill.predict.predict`.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.progress import CancelToken, Progress
from poselab.distill.engine import TrainResult

LIFTER_STUDENTS = ("lifter2d", "heatmap-lifter")


def train_lifter(collection: PoseCollection, teacher, config, out_dir: str | Path,
                 resume: str | Path | dict | None = None, cancel: CancelToken | None = None,
                 init_heatmaps: str | Path | dict | None = None,
                 ) -> Generator[Progress, None, TrainResult]:
    """:func:`poselab.distill.engine.train` for a lifter student.

    Args:
        init_heatmaps: a heatmap-lifter checkpoint whose heatmap network initialises this one
            (paper 001 §4, "HRNet initialization"); the lifter starts fresh.
        others: as :func:`poselab.distill.engine.train`.

    Raises:
        DataError: ``config.student`` is not a lifter; as the engine otherwise.
    """
    from poselab.distill import engine

    if config.student not in LIFTER_STUDENTS:
        raise DataError(None, f"train_lifter trains {LIFTER_STUDENTS}, not {config.student!r}")
    return (yield from engine.train(collection, teacher, config, out_dir, resume, cancel,
                                    init_heatmaps=init_heatmaps))


def predict_lifter(checkpoint: dict, collection: PoseCollection, device: str = "cpu",
                   batch_size: int = 256) -> np.ndarray:
    """``(N, J, 3)`` float32 camera-frame 3D in input pixels from a lifter checkpoint
    (:func:`poselab.distill.predict.predict`)."""
    from poselab.distill.predict import predict

    return predict(checkpoint, collection, device=device, batch_size=batch_size)
