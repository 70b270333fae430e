"""Student checkpoints: one ``checkpoint.pt`` per run, written atomically after every epoch.

A checkpoint is a plain dict (loadable with ``torch.load(..., weights_only=True)``)::

    kind="poselab-student", format=1, student, epoch (epochs done), step (optimiser steps done),
    model, optimizer, scheduler (state dicts), rng (torch CPU/CUDA generator states),
    config (TrainConfig.to_dict()), skeleton (Skeleton.to_dict()), sample_ids (list[str]),
    history (list of per-epoch metric dicts), metrics (the last epoch's), extra (free dict)

The lifter students (``poselab.distill.lifter_train``) write the same layout, so
:func:`poselab.distill.predict.predict` can dispatch on ``student``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from poselab.core.atomic import atomic_write_bytes
from poselab.core.errors import DataError

KIND = "poselab-student"
FORMAT = 1
FILENAME = "checkpoint.pt"
REQUIRED = ("student", "epoch", "step", "model", "config", "skeleton", "sample_ids")


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (see module docstring) to ``path`` atomically; returns the path."""
    import torch

    buf = io.BytesIO()
    torch.save({"kind": KIND, "format": FORMAT, **state}, buf)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def load_checkpoint(path: str | Path, map_location: str = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    ``path`` may also be a run folder holding ``checkpoint.pt``.

    Raises:
        DataError: missing file, not a torch file, or not a poselab student checkpoint.
    """
    import torch

    path = Path(path)
    if path.is_dir():
        path = path / FILENAME
    if not path.is_file():
        raise DataError(path, "checkpoint not found")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises many types for a bad file
        raise DataError(path, f"cannot read checkpoint ({type(err).__name__}: {err})") from None
    if not isinstance(state, dict) or state.get("kind") != KIND:
        raise DataError(path, "not a poselab student checkpoint")
    missing = [k for k in REQUIRED if k not in state]
    if missing:
        raise DataError(path, f"checkpoint lacks {missing}")
    state["path"] = str(path)
    return state
