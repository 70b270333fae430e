"""Label noise of sequences, and smoothing along them (issue 15; beyond paper 000).

A lab's labels are often frames of videos (DeepLabCut, SLEAP, the classic NRSfM sequences):
the true 2D then moves smoothly from one sample to the next while label noise does not.

- :func:`temporal_noise_bound` — an upper bound on the label noise from second differences
  along the samples' order (large, and harmless, when the samples are in no order).
- :func:`choose_width` — the Gaussian smoothing width along the samples that minimises
  Stein's unbiased risk estimate (SURE; Stein 1981, Ann. Stat. 9(6), Eq. for linear
  smoothers: ``‖y − S y‖² − n ς² + 2 ς² tr S``) of the 2D given the label noise ς: no
  smoothing (width 0) when the samples are not a sequence or the labels are exact, since
  smoothing across unrelated samples only adds bias. The risk estimate is unbiased only
  when ς is not overestimated, so callers pass an estimate, not a bound.
- :func:`smooth` — Gaussian-weighted local linear regression of per-sample values along the
  samples (the normalised Gaussian average where its window is whole; no lag at the ends),
  skipping unobserved landmarks, and the share of the noise variance that remains.
- :func:`interpolate_along` — each unobserved landmark interpolated from the samples before
  and after it that observe it, and each observed one from its neighbours as if it were not
  (how well that works here, measured without ground truth).

All arrays are ``(N, J, C)`` in the samples' order; units are those given (pixels here).
"""

from __future__ import annotations

import numpy as np

#: Fewest fully observed consecutive triples (landmark × 3 samples) for
#: :func:`temporal_noise_bound`.
TEMPORAL_MIN_TRIPLES = 30
#: Gaussian widths (standard deviation, samples) tried by :func:`choose_width`.
WIDTHS = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)


def temporal_noise_bound(keypoints_2d: np.ndarray, mask: np.ndarray) -> float:
    """Upper bound on the label noise from the samples' order, units of the 2D per coordinate.

    Each landmark's second difference ``x_{t+1} − 2 x_t + x_{t−1}`` is label noise (variance
    6 ς² for independent noise) plus the motion's acceleration, so
    ``1.4826 · median |Δ²x| / √6`` (the median skips the jumps between videos) is at least the
    noise. Samples in no particular order give a large bound. Measured on the four classic
    sequences (e3d_akhter data): exact 2D 0.0003–0.0008 (boxes ~5–6 units), noise of
    0.2 / 0.5 / 1 % of the box diagonal estimated within 4 % of the truth; cmu17_train
    (ordered clips, exact 2D) 0.39 px; h36m17_train35k (subsampled frames) 4.9 px.

    Args:
        keypoints_2d: ``(N, J, 2)`` in the samples' order. mask: ``(N, J)``, > 0 observed.

    Returns:
        The bound, or ``inf`` with fewer than :data:`TEMPORAL_MIN_TRIPLES` landmarks observed
        in three consecutive samples.
    """
    kp = np.asarray(keypoints_2d, np.float64)
    m = np.asarray(mask) > 0
    ok = m[2:] & m[1:-1] & m[:-2]
    if int(ok.sum()) < TEMPORAL_MIN_TRIPLES:
        return float("inf")
    d = (kp[2:] - 2 * kp[1:-1] + kp[:-2])[ok]
    return float(1.4826 * np.median(np.abs(d)) / np.sqrt(6.0))


def temporal_noise(keypoints_2d: np.ndarray, mask: np.ndarray) -> float:
    """Estimate of the label noise from the samples' order with the motion taken out (units
    of the 2D per coordinate; ``inf`` as :func:`temporal_noise_bound`).

    Second differences at lags 1 and 2 (``x_{t±1}`` and ``x_{t±2}`` around ``x_t``) carry the
    same noise variance 6 ς², while smooth motion's acceleration term grows with the lag
    squared (``a²`` and ``16 a²``): from their robust variances ``V1``, ``V2``,
    ``a² = (V2 − V1) / 15`` and ``ς² = max(V1 − a², 0) / 6``. Exact labels of smooth motion
    give about 0 where :func:`temporal_noise_bound` gives the motion's share; samples in no
    order give about the bound (their "motion" is as rough as noise).
    """
    kp = np.asarray(keypoints_2d, np.float64)
    m = np.asarray(mask) > 0
    if len(kp) < 5:
        return float("inf")
    ok1 = (m[2:] & m[1:-1] & m[:-2])[1:-1]
    ok2 = m[4:] & m[2:-2] & m[:-4]
    ok = ok1 & ok2
    if int(ok.sum()) < TEMPORAL_MIN_TRIPLES:
        return float("inf")
    d1 = (kp[3:-1] - 2 * kp[2:-2] + kp[1:-3])[ok]
    d2 = (kp[4:] - 2 * kp[2:-2] + kp[:-4])[ok]
    v1, v2 = (1.4826 * np.median(np.abs(d1))) ** 2, (1.4826 * np.median(np.abs(d2))) ** 2
    a2 = max(v2 - v1, 0.0) / 15.0
    return float(np.sqrt(max(v1 - a2, 0.0) / 6.0))


