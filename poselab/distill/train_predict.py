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
    """:func:`poselab.distill.train`, then :func:`poselab.distill.predict.predict_iter` on every
    sample (training and held-out alike).

    Args:
        collection, teacher, config, out_dir, resume: as :func:`poselab.distill.train`.
        pred_path: predictions file written atomically (:func:`poselab.distill.save_predictions`;
            ``keypoints_3d`` (N, J, 3) float32, camera frame, pixels; NaN rows for samples
            whose image is unreadable).
        cancel: checked at every step; nothing is written after a cancel.

    Yields:
        the training's :class:`Progress` records, one ``kind="info"`` record ("predict"), then
        the prediction's records.

    Returns:
        ``(TrainResult, (N, J, 3) float32 predictions)``.

    Raises:
        Cancelled, DataError: as :func:`poselab.distill.train`.
    """
    from poselab.distill.predict import predict_iter, save_predictions
    from poselab.distill.train import train

    cancel = cancel or CancelToken()
    result = yield from train(collection, teacher, config, out_dir, resume=resume,
                              cancel=cancel)
    cancel.check()
    yield Progress("predict", 0, 0, message="predicting 3D for every sample", kind="info")
    pred = yield from predict_iter(result.checkpoint, collection, device=config.device,
                                   batch_size=max(config.batch_size, 256), cancel=cancel)
    cancel.check()
    kp = np.asarray(pred.keypoints_3d, np.float32)
    save_predictions(pred_path, kp, collection, extra={"checkpoint": str(result.checkpoint)},
                     excluded=pred.excluded)
    return result, kp
