"""Run a trained student on a collection and save its 3D predictions (DESIGN.md §8).

Predictions come back like the teacher's ``keypoints_3d``: camera frame (x right, y down,
z forward), input pixel scale — the network's normalised output denormalised with each
sample's landmark-box centre and scale (DESIGN §3; depth is relative, scaled only). The crop
of each sample is taken from its 2D landmarks' bounding box, as in training, so the collection
needs 2D landmarks (the paper evaluates with ground-truth boxes too).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from poselab.core.atomic import atomic_savez
from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.normalize import bbox_normalization, denormalize_keypoints
from poselab.core.progress import drain
from poselab.core.skeleton import Skeleton

log = logging.getLogger(__name__)


def predict(checkpoint_path: str | Path | dict, collection: PoseCollection,
            device: str = "auto", batch_size: int = 256) -> np.ndarray:
    """3D keypoints of every sample of ``collection`` from a student checkpoint.

    Args:
        checkpoint_path: ``checkpoint.pt``, its run folder, or an already loaded checkpoint.
        collection: samples of the checkpoint's skeleton (images needed for image students).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``.

    Returns:
        ``(N, J, 3)`` float32, camera frame, pixels (z relative, pixel scale).

    Raises:
        DataError: unreadable checkpoint, other skeleton, missing images, no landmarks.
    """
    from poselab.distill.checkpoint import load_checkpoint

    ckpt = checkpoint_path if isinstance(checkpoint_path, dict) else load_checkpoint(
        checkpoint_path)
    names = list(ckpt["skeleton"]["joint_names"])
    if names != list(collection.skeleton.joint_names):
        raise DataError(collection.source, f"the student was trained on skeleton "
                                           f"{ckpt['skeleton'].get('name')!r} ({len(names)} "
                                           f"joints), the data use {collection.skeleton.name!r}")
    if ckpt["student"] != "integral":
        from poselab.distill.lifter_train import predict_lifter

        return predict_lifter(ckpt, collection)
    return _predict_integral(ckpt, collection, device, batch_size)


def _predict_integral(ckpt: dict, collection: PoseCollection, device: str,
                      batch_size: int) -> np.ndarray:
    import torch

    from poselab.core.config import resolve_device
    from poselab.distill.config import TrainConfig
    from poselab.distill.data import build_crops
    from poselab.distill.inputs import check_inputs
    from poselab.distill.integral import build_integral
    from poselab.distill.train import _predict_normalised

    check_inputs(collection, None, need_images=True)
    config = TrainConfig.from_dict({**ckpt["config"], "pretrained": False})
    try:
        centre, scale = bbox_normalization(collection.keypoints_2d, collection.visibility)
    except DataError as err:
        raise DataError(collection.source, err.problem) from None
    crops = drain(build_crops(collection.image_paths, centre, scale, config.input_size))
    dev = torch.device(resolve_device(device))
    model = build_integral(collection.num_joints, config)
    model.load_state_dict(ckpt["model"])
    model.to(dev)
    pred = _predict_normalised(model, torch.from_numpy(crops), np.arange(len(collection)), dev,
                               config, batch=batch_size)
    return denormalize_keypoints(pred, centre, scale)


def save_predictions(path: str | Path, keypoints_3d: np.ndarray, collection: PoseCollection,
                     skeleton: Skeleton | None = None, extra: dict | None = None) -> Path:
    """Write ``predictions.npz`` atomically with the keys of ``RESULT_FILE_KEYS``.

    Args:
        keypoints_3d: ``(N, J, 3)`` camera frame, pixels (from :func:`predict`).
        collection: gives ``sample_ids`` (and the skeleton when ``skeleton`` is None).
        extra: JSON-ready information stored as ``extra_json`` (e.g. the checkpoint path).

    Raises:
        DataError: shape does not match the collection; NaN or infinite predictions (a
            diverged or damaged student: no file is written).
    """
    skeleton = skeleton or collection.skeleton
    kp = np.asarray(keypoints_3d, np.float32)
    if kp.shape != (len(collection), skeleton.num_joints, 3):
        raise DataError(path, f"predictions of shape {kp.shape} do not match "
                              f"{len(collection)} samples of {skeleton.num_joints} joints")
    bad = ~np.isfinite(kp).all(axis=(1, 2))
    if bad.any():
        raise DataError(path, f"not written: the student predicted NaN or infinite 3D for "
                              f"{int(bad.sum())} of {len(bad)} samples (first: "
                              f"{collection.sample_ids[int(np.argmax(bad))]!r})")
    atomic_savez(path, kind=np.array("prediction"), keypoints_3d=kp,
                 sample_ids=np.asarray(list(collection.sample_ids), dtype=str),
                 skeleton_json=np.array(json.dumps(skeleton.to_dict())), units=np.array("px"),
                 frame=np.array("camera"), extra_json=np.array(json.dumps(extra or {})))
    return Path(path)
