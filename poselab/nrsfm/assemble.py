"""The result of a trained Deep NRSfM network: inference on every sample, the output step
(:mod:`poselab.nrsfm.noise_aware` least squares, or the labelled rays with rigid bones of
:mod:`poselab.nrsfm.articulation`), the output's depth signs and orientation
(:mod:`poselab.nrsfm.output_signs`), packed into an :class:`NRSfMResult` in input pixels.

Used at the end of :func:`poselab.nrsfm.fit.fit` and by
:func:`poselab.nrsfm.reconstruct.reconstruct` (new samples through a fitted network, with the
fit's bone proportions and noise model).
"""

from __future__ import annotations

import numpy as np

from poselab.nrsfm.config import NRSfMConfig
from poselab.nrsfm.data import NRSfMInputs
from poselab.nrsfm.output_signs import oriented, perspective_sign_fixed
from poselab.nrsfm.result import NRSfMResult
from poselab.nrsfm.targets import sign_fixed


def build_result(run, data, inputs: NRSfMInputs, skeleton, sample_ids, config: NRSfMConfig,
                 history: dict, extra: dict, proportions: np.ndarray | None = None,
                 noise_model: dict | None = None, known_noise: float | None = None,
                 reflection: int | None = None, completer: dict | None = None) -> NRSfMResult:
    """Run inference on every sample and pack an :class:`NRSfMResult` (invariant holds):
    ``keypoints_3d (N, J, 3)`` float32, camera frame, input pixels (x, y the labelled pixels,
    z the depth relative to the sample's centre in the same pixel units; ``keypoints_3d_std``
    likewise) from ``run``'s network on
    ``data``/``inputs`` (:mod:`poselab.nrsfm.train`, :mod:`poselab.nrsfm.data`).
    ``known_noise``: the labels' noise when known, pixels per coordinate
    (:func:`poselab.nrsfm.fit.fit`). ``reflection``: the whole set's orientation under weak
    perspective (:func:`poselab.nrsfm.output_signs.oriented`): None = chosen by the bodies'
    knees, ±1 = given (the fitted set's, when reconstructing new samples).

    ``proportions``: bone proportions to impose when the bones are rigid (those of the fitted
    set when reconstructing new samples); None = estimate them from these samples.
    ``noise_model``: the variances of the least-squares output step
    (:class:`poselab.nrsfm.least_squares.NoiseModel` as a dict, e.g. the fitted set's);
    None = estimate them from these samples.
    ``completer``: the hidden-landmark predictor's parameters (:mod:`poselab.nrsfm.completion`),
    kept in ``model_state`` for
    :func:`poselab.nrsfm.reconstruct.reconstruct`; None: none was trained.
    Samples whose left and right labels look swapped for some limbs (``config.label_swaps``,
    :mod:`poselab.nrsfm.swaps`) are listed in ``extra["label_swaps"]`` and, with
    ``"correct"``, given the output of their labels with the swap applied.
    With ``config.reflection_repair`` the output's depth signs are made consistent and a set
    of bodies turned by its knees (:func:`poselab.nrsfm.output_signs.oriented`; weak
    perspective :func:`poselab.nrsfm.targets.sign_fixed`, perspective
    :mod:`poselab.nrsfm.output_signs`):
    ``extra["output_mirrored"]`` samples were given their mirror.
    """
    from poselab.nrsfm.articulation import refine

    extra = dict(extra)
    out = run.infer(data)
    if config.label_swaps != "off" and skeleton.left_right:
        # samples whose left and right labels disagree between limbs (swaps.py)
        from poselab.nrsfm.swaps import corrected, network_check
        from poselab.nrsfm.train import Batches

        swaps = network_check(run, inputs, skeleton, out["err"])
        fix = bool(swaps is not None and config.label_swaps == "correct" and swaps.flagged.any())
        extra["label_swaps"] = None if swaps is None else {**swaps.info(), "corrected": fix}
        if fix:  # those samples' output from their labels swapped
            inputs = corrected(inputs, swaps)
            idx = np.flatnonzero(swaps.flagged)
            for k, v in run.infer(Batches(inputs, run.device), idx).items():
                out[k][idx] = v
    J = skeleton.num_joints
    D1 = run.model.dictionaries()[0].detach().cpu().numpy()  # (J, 3, K1)
    dictionary = D1.reshape(J * 3, -1).astype(np.float32)
    codes = out["phi1"].astype(np.float32, copy=False)  # (N, K1): the largest array
    R = out["R"].astype(np.float32, copy=False)
    X = np.einsum("nk,jk->nj", codes, dictionary).reshape(-1, J, 3) @ R.transpose(0, 2, 1)
    std = net_px = None
    if config.noise_aware and config.exact_2d:
        # exact labels: through them; noisy: least squares (noise_aware.py)
        from poselab.nrsfm.least_squares import NoiseModel
        from poselab.nrsfm.noise_aware import refine_noise_aware

        given = noise_model if noise_model is None else NoiseModel.from_dict(noise_model)
        ref = refine_noise_aware(X, inputs, out["tau"], skeleton, config.bone_lengths,
                                 proportions, given, known_noise=known_noise, widen=True)
        Y, proportions, std, net_px = ref.shapes, ref.proportions, ref.std, ref.network_px
        extra.update(noise_px=float(ref.model.noise_px), noise_model=ref.model.to_dict(),
                     labels_exact=ref.exact)
    else:  # on the observed rays, bones rigid when asked (articulation.py)
        Y, proportions = refine(X, inputs, out["tau"], skeleton, config.exact_2d,
                                config.bone_lengths, proportions)
    sign = 1
    if config.reflection_repair and inputs.camera_model == "weak_perspective":
        # samples of the output still mirrored against the rest (the network's shapes can
        # look consistent while the rigid-bone output does not: CMU soccer, 7 of 233 frames)
        # take their depth mirror, which has the same 2D and bone lengths; then the whole set
        # is turned the way its knees say
        Y, extra["output_mirrored"] = sign_fixed(Y, skeleton)
        X, Y, R, dictionary, sign = oriented(X, Y, R, dictionary, skeleton, reflection)
    elif config.reflection_repair:  # perspective: the same for bodies, on the rays
        Y, extra["output_mirrored"], extra["output_mirrored_flagged"] = \
            perspective_sign_fixed(Y, inputs, skeleton)
        X, Y, R, dictionary, sign = oriented(X, Y, R, dictionary, skeleton, reflection, inputs)
    # x, y in pixels: Y's box units → pixels; τ (the solved 2D offset) moves the centre.
    centre = (inputs.centre + out["tau"] * inputs.scale[:, None]).astype(np.float32)
    scale = inputs.scale.astype(np.float32)
    kp3d = Y * scale[:, None, None]
    kp3d[..., :2] += centre[:, None, :]
    extra.update(num_joints=J, reproj_final=float(out["err"].mean()),
                 sigma_mean=float(inputs.sigma.mean()),
                 bone_proportions=None if proportions is None else proportions.tolist())
    return NRSfMResult(
        skeleton=skeleton, sample_ids=list(sample_ids),
        keypoints_3d=kp3d.astype(np.float32, copy=False),
        shapes_normalized=X.astype(np.float32, copy=False), rotations=R, codes=codes,
        dictionary=dictionary,
        centre=centre, scale=scale, camera_model=inputs.camera_model, reflection=sign,
        loss_history={k: np.asarray(v, np.float32) for k, v in history.items()},
        config=config.to_dict(), model_state={**run.model.state_numpy(), **(completer or {})},
        extra=extra,
        keypoints_3d_std=None if std is None else std * scale[:, None],
        reprojection_error_network=net_px)
