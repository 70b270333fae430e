"""The lifter students' networks (paper 001; DESIGN.md §5b–c): the constructor arguments a
config gives (stored in every lifter checkpoint) and the network they describe.
"""

from __future__ import annotations

from typing import Any


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
