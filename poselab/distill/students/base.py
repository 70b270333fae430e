"""The :class:`Student` interface: what the one training loop (:mod:`poselab.distill.engine`)
and prediction (:mod:`poselab.distill.predict`) need from a student network.

A student knows its network (``arch``/``build``), the inputs it needs (``needs_images``,
``needs_2d``), its training phases and learning-rate schedule, how to turn sample indices into
an (augmented) batch, its losses, and how to run the network in eval mode. The loop owns the
data order, optimiser, scheduler, checkpoints, resume, cancel, torchrun and evaluation.

All poses are in the student's normalised units (DESIGN.md §3: the sample's landmark box, or
the whole image for unlabelled images), crop camera frame (x right, y down, z forward).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any, ClassVar

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.progress import CancelToken, Progress


class Student:
    """Base class of the three students (integral, heatmap-lifter, lifter2d).

    Args:
        config: :class:`poselab.distill.config.TrainConfig` of the run (or the checkpoint's).
        num_joints: J.

    Attributes set by :meth:`prepare`: ``targets`` (:class:`poselab.distill.inputs.Targets`)
    and ``crops`` (``(N, S, S, 3)`` uint8 or None).
    """

    name: ClassVar[str] = ""
    needs_images: ClassVar[bool] = False
    #: the network's input is 2D landmarks: every sample to predict needs observed ones
    needs_2d: ClassVar[bool] = True
    #: autocast on CUDA (``config.amp``); the lifters train in float32.
    uses_amp: ClassVar[bool] = False
    #: DDP must tolerate parameters without gradient (heatmap pre-training).
    find_unused_parameters: ClassVar[bool] = False

    def __init__(self, config, num_joints: int) -> None:
        self.config = config
        self.num_joints = num_joints
        self.targets = None
        self.crops: np.ndarray | None = None
        self.device = "cpu"

    # ------------------------------------------------------------------ network
    def arch(self) -> dict[str, Any]:
        """JSON-ready description of the network's shape; a resumed run must match it."""
        raise NotImplementedError

    def build(self):
        """A freshly initialised ``torch.nn.Module`` for :meth:`arch` (seed torch first)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ schedule
    def phases(self) -> list[tuple[str, int]]:
        """``[(phase name, epochs), ...]`` run in order; default one ``"train"`` phase."""
        return [("train", int(self.config.epochs))]

    def lr_factor(self, step: int, steps_per_epoch: int) -> float:
        """Learning-rate multiplier before optimiser step ``step`` (0-based); a pure function
        of the step, so a resumed run continues the same schedule. Default: cosine decay to
        1 % over the whole run (paper 000 §5.1: 1e-3 → 1e-5)."""
        total = max(1, steps_per_epoch * sum(e for _, e in self.phases()))
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))

    def phase_at(self, epoch: int) -> str:
        """Name of the phase that epoch ``epoch`` (0-based) belongs to."""
        end = 0
        for name, n in self.phases():
            end += n
            if epoch < end:
                return name
        return self.phases()[-1][0]

    # ------------------------------------------------------------------ data
    def check(self, collection: PoseCollection, teacher) -> None:
        """Raise :class:`poselab.core.errors.DataError` when the run cannot start."""
        from poselab.distill.inputs import check_inputs

        check_inputs(collection, teacher, need_images=self.needs_images)

    def prepare(self, collection: PoseCollection, teacher, device: str,
                cancel: CancelToken | None = None) -> Generator[Progress, None, None]:
        """Build ``targets`` (and ``crops``) for training on ``device`` (generator)."""
        raise NotImplementedError
        yield  # pragma: no cover

    def batch(self, idx: np.ndarray, phase: str, generator) -> dict:
        """Torch tensors of samples ``idx`` on the device, augmented with ``generator``."""
        raise NotImplementedError

    def forward(self, net, batch: dict, phase: str) -> dict:
        """The network's training outputs for a batch (``net`` may be wrapped in DDP)."""
        raise NotImplementedError

    def losses(self, net, batch: dict, phase: str) -> dict:
        """Loss terms of one batch (scalar tensors); ``"total"`` is what is minimised."""
        raise NotImplementedError

    # ------------------------------------------------------------------ inference
    def predict_normalized(self, model, inputs: dict, idx: np.ndarray, device: str,
                           batch_size: int = 256) -> tuple[np.ndarray, np.ndarray | None]:
        """Eval-mode output for samples ``idx`` of ``inputs``.

        Args:
            inputs: ``w (N, J, 2)`` float32 normalised 2D, ``observed (N, J)`` bool,
                ``crops (N, S, S, 3)`` uint8 or None.
            idx: ``(n,)`` int rows of ``inputs`` to run.

        Returns:
            ``(n, J, 3)`` float32 normalised 3D and the student's own ``(n, J, 2)`` 2D
            (normalised) or None when its 2D is its input (lifter2d).
        """
        raise NotImplementedError

    def extra_metrics(self, y2d: np.ndarray | None, idx: np.ndarray) -> dict[str, float]:
        """Student-specific scores added to :func:`~poselab.distill.evaluation.student_metrics`
        (e.g. the heatmap network's own 2D error); default none."""
        return {}


def to_device(array: np.ndarray, device):
    """``torch.from_numpy`` of a contiguous copy, on ``device``."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(array)).to(device)
