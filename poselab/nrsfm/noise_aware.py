"""The teacher's output 3D for noisy labels (issue 15; beyond paper 000).

:func:`refine_noise_aware` decides from the data alone whether the 2D labels are exact:

- the label noise σ is estimated (:func:`poselab.nrsfm.noise_estimate.estimate_model`,
  variance components of the least-squares model of :mod:`poselab.nrsfm.least_squares`);
- below :data:`EXACT_LABELS` of the box the labels count as exact and the output goes through
  them with rigid bones (:func:`poselab.nrsfm.articulation.refine`, as before); a sample with
  hidden landmarks is then solved by least squares from that start, so its hidden joints are
  placed by the bones, the network and the labels of the other joints;
- above it, rigid bones: each sample's joints are fitted by least squares from the network's
  shape — labels weighted by the estimated noise, the network's shape as a prior whose
  deviation is scaled per sample (:func:`poselab.nrsfm.noise_estimate.prior_scales`), bones
  near the set's proportions;
- above it, free bones (marker sets, faces): from the network's label residual alone the label
  noise cannot be told from the network's error, and a network that denoises the 2D is only
  made worse by the labels, so the output is the network's own shape — unless the samples
  are frames of a sequence (:mod:`poselab.nrsfm.temporal`): then the noise is known, the
  threshold is :data:`EXACT_LABELS` and noisy labels are averaged with the network by least
  squares, each weighted by its estimated variance (e3d_akhter pickup, 1 % label noise: the
  residual-only rule took the labels as exact, 0.095 against the network's 0.061).

**Uncertainty** (``std``, saved as ``NRSfMResult.keypoints_3d_std``): each joint's posterior
standard deviation ``√tr Σ_jj`` in that model, i.e. the RMS 3D error it expects, computed
without ground truth. It is larger for hidden joints (no 2D term), rises with the estimated
noise, and — through the per-sample prior scale — with how badly the network fits the
sample's 2D and how far its bones stray from the set's proportions, so it ranks real errors:
Spearman of the per-sample mean with the per-sample 3D error on held-out h36m17_train35k
S7/S8 0.37 (σ = 5 px) and 0.30 (σ = 10), per joint 0.24 / 0.18 (0.09 per sample on
S1/S5/S6 before the per-sample scale; the demo's −0.19 had no scale at all; measured with
independent joints; with the learnt covariance below, on the same S7/S8 fits, 0.34 / 0.44 at
σ = 5 px and 0.35 / 0.51 with 30 % hidden). A ranking, not a calibrated error bar.

The network's errors are correlated over the joints: with rigid bones, when the labels are
noisy or landmarks hidden, the prior's full covariance is learnt from the data
(:mod:`poselab.nrsfm.prior_covariance`, figures there) and used by the output step; the
self-training targets and exact, fully observed sets keep independent joints. The
confidence (self-training weight) is the share of the prior variance the data removed.
The output step (``widen``, rigid bones) solves with the prior's deviations widened by
:data:`OUTPUT_PRIOR_WIDENING`: the estimated ones are 3–5× smaller than real networks' errors
(figures there; S7/S8 σ = 5 px output 63.2 → 61.1 mm MPJPE, 30 % hidden 62.0 → 59.9).

Measured with independent joints (MPJPE / PA-MPJPE / depth mm, network's shapes → output;
with the learnt covariance: :mod:`poselab.nrsfm.prior_covariance`; settings chosen on
h36m17_train35k S1/S5/S6, 5000 samples, 3000-step networks, σ = 5: 92.9 / 66.5 / 73.9 →
85.7 / 61.9 / 72.0, σ = 10: 113.9 / 77.3 / 87.5 → 109.6 / 75.3 / 86.5), reported on S7/S8
(12960 samples, default fits): σ = 5 px 73.3 / 50.9 / 56.3 → 68.7 / 47.6 / 55.5 (noise
estimated 5.25 px), σ = 10 px 113.6 / 72.8 / 88.6 → 111.0 / 71.8 / 87.8 (10.28 px; a later
fit, with the labels smoothed along the samples' order, 90.8 / 61.9 / 68.3 → 87.6 / 60.8 / 68.6).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from poselab.nrsfm.least_squares import VCE_ITERATIONS, NoiseModel, refine_lsq
from poselab.nrsfm.noise_estimate import (
    estimate_model,
    network_residual_px,
    prior_scales,
    vce_rows,
)
from poselab.nrsfm.prior_covariance import EM_MIN_SAMPLES, estimate_prior_covariance
from poselab.nrsfm.temporal import (
    choose_width,
    temporal_noise,
    temporal_noise_bound,
)

#: Estimated label noise below this fraction of the median box side counts as exact labels:
#: the output then goes through them as in :mod:`poselab.nrsfm.articulation`. Chosen on
#: h36m17_train35k subjects S1/S5/S6 (5000 samples, 3000-step networks, boxes ~300 px): σ = 0
#: was estimated 0.89 px (0.3 %; through the labels 40.8 / 31.9 / 39.4 mm, least squares
#: 49.9 / 39.1 / 47.7), σ = 2 px 2.56 px (0.9 %; through the labels 70.4 / 50.9 / 64.3, depth
#: worse than the network's 62.4; least squares 65.1 / 48.7 / 58.6), σ = 5 px 5.32 px (1.8 %).
EXACT_LABELS = 0.005
#: The same for free bones, whose noise estimate is the network's whole label residual (an
#: upper bound): the previous 1 %, under which the classic sequences with exact 2D and the
#: synthetic low-rank problems of the tests count as exact.
EXACT_LABELS_FREE = 0.01
#: The output's prior standard deviations widened (x, y; depth) beyond the estimated ones
#: (:meth:`poselab.nrsfm.least_squares.NoiseModel.widened`). The variance components see only
#: the part of the network's error that the labels and bones contradict, and the network was
#: trained on those very labels: against the ground truth (scoring only) the estimated
#: deviations were 3–5× too small (h36m17_train35k S1/S5/S6, σ = 5 px: per-coordinate prior
#: std 0.010 / 0.007 / 0.013 box units in x / y / depth, real network error 0.029 / 0.025 /
#: 0.069; exact labels 0.015 / 0.015 / 0.020 against 0.024 / 0.021 / 0.058). Chosen on
#: S1/S5/S6 (5000 samples, output step only, the same networks; MPJPE / PA-MPJPE / depth mm):
#: σ = 5 px 73.6 / 53.4 / 58.3 → 70.9 / 51.5 / 57.5 (variance ×4 / ×4: 71.4; ×16 / ×4: 70.8;
#: ×8 / ×8: 70.9), 30 % hidden 75.0 / 58.5 / 60.7 → 73.4 / 58.3 / 59.6 (×16 / ×4: 73.7 / 58.7
#: / 59.7; ×16 / ×1 worse than none, 75.5). Labels found exact keep their shapes (only the
#: uncertainty widens). Rigid bones only: on the classic sequences (free bones, σ = 1 % of the
#: box, labels smoothed along the order) it cost 0.001–0.002 e3d_akhter on all four (drink
#: 0.0453 → 0.0471), and on synthetic bodies whose network errors are independent, as the
#: model assumes, it costs too (tests/nrsfm/test_least_squares.py): it corrects real
#: networks' errors, which the model does not describe, not the model.
OUTPUT_PRIOR_WIDENING = (8 ** 0.5, 2.0)
#: Samples per chunk of :func:`refine_noise_aware` (its ``(chunk, 3J, 3J)`` systems stay small).
CHUNK = 2048


@dataclass
class Refined:
    """Output of :func:`refine_noise_aware`.

    Attributes:
        shapes: ``(N, J, 3)`` float32 box units, camera frame.
        std: ``(N, J)`` float32 per-joint uncertainty, box units (√tr of the posterior
            covariance).
        confidence: ``(N, J)`` float32 in [0.05, 1]: the share of the network's prior variance
            the data removed, ``1 − std² / (k² tr Σ_jj)`` (Σ_jj the joint's prior
            covariance, k the sample's prior scale; the self-training weight).
        proportions: ``(E,)`` bone proportions used, or None (bones free).
        model: the :class:`NoiseModel` used.
        network_px: ``(N,)`` float32 RMS label residual of the network's shapes, pixels.
        exact: the estimated noise was below :data:`EXACT_LABELS` of the box: the shapes are
            those through the labels (:func:`poselab.nrsfm.articulation.refine`).
    """

    shapes: np.ndarray
    std: np.ndarray
    confidence: np.ndarray
    proportions: np.ndarray | None
    model: NoiseModel
    network_px: np.ndarray
    exact: bool = False


def refine_noise_aware(X, inputs, tau, skeleton, bone_mode: str = "auto",
                       proportions: np.ndarray | None = None, model: NoiseModel | None = None,
                       start: NoiseModel | None = None, full_covariance: bool = True,
                       iterations: int = VCE_ITERATIONS, through_labels: bool | None = None,
                       known_noise: float | None = None, widen: bool = False,
                       converge: bool = True) -> Refined:
    """The teacher's output 3D for noisy labels (module docstring).

    Starts from the exact-ray, rigid-bone shapes of :func:`poselab.nrsfm.articulation.refine`
    (the same front/back order of each bone), estimates the variances on at most
    :data:`poselab.nrsfm.least_squares.VCE_SAMPLES` samples
    (:func:`poselab.nrsfm.noise_estimate.vce_rows`; unless ``model`` is given), then solves
    every sample in chunks of :data:`CHUNK`.

    Args:
        X: ``(N, J, 3)`` network shapes, camera frame, box units. inputs:
            :class:`poselab.nrsfm.data.NRSfMInputs`. tau: ``(N, 2)`` the fit's 2D offsets.
        skeleton: the landmarks' skeleton; bone_mode: ``NRSfMConfig.bone_lengths``.
        proportions: ``(E,)`` to impose (None: estimate). model: variances to use (None:
            estimate from these samples, ``iterations`` rounds from ``start``; ``converge``:
            the second pass's label-noise rounds, with the samples' prior scales, repeated
            until it settles, :data:`poselab.nrsfm.noise_estimate.NOISE_TOLERANCE`).
            full_covariance: see :func:`refine_lsq`. through_labels: True: keep the shapes
            through the labels whatever the noise (the self-training targets: on
            h36m17_train35k S1/S5/S6, 5000 samples, σ = 5 px, a network self-trained on them
            scored 91.8 mm MPJPE and its least-squares output 85.4, against 97.6 and 94.0
            when self-trained on the least-squares shapes); None: decide by the noise.
        known_noise: the labels' noise when known (px per coordinate; labels smoothed along
            a sequence before the fit, :func:`sequence_smoothing`): taken as the noise, and
            never "exact".
        widen: with rigid bones, solve with the prior widened by
            :data:`OUTPUT_PRIOR_WIDENING` (the output step; the returned ``model`` is the
            estimated one, unwidened).

    Returns:
        :class:`Refined`.
    """
    from poselab.nrsfm.articulation import refine, rigid_wanted

    X = np.asarray(X, np.float64)
    Y0, proportions = refine(X, inputs, tau, skeleton, True, bone_mode, proportions)
    rigid = rigid_wanted(bone_mode, skeleton, warn=False) and proportions is not None
    bones = skeleton.bones_array if rigid else None
    N = len(X)

    def args(sel):
        return (inputs.n[sel], inputs.mask[sel], tau[sel], inputs.sigma[sel],
                inputs.ray_centre[sel], inputs.scale[sel])

    every = slice(None)
    estimated = model is None
    # the samples the variances are learnt on: the label noise on the least-hidden ones, the
    # network's variances (and its error covariance) on evenly spaced ones (vce_rows)
    rows = vce_rows(inputs.mask)
    sub = rows[1]
    if model is None:
        kp = _pixels(inputs.n, inputs)
        given = known_noise is not None
        bound = known_noise if given else temporal_noise_bound(kp, inputs.mask)
        # the first pass only scales the samples' priors: without those scales the network's
        # error, larger on some samples, passes for label noise the longer it iterates
        first = estimate_model(X, Y0, *args(every), bones, proportions, iterations, start,
                               noise_bound=bound, noise_known=given, rows=rows)
        k = prior_scales(X, *args(every), bones, proportions, first)
        model = estimate_model(X, Y0, *args(every), bones, proportions, iterations, first,
                               prior_scale=k, noise_bound=bound, noise_known=given,
                               rows=rows, converge=converge)
        model.misfit_ref, model.bone_dev_ref = first.misfit_ref, first.bone_dev_ref
    else:
        model = replace(model)
    # the samples' scales at the settled (or given) noise: a fit and a given model (new
    # samples, reconstruct) then scale alike and give the same shapes
    k = prior_scales(X, *args(every), bones, proportions, model)
    known = rigid or model.temporal > 0  # the label noise is told from the network's error
    if not rigid and model.temporal > 0:
        # free bones, noise from the order: a sample's residual is then mostly label noise and
        # says little about the network's error there (one prior scale for all samples)
        k = np.ones(N)
    exact = model.noise_px < ((EXACT_LABELS if known else EXACT_LABELS_FREE)
                              * float(np.median(inputs.scale)))
    if known_noise is not None:
        exact = False  # smoothed labels: their noise is known, weighted by it
    if through_labels is not None:
        exact = through_labels
    hidden = bool((inputs.mask < 1).any())
    if (estimated and rigid and through_labels is None and (not exact or hidden)
            and N >= EM_MIN_SAMPLES):
        # the network's errors, correlated over the joints (prior_covariance.py); a given
        # model (the fitted set's, for new samples) is used as it is
        model.prior_cov = estimate_prior_covariance(X[sub], *args(sub), bones, proportions,
                                                    model, prior_scale=k[sub])
    estimated_model = model
    if widen and rigid:
        model = model.widened(*OUTPUT_PRIOR_WIDENING)
    out = np.empty(X.shape, np.float32)
    std = np.empty(X.shape[:2], np.float32)
    net = np.empty(N, np.float32)
    prior = model.prior_variance(X.shape[1])[None]
    for first_i in range(0, N, CHUNK):
        sel = slice(first_i, first_i + CHUNK)
        if exact:  # labels about exact: through them (articulation.py), uncertainty at Y0
            Y, sd = refine_lsq(X[sel], Y0[sel], *args(sel), model, bones, proportions,
                               steps=0, full_covariance=full_covariance, prior_scale=k[sel])
            part = np.flatnonzero((inputs.mask[sel] < 1).any(1)) + first_i
            if rigid and len(part) and not through_labels:
                # hidden joints: placed by the bones, the network and the (exact) labels
                Y[part - first_i], sd[part - first_i] = refine_lsq(
                    X[part], Y0[part], *args(part), model, bones, proportions,
                    full_covariance=full_covariance, prior_scale=k[part])
        elif known:  # noisy: least squares from the network's shape
            Y, sd = refine_lsq(X[sel], X[sel], *args(sel), model, bones, proportions,
                               full_covariance=full_covariance, prior_scale=k[sel])
        else:  # noisy, bones free: the network's own shape (module docstring)
            Y, sd = refine_lsq(X[sel], X[sel], *args(sel), model, None, None, steps=0,
                               full_covariance=full_covariance, prior_scale=k[sel])
        out[sel], std[sel] = Y, sd
        net[sel] = network_residual_px(X[sel], *args(sel))
    conf = np.clip(1 - std.astype(np.float64) ** 2 / (prior * k[:, None] ** 2), 0.05, 1.0)
    return Refined(out, std, conf.astype(np.float32), proportions, estimated_model, net,
                   bool(exact))


def sequence_smoothing(X, inputs, tau, skeleton, bone_mode: str = "auto"
                       ) -> tuple[float, float]:
    """Whether the labels are a noisy sequence worth smoothing along its order:
    ``(width in samples, label noise px per coordinate)``; width 0 when the noise is not told
    from the network's error or smoothing does not pay (SURE,
    :func:`poselab.nrsfm.temporal.choose_width`; none for samples in no order). Arguments as
    :func:`refine_noise_aware`. :mod:`poselab.nrsfm.relabel` (``NRSfMConfig.smooth_sequences``)
    then has the fit run again on the smoothed labels; it is the only place that decides."""
    kp = _pixels(inputs.n, inputs)
    cap = temporal_noise(kp, inputs.mask)
    if not np.isfinite(cap) or choose_width(kp, inputs.mask, cap)[0] == 0:
        # smoothing pays less the smaller the noise: if it does not pay at the order's own
        # estimate, the cap of _width, it cannot (1 s on 35k samples instead of 11)
        return 0.0, float(cap)
    model, rigid = _noise_model(X, inputs, tau, skeleton, bone_mode, converge=False)
    if not rigid and not model.temporal:
        return 0.0, float(model.noise_px)
    return _width(kp, inputs.mask, model.noise_px), float(model.noise_px)


def label_noise(X, inputs, tau, skeleton, bone_mode: str = "auto", bounded: bool = True,
                converge: bool = True) -> float | None:
    """The labels' noise σ, pixels per coordinate, estimated from the network's label residual
    with rigid bones (:func:`poselab.nrsfm.noise_estimate.estimate_model`, ``converge`` as
    there; no ground truth), or None when the bones are
    free (the noise is then not told from the network's own error without an order).
    Arguments as :func:`refine_noise_aware`; :func:`poselab.nrsfm.fit` uses it to decide
    whether to denoise unordered labels (:mod:`poselab.nrsfm.denoise`), and
    :mod:`poselab.nrsfm.selection` (``bounded`` False: not capped by the samples' order, which
    a random subset of them does not have) to compare restarts."""
    model, rigid = _noise_model(X, inputs, tau, skeleton, bone_mode, two_pass=True,
                                bounded=bounded, converge=converge)
    return float(model.noise_px) if rigid else None


def labels_exact(noise_px: float, inputs) -> bool:
    """Whether a noise estimate (rigid bones) is below :data:`EXACT_LABELS` of the boxes."""
    return noise_px < EXACT_LABELS * float(np.median(inputs.scale))


def _noise_model(X, inputs, tau, skeleton, bone_mode: str, two_pass: bool = False,
                 bounded: bool = True, converge: bool = True) -> tuple[NoiseModel, bool]:
    """:func:`poselab.nrsfm.noise_estimate.estimate_model` on the rows of
    :func:`poselab.nrsfm.noise_estimate.vce_rows`, started from the exact-ray shapes
    (``two_pass``: then again with the samples' prior scales, as :func:`refine_noise_aware`,
    and only that pass run until it settles with ``converge``: see
    :data:`poselab.nrsfm.noise_estimate.NOISE_TOLERANCE`); and whether the bones are rigid."""
    from poselab.nrsfm.articulation import refine, rigid_wanted

    X = np.asarray(X, np.float64)
    Y0, p = refine(X, inputs, tau, skeleton, True, bone_mode, None)
    rigid = rigid_wanted(bone_mode, skeleton, warn=False) and p is not None
    bones = skeleton.bones_array if rigid else None
    p = p if rigid else None
    args = (inputs.n, inputs.mask, tau, inputs.sigma, inputs.ray_centre, inputs.scale)
    bound = (temporal_noise_bound(_pixels(inputs.n, inputs), inputs.mask) if bounded
             else float("inf"))
    rows = vce_rows(inputs.mask)
    model = estimate_model(X, Y0, *args, bones, p, noise_bound=bound, rows=rows,
                           converge=converge and not two_pass)
    if rigid and two_pass:  # as refine_noise_aware: again with each sample's prior scale
        k = prior_scales(X, *args, bones, p, model)
        model = estimate_model(X, Y0, *args, bones, p, start=model, prior_scale=k,
                               noise_bound=bound, rows=rows, converge=converge)
    return model, rigid


def _width(kp: np.ndarray, mask: np.ndarray, noise: float) -> float:
    """:func:`poselab.nrsfm.temporal.choose_width` given the smaller of the estimated noise
    and the order's motion-corrected one (SURE needs an estimate, not a bound: with the
    motion's share counted as noise it smoothed exact labels of fast motion)."""
    return choose_width(kp, mask, min(noise, temporal_noise(kp, mask)))[0]


def _pixels(n: np.ndarray, inputs) -> np.ndarray:
    """Normalised 2D ``(N, J, 2)`` → the input's pixels (DESIGN §3; perspective: fx = fy)."""
    return (np.asarray(n, np.float64) * inputs.scale[:, None, None]
            + inputs.centre[:, None, :])
