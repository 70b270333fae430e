"""How noisy the labels are and how good the network is, from the data alone (issue 15).

The variance components of the least-squares model of :mod:`poselab.nrsfm.least_squares`
(:func:`estimate_noise`, variance-component estimation as that module's docstring gives it;
:func:`estimate_model` chooses its samples and stages), the network's reprojection error per
landmark and sample (:func:`landmark_residual_px`, :func:`network_residual_px`), on which
samples they are estimated (:func:`vce_rows`), and how far each sample's network shape is
trusted (:func:`prior_scales`). Used by the output step
(:func:`poselab.nrsfm.noise_aware.refine_noise_aware`) and the label-noise checks of
:mod:`poselab.nrsfm.noise_aware`.
"""

from __future__ import annotations

import numpy as np

from poselab.nrsfm.least_squares import (
    STIFF_BONES,
    VCE_ITERATIONS,
    VCE_SAMPLES,
    NoiseModel,
    Problem,
    noise_floor,
)

#: The order's noise bound identifies the label noise (free bones) when below this multiple of
#: the network's label residual (that residual is at least the noise unless the network fits
#: the noise: e3d_akhter pickup with 1 % noise, bound 0.057, residual 0.056).
IDENTIFY_RATIO = 1.25
#: Range of the per-sample multiplier of the network's prior deviations (:func:`prior_scales`).
PRIOR_SCALE_RANGE = (0.3, 5.0)


def network_residual_px(X, n, mask, tau, sigma, ray_centre, scale) -> np.ndarray:
    """``(N,)`` RMS reprojection error of the network's shapes over the observed landmarks,
    pixels (per landmark, both coordinates: ``√(Σ_j m_j ‖Δ_j‖² / Σ_j m_j)``)."""
    r2 = landmark_residual_px(X, n, mask, tau, sigma, ray_centre, scale) ** 2
    return np.sqrt(r2.sum(1) / np.maximum(np.asarray(mask, np.float64).sum(1), 1))


def landmark_residual_px(X, n, mask, tau, sigma, ray_centre, scale, chunk: int = 8192
                         ) -> np.ndarray:
    """``(N, J)`` reprojection error of each landmark of the network's shapes ``X``, pixels
    (0 where unobserved). Arguments as :func:`estimate_noise`; ``chunk`` samples at a time
    (the linear system of :class:`Problem` is ``(N, J, 2, 3)`` float64)."""
    out = np.empty(np.shape(mask), np.float64)
    for i in range(0, len(out), chunk):
        sel = slice(i, i + chunk)
        prob = Problem(X[sel], n[sel], mask[sel], tau[sel], sigma[sel], ray_centre[sel],
                       scale[sel], None, None, NoiseModel(1.0, 1.0, 1.0, 0.0))
        out[sel] = np.linalg.norm(prob.px_residual(prob.X), axis=-1)
    return out


