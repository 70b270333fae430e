"""3D for new 2D samples through a fitted Deep NRSfM teacher, without training.

The network of a :func:`poselab.nrsfm.fit.fit` result is rebuilt from ``model_state`` and its
encoder run on the new samples; hidden landmarks are completed by the result's predictor
when it has one, blended along the new samples' order as the fit did
(:func:`poselab.nrsfm.completion.complete_inputs`), and the output step is the fit's
(:func:`poselab.nrsfm.assemble.build_result`, with the fit's bone proportions and noise model).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from poselab.core.errors import DataError
from poselab.nrsfm.config import NRSfMConfig
from poselab.nrsfm.data import prepare_inputs
from poselab.nrsfm.result import NRSfMResult


def reconstruct(result: NRSfMResult, keypoints_2d: np.ndarray,
                visibility: np.ndarray | None = None, intrinsics: np.ndarray | None = None,
                device: str = "cpu") -> NRSfMResult:
    """3D for new 2D samples through the trained encoder (no training).

    Args:
        result: a fitted teacher (rebuilt from ``result.model_state``).
        keypoints_2d: ``(M, J, 2)`` pixels; visibility ``(M, J)`` or None; intrinsics
            ``(M, 3, 3)``/``(3, 3)``, needed when the teacher was fitted with perspective.
        device: torch device.

    Returns:
        An :class:`NRSfMResult` for the M samples (ids ``"0"..``), same invariant.

    Raises:
        DataError: bad 2D (see :func:`prepare_inputs`), or no model state in ``result``.
    """
    import torch

    from poselab.nrsfm.train import Batches, Run

    if not result.model_state:
        raise DataError(None, "this NRSfM result holds no model state; cannot reconstruct")
    config = NRSfMConfig.from_dict(result.config)
    if config.impute_missing and result.extra.get("imputation") != "filled":
        # written before 2026-12-04, when the imputation pass repeated the first: its
        # network was trained on one pass, so it is run with one
        config = config.replace(impute_missing=False)
    inputs = prepare_inputs(keypoints_2d, visibility, intrinsics, result.camera_model,
                            min_samples=1)
    if inputs.n.shape[1] != result.skeleton.num_joints:
        raise DataError(None, f"expected {result.skeleton.num_joints} landmarks per sample, "
                              f"got {inputs.n.shape[1]}")
    from poselab.nrsfm.completion import complete_inputs, split_state

    state, completer = split_state(result.model_state)
    if completer and bool((inputs.mask < 1).any()):  # as the network was trained: completed
        inputs = dataclasses.replace(inputs, completion=complete_inputs(
            completer, inputs, result.skeleton.num_joints))
    run = Run(result.skeleton.num_joints, config, 0, device)
    run.model.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
    data = Batches(inputs, device)
    ids = [str(i) for i in range(inputs.n.shape[0])]
    proportions = result.extra.get("bone_proportions")
    from poselab.nrsfm.assemble import build_result

    return build_result(run, data, inputs, result.skeleton, ids, config, {}, {},
                        None if proportions is None else np.asarray(proportions),
                        result.extra.get("noise_model"), reflection=result.reflection,
                        completer=completer or None)
