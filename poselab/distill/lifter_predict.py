"""Building and running the lifter students (paper 001; DESIGN.md §5b–c): the network a
checkpoint describes, batched inference, and :func:`predict_lifter` for
:func:`poselab.distill.predict`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.normalize import denormalize_keypoints


def model_kwargs(config, num_joints: int) -> dict[str, Any]:
    """Constructor arguments of the student network (stored in the checkpoint).

    The ``"paper"`` preset uses Martinez et al.'s lifter (1024 wide, dropout 0.5, paper 001
    §3.3.1); the ``"cpu"`` preset a 256-wide one with dropout 0.1, ~6× faster per step and
    better on small sets (on 150 frames of pickup: e3d 0.062 vs 0.079 after 100 steps).
    """
    paper = config.preset == "paper"  # Martinez et al.: 1024 wide, dropout 0.5
    lifter = dict(hidden=1024 if paper else 256, blocks=2, dropout=0.5 if paper else 0.1,
                  decoder=config.loss_gamma > 0,
                  skip=bool(getattr(config, "lifter_skip", True)))
    if config.student == "lifter2d":
        return {"kind": "lifter2d", "num_joints": num_joints, "use_mask": True, **lifter}
    return {"kind": "heatmap-lifter", "num_joints": num_joints,
            "input_size": config.input_size, "width": config.backbone_width,
            "num_branches": 4 if config.preset == "paper" else 3,
            "out_stride": 4 if config.input_size >= 192 else 2,
            "beta": config.softargmax_beta, **lifter}


def build_model(kwargs: dict[str, Any]):
    """The network described by :func:`model_kwargs` output."""
    from poselab.distill.lifter import HeatmapLifter, LiftingAutoencoder

    kw = dict(kwargs)
    kind = kw.pop("kind")
    if kind == "lifter2d":
        return LiftingAutoencoder(**kw)
    return HeatmapLifter(**kw)


def predict_normalized(model, kind: str, w: np.ndarray, observed: np.ndarray,
                       crops: np.ndarray | None, device: str, batch_size: int = 256,
                       ) -> tuple[np.ndarray, np.ndarray | None]:
    """Run a trained student in eval mode.

    Args:
        w: ``(N, J, 2)`` normalised 2D (lifter2d input). observed: ``(N, J)`` bool.
        crops: ``(N, S, S, 3)`` uint8 (heatmap-lifter input) or None.

    Returns:
        ``(N, J, 3)`` float32 normalised 3D, camera frame; and the heatmap student's 2D
        ``(N, J, 2)`` (normalised) or None.
    """
    import torch

    from poselab.distill.data import normalise_input, to_network_input

    model.eval()
    y3, y2 = [], []
    with torch.no_grad():
        for s in range(0, len(w), batch_size):
            sl = slice(s, s + batch_size)
            if kind == "lifter2d":
                out = model(torch.from_numpy(w[sl]).to(device),
                            torch.from_numpy(observed[sl]).to(device))[0]
            else:
                x = normalise_input(to_network_input(torch.from_numpy(crops[sl]).to(device)))
                o = model(x)
                out = o["y3d"]
                y2.append(o["y2d"].float().cpu().numpy())
            y3.append(out.float().cpu().numpy())
    return np.concatenate(y3), (np.concatenate(y2) if y2 else None)


def predict_lifter(checkpoint: dict, collection: PoseCollection, device: str = "cpu",
                   batch_size: int = 256) -> np.ndarray:
    """3D poses of ``collection`` from a lifter checkpoint.

    Args:
        checkpoint: a loaded checkpoint (:func:`poselab.distill.checkpoint.load_checkpoint`)
            of student ``"lifter2d"`` or ``"heatmap-lifter"``.
        collection: samples of the checkpoint's skeleton (images for the heatmap student).

    Returns:
        ``(N, J, 3)`` float32, camera frame (x right, y down, z forward), input pixel scale:
        x, y in image pixels, depth relative, in pixels (like the teacher's ``keypoints_3d``).

    Raises:
        DataError: another skeleton, missing images, samples without observed landmarks.
    """
    import torch

    from poselab.core.progress import drain
    from poselab.core.skeleton import Skeleton
    from poselab.distill.data import build_crops
    from poselab.distill.inputs import check_inputs, prepare_targets

    skel = Skeleton.from_dict(checkpoint["skeleton"])
    if tuple(skel.joint_names) != tuple(collection.skeleton.joint_names):
        raise DataError(collection.source, f"the checkpoint's skeleton {skel.name!r} "
                                           f"({skel.num_joints} joints) differs from the data's")
    kwargs = checkpoint["extra"]["model_kwargs"]
    kind = kwargs["kind"]
    check_inputs(collection, None, need_images=kind == "heatmap-lifter")
    torch.manual_seed(0)
    model = build_model(kwargs)
    model.load_state_dict(checkpoint["model"])
    model.to(device)
    base = prepare_targets(collection)
    crops = None
    if kind == "heatmap-lifter":
        crops = drain(build_crops(collection.image_paths, base.centre, base.scale,
                                  kwargs["input_size"]))
    pred, _ = predict_normalized(model, kind, base.w, base.observed, crops, device, batch_size)
    return denormalize_keypoints(pred, base.centre, base.scale)