def estimate_noise(X, Y0, n, mask, tau, sigma, ray_centre, scale, bones=None, p=None,
                   iterations: int = VCE_ITERATIONS, bone: float | None = None,
                   start: NoiseModel | None = None,
                   noise: float | None = None, prior_xy: float | None = None,
                   prior_scale: np.ndarray | None = None) -> NoiseModel:
    """Variance components of the least-squares refinement, from the data alone.

    Args:
        X: ``(M, J, 3)`` the network's shapes (box units, camera frame). Y0: ``(M, J, 3)`` a
            starting point (e.g. the rigid-bone shapes on the rays). n, mask, tau, sigma,
            ray_centre, scale: the normalised 2D and its camera (:class:`NRSfMInputs`, the
            fit's τ), scale in px. bones ``(E, 2)`` and proportions p ``(E,)``: rigid bones
            (None: free). iterations: variance-component rounds. bone: keep the bone term's
            deviation fixed at this value (None: estimate it). start: initial variances.

    Returns:
        :class:`NoiseModel` (label noise in px; see the module docstring for the method).
    """
    prob0 = Problem(X, n, mask, tau, sigma, ray_centre, scale, bones, p,
                    NoiseModel(1.0, 1.0, 1.0, 0.0))
    res = prob0.px_residual(prob0.X)
    obs = max(float(prob0.mask.sum()), 1.0)
    net_px = float(np.sqrt((res ** 2).sum() / (2 * obs)))
    rigid = p is not None and bones is not None and len(bones) > 0
    # the network's label residual, in box units, bounds its x, y error from below
    net_box = float(np.sqrt(((res / prob0.scale[:, None, None]) ** 2).sum() / (2 * obs)))
    if not rigid:
        noise = max(net_px, noise_floor(scale))
        return NoiseModel(noise, max(net_box, 1e-4), max(net_box, 1e-4), 0.0, net_px)
    model = NoiseModel(max(net_px / 2, noise_floor(scale)), max(net_box, 1e-3),
                       max(net_box, 1e-3), 0.05 if bone is None else bone, net_px)
    if start is not None and start.bone > 0:
        model = NoiseModel(start.noise_px, start.prior_xy, start.prior_z,
                           start.bone if bone is None else bone, net_px)
    if noise is not None:
        model.noise_px = noise
    if prior_xy is not None:
        model.prior_xy = prior_xy
    prob = Problem(X, n, mask, tau, sigma, ray_centre, scale, bones, p, model, prior_scale)
    Y = np.asarray(Y0, np.float64)
    for it in range(iterations):
        Y, s = prob.solve(Y)
        if it == 0 and not np.shares_memory(Y0, X):  # the better of the two starts per sample
            Yx, sx = prob.solve(prob.X)
            better = prob.cost(Yx, sx) < prob.cost(Y, s)
            Y = np.where(better[:, None, None], Yx, Y)
            s = np.where(better, sx, s)
        _, red = prob.covariance_blocks(Y, s)
        v2 = float((prob.px_residual(Y) ** 2).sum())
        dx = Y - prob.X
        dx = dx / np.sqrt(prob.k2)[:, None, None]
        vxy, vz = float((dx[..., :2] ** 2).sum()), float((dx[..., 2] ** 2).sum())
        _, rb = prob.bone_terms(Y, s)
        vb = float(((rb / s[:, None]) ** 2).sum())
        if noise is None:
            model.noise_px = max(np.sqrt(v2 / max(red["2d"], 1e-6)), noise_floor(scale))
        if prior_xy is None:
            model.prior_xy = max(np.sqrt(vxy / max(red["xy"], 1e-6)), 1e-4)
        model.prior_z = max(np.sqrt(vz / max(red["z"], 1e-6)), 1e-4)
        if bone is None:
            model.bone = float(np.clip(np.sqrt(vb / max(red["bone"], 1e-6)), 1e-4, 1.0))
    return model


def prior_scales(X, n, mask, tau, sigma, ray_centre, scale, bones, p, model: NoiseModel
                 ) -> np.ndarray:
    """``(N,)`` per-sample multiplier ``k_i`` of the network's prior deviations (GT-free).

    The network is not equally good on every sample; two indicators of its error need no 3D:

    - its 2D misfit beyond the label noise, box units:
      ``m_i = √max(r_i² − 2 ς_2D², 0.1 r_i²) / s_i`` with ``r_i`` the RMS landmark residual
      (px, :func:`network_residual_px`) and ``s_i`` the box side (px);
    - with rigid bones, its bone-length deviation ``d_i = RMS_e (L_e / (s p_e) − 1)``
      (``s`` the median ratio scale of :func:`poselab.nrsfm.articulation.fit_scale`).

    ``k_i = √(((m_i / m̃)² + (d_i / d̃)²) / 2)`` (``m_i / m̃`` with free bones), clipped to
    :data:`PRIOR_SCALE_RANGE`; ``m̃``, ``d̃`` are ``model.misfit_ref`` / ``bone_dev_ref`` (when
    0 — not yet set — the medians of these samples, written into ``model``). Chosen on
    h36m17_train35k S1/S5/S6 (5000 samples, σ = 5 px, 3000-step network): Spearman of the
    network's per-sample 3D error with ``m_i`` 0.42, with ``d_i`` 0.39; with ``k_i`` in the
    prior the output's per-sample uncertainty ranks its error at 0.35 (0.09 with k = 1) and
    MPJPE 85.1 → 84.1 mm.

    Args:
        X: ``(N, J, 3)`` network shapes; n … scale: as :func:`refine_lsq`; bones ``(E, 2)`` and
            p ``(E,)`` or None (free). model: its ``noise_px`` is ς_2D.
    """
    from poselab.nrsfm.articulation import bone_lengths, fit_scale

    r = network_residual_px(X, n, mask, tau, sigma, ray_centre, scale).astype(np.float64)
    m = np.sqrt(np.maximum(r ** 2 - 2 * model.noise_px ** 2, 0.1 * r ** 2))
    m = m / np.asarray(scale, np.float64)
    if model.misfit_ref <= 0:
        model.misfit_ref = float(max(np.median(m), 1e-9))
    k2 = (m / model.misfit_ref) ** 2
    if bones is not None and p is not None and len(bones):
        L = bone_lengths(np.asarray(X, np.float64), bones)
        s = np.maximum(fit_scale(L, p), 1e-9)
        d = np.sqrt(((L / (s[:, None] * p) - 1) ** 2).mean(1))
        if model.bone_dev_ref <= 0:
            model.bone_dev_ref = float(max(np.median(d), 1e-9))
        k2 = (k2 + (d / model.bone_dev_ref) ** 2) / 2
    return np.clip(np.sqrt(k2), *PRIOR_SCALE_RANGE)
