"""Students distilled from the NRSfM teacher (paper 000 §4; paper 001).

``train(collection, teacher, config, out_dir)`` is a progress generator returning a
``TrainResult``; ``predict(checkpoint, collection)`` returns ``(N, J, 3)`` camera-frame 3D in
pixels; ``TrainConfig`` holds every setting. Names load lazily so importing the package does
not import torch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "TrainConfig": "poselab.distill.config",
    "train": "poselab.distill.train",
    "TrainResult": "poselab.distill.train",
    "predict": "poselab.distill.predict",
    "save_predictions": "poselab.distill.predict",
    "load_checkpoint": "poselab.distill.checkpoint",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'poselab.distill' has no attribute {name!r}")
