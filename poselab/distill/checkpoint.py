"""Student checkpoints: one ``checkpoint.pt`` per run, written atomically after every epoch.

A checkpoint is a plain dict (loadable with ``torch.load(..., weights_only=True)``)::

    kind="poselab-student", format=1, student, epoch (epochs done), step (optimiser steps done),
    model, optimizer, scheduler (state dicts), rng (torch CPU/CUDA generator states),
    config (TrainConfig.to_dict()), skeleton (Skeleton.to_dict()), sample_ids (list[str]),
    history (list of per-epoch metric dicts), metrics (the last epoch's), split (the held-out
    samples, :meth:`poselab.distill.split.Split.to_dict`), extra (``arch``: the network's
    shape; ``world_size``; ``model_kwargs`` for lifters), content_sha256 (SHA-256 of the model
    weights, :mod:`poselab.core.digest`)

Loading verifies the weights: all finite, and (for checkpoints that store one) the content
hash matches, so a damaged file is an error instead of a student that predicts NaN.

Every student writes this layout (one loop, :mod:`poselab.distill.engine`), so
:func:`poselab.distill.predict.predict` rebuilds any of them from ``student`` and ``extra``.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

from poselab.core.atomic import atomic_write_bytes
from poselab.core.digest import DIGEST_KEY, content_digest, verify_digest
from poselab.core.errors import DataError

log = logging.getLogger(__name__)

KIND = "poselab-student"
FORMAT = 1
FILENAME = "checkpoint.pt"
REQUIRED = ("student", "epoch", "step", "model", "config", "skeleton", "sample_ids")


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (see module docstring) to ``path`` atomically; returns the path.

    The model weights' content hash is stored under ``content_sha256``.
    """
    import torch

    buf = io.BytesIO()
    digest = content_digest(_weights_as_arrays(state["model"])) if "model" in state else None
    torch.save({"kind": KIND, "format": FORMAT, **state, DIGEST_KEY: digest}, buf)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def load_checkpoint(path: str | Path, map_location: str = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    ``path`` may also be a run folder holding ``checkpoint.pt``.

    Raises:
        DataError: missing file, not a torch file, not a poselab student checkpoint, weights
            with NaN or infinite values, or weights that no longer match the stored hash.
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
    _verify_weights(path, state)
    state["path"] = str(path)
    return state


def _weights_as_arrays(model_state: dict) -> dict:
    """name → the tensor's raw bytes as a uint8 numpy array (any dtype, bfloat16 included),
    with dtype and shape in the name, for :func:`content_digest`."""
    import torch

    out = {}
    for name, t in model_state.items():
        if isinstance(t, torch.Tensor):
            t = t.detach().cpu().contiguous()
            out[f"{name}|{t.dtype}|{tuple(t.shape)}"] = t.reshape(-1).view(torch.uint8).numpy()
    return out


def _verify_weights(path: Path, state: dict) -> None:
    import torch

    model = state["model"]
    if not isinstance(model, dict):
        raise DataError(path, "checkpoint's model is not a state dict")
    bad = next((k for k in sorted(model) if isinstance(model[k], torch.Tensor)
                and model[k].is_floating_point() and not bool(torch.isfinite(model[k]).all())),
               None)
    if bad is not None:
        raise DataError(path, f"checkpoint weight {bad!r} holds NaN or infinite values (the "
                              "file is damaged or the training diverged)")
    if not verify_digest(path, _weights_as_arrays(model), state.get(DIGEST_KEY)):
        log.info("%s has no content hash (written by an older poselab); weights are finite",
                 path)