#: Stage 1 of :func:`estimate_model` with ``converge``: rounds of ``iterations`` until the
#: label noise changes by less than this fraction (at most :data:`NOISE_ROUNDS` rounds). The
#: variance-component iteration converges slowly from its start above the noise. On
#: h36m17_train35k S1/S5/S6 (22040 samples, the fitted networks; the output step's second,
#: per-sample-scaled pass run until it settles, on the least-hidden samples): exact labels
#: 0.80 → 0.44 px; 30 % hidden, exact, 2.02 → 0.95 px (below the exact-label line, 1.38 px,
#: where it had been above); σ = 2 px with 30 % hidden 3.31 → 2.63 px. Output MPJPE /
#: PA-MPJPE / depth mm, same networks: 38.1 / 29.5 / 36.7 → 38.0 / 29.3 / 36.6; 73.4 / 57.6 /
#: 59.1 → 69.8 / 56.3 / 57.0; 80.2 / 61.1 / 62.8 → 78.7 / 60.7 / 62.2. Only a pass with the
#: samples' prior scales (:func:`prior_scales`) is run until it settles: without them the
#: network's error, larger on some samples than others, passes for label noise the longer it
#: iterates (σ = 5 px, the first network of an S1/S5/S6 fit: 6.81 px, and the labels
#: smoothed and denoised by that much; the same on S7/S8, 7.07 px, output 61.1 → 67.2 mm).
NOISE_TOLERANCE = 0.01
NOISE_ROUNDS = 12


