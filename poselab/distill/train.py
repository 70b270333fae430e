"""``train(collection, teacher, config, out_dir)``: the public entry point of student training.

Every student (``TrainConfig.student``: integral, heatmap-lifter, lifter2d) trains in the one
loop of :mod:`poselab.distill.engine`, behind the :class:`~poselab.distill.students.Student`
interface (:mod:`poselab.distill.students`); this module keeps the historical import path.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from poselab.core.collection import PoseCollection
from poselab.core.progress import CancelToken, Progress
from poselab.distill.config import TrainConfig
from poselab.distill.engine import TrainResult
from poselab.distill.students.integral import ARCH_FIELDS

__all__ = ["ARCH_FIELDS", "TrainResult", "train"]


def train(collection: PoseCollection, teacher, config: TrainConfig, out_dir: str | Path,
          resume: str | Path | None = None, cancel: CancelToken | None = None,
          ) -> Generator[Progress, None, TrainResult]:
    """Train a student on ``collection`` with ``teacher``'s knowledge (generator).

    Args:
        collection: N samples with 2D landmarks (and images for the image students); 3D ground
            truth, when present, is used only for scoring (and for the supervised settings).
        teacher: :class:`poselab.nrsfm.result.NRSfMResult` fitted on exactly this collection
            (None only for ground-truth targets).
        config: :class:`TrainConfig`; ``val_fraction``/``val_key`` choose the held-out samples
            (:mod:`poselab.distill.split`), never trained on and scored as ``val_*``.
        out_dir: run folder; ``checkpoint.pt`` (after every epoch) and ``split.json``.
        resume: a checkpoint (or run folder) to continue from: same step, optimiser, scheduler
            and RNG states; its student, network and split must match ``config``.
        cancel: checked at every step; raises :class:`Cancelled` (the last epoch's checkpoint
            stays as it was).

    Yields:
        :class:`Progress` (``kind`` ``"step"`` / ``"epoch"`` / ``"info"``), see
        :func:`poselab.distill.engine.train`.

    Returns:
        :class:`TrainResult` (checkpoint, final metrics, per-epoch history).

    Raises:
        DataError: no images for an image student, teacher of another skeleton or sample set,
            missing ground truth for a supervised setting, unreadable checkpoint.
        PoselabError: a resume checkpoint of another student, network or held-out split.
    """
    from poselab.distill import engine

    return (yield from engine.train(collection, teacher, config, out_dir, resume, cancel))