def smooth(values: np.ndarray, mask: np.ndarray, width: float
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian-weighted local linear regression along the samples (axis 0), observed entries
    only.

    Each value is replaced by the intercept of a straight line fitted, by least squares with
    Gaussian weights, to the observed values around it (Fan & Gijbels 1996, *Local Polynomial
    Modelling*, Eq. 3.5 with p = 1). Where the window is whole and symmetric this is the
    normalised Gaussian average; at the ends of a sequence and beside unobserved entries the
    average of one side lags a moving landmark, the line does not (classic sequences with
    1 % noise, seed 0: the last 5 frames of drink 0.070 → 0.039 of the box off the true 2D).
    Where fewer than two distinct samples are observed in the window it is the average.

    Args:
        values: ``(N, J, C)``. mask: ``(N, J)``, > 0 observed. width: the Gaussian's standard
            deviation in samples (0: unchanged); truncated at 3 widths.

    Returns:
        ``smoothed (N, J, C)`` (unobserved entries keep their values), ``self_weight (N, J)``
        the weight of each entry on its own smoothed value (the diagonal of the smoother) and
        ``noise_share (N, J)`` the sum of squared weights: the share of independent noise
        variance left in the smoothed value.
    """
    v = np.asarray(values, np.float64)
    m = (np.asarray(mask) > 0).astype(np.float64)
    if width <= 0:
        one = np.ones(m.shape)
        return v.copy(), one, one
    r = int(np.ceil(3 * width))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / width) ** 2)
    N = len(v)
    shifts = []  # (offset o, targets [a, b), weights w·m of their samples t + o)
    for o, w in zip(range(-r, r + 1), k, strict=True):
        a, b = max(0, -o), min(N, N - o)  # targets t ∈ [a, b) take sample t + o
        if a < b:
            shifts.append((o, a, b, w * m[a + o:b + o]))
    moments = np.zeros((3, *m.shape))  # Σ w, Σ w·o, Σ w·o² per target
    for o, a, b, wm in shifts:
        moments[:, a:b] += wm * np.array([1.0, o, o * o])[:, None, None]
    s0, s1, s2 = moments
    det = s0 * s2 - s1 * s1
    line = det > 1e-9 * np.maximum(s0 * s2, 1e-300)  # ≥ 2 distinct samples: fit a line
    det = np.where(line, det, 1.0)
    s0_safe = np.maximum(s0, 1e-12)
    num = np.zeros(v.shape)
    sq = np.zeros(m.shape)
    for o, a, b, wm in shifts:  # the equivalent kernel's weight of sample t + o on target t
        lw = np.where(line[a:b], wm * (s2[a:b] - s1[a:b] * o) / det[a:b], wm / s0_safe[a:b])
        num[a:b] += lw[..., None] * v[a + o:b + o]
        sq[a:b] += lw * lw
    out = np.where(m[..., None] > 0, num, v)
    self_w = np.where(line, k[r] * s2 / det, k[r] / s0_safe)
    return out, np.where(m > 0, self_w, 1.0), np.where(m > 0, sq, 1.0)


def choose_width(keypoints_2d: np.ndarray, mask: np.ndarray, noise: float
                 ) -> tuple[float, dict[float, float]]:
    """The smoothing width (samples) of least estimated 2D risk given label noise ``noise``.

    SURE per observed coordinate: ``mean (y − S y)² − ς² + 2 ς² mean diag S`` (ς² for no
    smoothing). Widths :data:`WIDTHS`; 0 when none beats no smoothing.

    Args:
        keypoints_2d: ``(N, J, 2)`` in the samples' order. mask: ``(N, J)``.
        noise: the label noise ς per coordinate, same units (an estimate, not a bound).

    Returns:
        ``(width, {width: risk})`` (risk in the 2D's units squared).
    """
    kp = np.asarray(keypoints_2d, np.float64)
    obs = np.asarray(mask) > 0
    s2 = float(noise) ** 2
    risks = {0.0: s2}
    if len(kp) < 3 or not obs.any() or s2 <= 0:
        return 0.0, risks
    for w in WIDTHS:
        sm, self_w, _ = smooth(kp, mask, w)
        res = ((kp - sm) ** 2)[obs].mean()
        risks[w] = float(res - s2 + 2 * s2 * self_w[obs].mean())
    best = min(risks, key=risks.get)
    return float(best), risks


def interpolate_along(values: np.ndarray, observed: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Linear interpolation of each landmark along the samples' order.

    For landmark j of sample t, with ``p < t < q`` the nearest samples that observe j:
    ``v_p + (t − p) / (q − p) · (v_q − v_p)`` (at the ends, the one neighbour's value). Used to
    predict hidden landmarks of a sequence (:mod:`poselab.nrsfm.completion`); where samples are
    in no order the leave-one-out values are far off, which tells the caller not to trust it.

    Args:
        values: ``(N, J, C)`` in the samples' order (any units). observed: ``(N, J)`` bool.

    Returns:
        ``filled (N, J, C)``: the interpolation at unobserved entries, NaN at observed ones
        and where landmark j is observed nowhere; ``leave_one_out (N, J, C)``: at each observed
        entry with observed neighbours on both sides, the interpolation from them (the entry
        itself left out), NaN elsewhere.
    """
    v = np.asarray(values, np.float64)
    obs = np.asarray(observed, bool)
    filled = np.full(v.shape, np.nan)
    loo = np.full(v.shape, np.nan)
    for j in range(obs.shape[1]):
        o = np.flatnonzero(obs[:, j])
        if len(o) == 0:
            continue
        h = np.flatnonzero(~obs[:, j])
        before = np.searchsorted(o, h) - 1  # index into o of the last observed sample before
        p = o[np.clip(before, 0, len(o) - 1)]
        q = o[np.clip(before + 1, 0, len(o) - 1)]
        p = np.where(before < 0, q, p)  # at the ends: the one neighbour
        q = np.where(before + 1 >= len(o), p, q)
        t = np.where(q > p, (h - p) / np.maximum(q - p, 1), 0.0)[:, None]
        filled[h, j] = v[p, j] * (1 - t) + v[q, j] * t
        if len(o) >= 3:
            p, c, q = o[:-2], o[1:-1], o[2:]
            t = ((c - p) / (q - p))[:, None]
            loo[c, j] = v[p, j] * (1 - t) + v[q, j] * t
    return filled, loo