def vce_rows(mask: np.ndarray, limit: int = VCE_SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """The samples the variance components are estimated on: ``(noise rows, model rows)``,
    sorted indices, at most ``limit`` each.

    Model rows (the network's variances, its error covariance): evenly spaced over the set.
    Noise rows (the label noise, stage 1 of :func:`estimate_model`): the samples with the
    fewest hidden landmarks, evenly spaced within the last count taken -- the same rows as
    the model's when every landmark is labelled. The more landmarks a sample hides, the more
    of the network's error passes for label noise there: on h36m17_train35k S1/S5/S6 with
    30 % of the landmarks hidden and exact labels, the noise estimated on the samples hiding
    0, 2, 4, 6, 8 landmarks was 0.85, 1.10, 1.79, 2.15, 3.68 px (σ = 2 px: 2.59, 2.71, 3.25,
    3.31, 3.75); label noise does not depend on which landmarks were hidden.

    Args:
        mask: ``(N, J)`` 1 where a landmark is labelled. limit: most rows of each kind.
    """
    mask = np.asarray(mask)
    N = len(mask)
    M = min(N, limit)
    model_rows = np.unique(np.linspace(0, N - 1, M).astype(int))
    if M == 0:
        return model_rows, model_rows
    hidden = (mask < 1).sum(1)
    last = np.sort(hidden)[M - 1]
    below, tie = np.flatnonzero(hidden < last), np.flatnonzero(hidden == last)
    pick = tie[np.unique(np.linspace(0, len(tie) - 1, M - len(below)).astype(int))]
    return np.sort(np.concatenate([below, pick])), model_rows


def estimate_model(X, Y0, n, mask, tau, sigma, ray_centre, scale, bones=None, p=None,
                   iterations: int = VCE_ITERATIONS, start: NoiseModel | None = None,
                   prior_scale: np.ndarray | None = None,
                   noise_bound: float = float("inf"), noise_known: bool = False,
                   rows: tuple[np.ndarray, np.ndarray] | None = None,
                   converge: bool = False) -> NoiseModel:
    """The variances used by :func:`poselab.nrsfm.noise_aware.refine_noise_aware`, in two
    stages (GT-free).

    1. The label noise, with the network's x, y left out (``prior_xy`` = 1 box: its errors are
       correlated over the joints and would pass for label noise) and the bones held at
       :data:`STIFF_BONES`, from the exact-ray shapes ``Y0``: what is left in the labels once
       rigid bones and the network's depth are fitted. On the noise rows of ``rows``;
       ``converge``: rounds of ``iterations`` until the noise changes by less than
       :data:`NOISE_TOLERANCE` (at most :data:`NOISE_ROUNDS`).
    2. With that noise fixed, the network's x, y and depth variances and the bones' deviation
       from the set's proportions, from the network's shape ``X``, on the model rows.
       (Bones held at :data:`STIFF_BONES` here too gave h36m17_train35k S1/S5/S6, σ = 10 px,
       110.7 / 76.5 / 87.5 mm; estimated, 0.058 of the body scale, 109.5 / 75.4 / 86.9 —
       network 113.9 / 77.3 / 87.5; at σ = 5 px 0.030 and the same 85.1 / 61.6 / 71.5.)

    Free bones: :func:`estimate_noise` on the model rows (the network's label residual, an
    upper bound).

    ``noise_bound`` (px, :func:`poselab.nrsfm.temporal.temporal_noise_bound`) caps the label
    noise. With free bones it separates the two: below :data:`IDENTIFY_RATIO` times the
    network's residual ``r`` (or always with ``noise_known``: the noise of smoothed labels) it
    is taken as the noise and the network's x, y error as ``√max(r² − ς_2D², (0.1 r)²)`` (box
    units), ``temporal`` = 1.

    Args:
        X, Y0: ``(N, J, 3)`` box units, camera frame; n … scale: as :func:`estimate_noise`.
        prior_scale: ``(N,)`` :func:`prior_scales` or None. rows: :func:`vce_rows` (None:
        every sample, both stages). Others as :func:`estimate_noise`.
    """
    if rows is None:
        rows = (slice(None), slice(None))
    noise_rows, model_rows = rows
    data = (n, mask, tau, sigma, ray_centre, scale)

    def take(r):
        k = None if prior_scale is None else np.asarray(prior_scale)[r]
        return [np.asarray(a)[r] for a in data], k

    if bones is None or p is None:
        args, _ = take(model_rows)
        model = estimate_noise(X[model_rows], Y0[model_rows], *args)
        if noise_known or noise_bound < IDENTIFY_RATIO * model.noise_px:
            s = np.asarray(args[-1], np.float64)
            noise_box2 = float(np.mean((noise_bound / s) ** 2))
            xy = max(model.prior_xy ** 2 - noise_box2, 0.01 * model.prior_xy ** 2) ** 0.5
            model.noise_px = max(noise_bound, noise_floor(s))
            model.prior_xy, model.temporal = xy, 1.0
        return model
    args, k = take(noise_rows)
    # a known noise (smoothed labels) replaces the estimate below: no rounds to spend on it
    first = start
    for i in range(NOISE_ROUNDS if converge and not noise_known else 1):
        before = first.noise_px if i else None
        first = estimate_noise(X[noise_rows], Y0[noise_rows], *args, bones, p,
                               iterations=iterations, bone=STIFF_BONES, prior_xy=1.0,
                               start=first, prior_scale=k)
        if before is not None and abs(first.noise_px / before - 1) < NOISE_TOLERANCE:
            break
    if noise_known or noise_bound < first.noise_px:
        first.noise_px, first.temporal = max(noise_bound, noise_floor(scale)), 1.0
    args, k = take(model_rows)
    model = estimate_noise(X[model_rows], X[model_rows], *args, bones, p,
                           iterations=iterations, noise=first.noise_px, start=first,
                           prior_scale=k)
    model.temporal = first.temporal
    return model
