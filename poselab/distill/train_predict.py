"""Train a student, then predict and save 3D for every sample: the GUI's "Train student" job.

One module-level generator so that it can run in a child process
(:func:`poselab.core.process_job.run_in_process`, which pickles it by reference) as well as
in a thread or from a script.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.progress import CancelToken, Progress


def train_and_predict(collection: PoseCollection, teacher, config, out_dir: str | Path,
                      resume: str | Path | None, pred_path: str | Path,
                      cancel: CancelToken | None = None):
    """:func:`poselab.distill.train`, then :func:`poselab.distill.predict` on every sample.

    Args:
        collection, teacher, config, out_dir, resume: as :func:`poselab.distill.train`.
        pred_path: predictions file written atomically (:func:`poselab.distill.save_predictions`;
            ``keypoints_3d`` (N, J, 3) float32, camera frame, pixels).
        cancel: checked at every step; nothing is written after a cancel.

    Yields:
        the training's :class:`Progress` records, then one ``kind="info"`` record ("predict").

    Returns:
        ``(TrainResult, (N, J, 3) float32 predictions)``.

    Raises:
        Cancelled, DataError: as :func:`poselab.distill.train`.
    """
    from poselab.distill.predict import predict, save_predictions
    from poselab.distill.train import train

    cancel = cancel or CancelToken()
    result = yield from train(collection, teacher, config, out_dir, resume=resume,
                              cancel=cancel)
    cancel.check()
    yield Progress("predict", 0, 0, message="predicting 3D for every sample", kind="info")
    pred = np.asarray(predict(result.checkpoint, collection, device=config.device), np.float32)
    cancel.check()
    save_predictions(pred_path, pred, collection, extra={"checkpoint": str(result.checkpoint)})
    return result, pred
