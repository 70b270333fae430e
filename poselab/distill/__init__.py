"""Students distilled from the NRSfM teacher (paper 000 §4; paper 001).

``train(collection, teacher, config, out_dir)`` is a progress generator returning a
``TrainResult`` (every student, one loop: :mod:`poselab.distill.engine`);
``predict(checkpoint, collection)`` returns ``(N, J, 3)`` camera-frame 3D in pixels and
``predict_iter`` is its progress generator returning a ``Prediction``; ``TrainConfig`` holds
every setting. Importing the package does not import torch (the
modules below import it inside their functions).

The functions are bound here on purpose: ``poselab.distill.train`` and
``poselab.distill.predict`` are the *functions*, their modules stay importable by full name.
"""

from poselab.distill.checkpoint import load_checkpoint
from poselab.distill.config import TrainConfig
from poselab.distill.predict import Prediction, predict, predict_iter, save_predictions
from poselab.distill.train import TrainResult, train

__all__ = ["Prediction", "TrainConfig", "TrainResult", "load_checkpoint", "predict",
           "predict_iter", "save_predictions", "train"]
