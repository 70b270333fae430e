"""Students distilled from the NRSfM teacher (paper 000 §4; paper 001).

``train(collection, teacher, config, out_dir)`` is a progress generator returning a
``TrainResult``; ``predict(checkpoint, collection)`` returns ``(N, J, 3)`` camera-frame 3D in
pixels; ``TrainConfig`` holds every setting. Importing the package does not import torch (the
modules below import it inside their functions).

The functions are bound here on purpose: ``poselab.distill.train`` and
``poselab.distill.predict`` are the *functions*, their modules stay importable by full name.
"""

from poselab.distill.checkpoint import load_checkpoint
from poselab.distill.config import TrainConfig
from poselab.distill.predict import predict, save_predictions
from poselab.distill.train import TrainResult, train

__all__ = ["TrainConfig", "TrainResult", "load_checkpoint", "predict", "save_predictions",
           "train"]
