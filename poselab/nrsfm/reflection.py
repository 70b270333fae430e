"""Per-sample depth-reflection consistency of a weak-perspective NRSfM solution (beyond paper 000).

Under weak perspective a centred camera-frame shape ``X`` (J×3) and its depth mirror
``F X``, ``F = diag(1, 1, −1)``, project to the same 2D. A fit can therefore return a solution
whose samples are each plausible but whose depth signs are inconsistent — on the classic
``stretch`` sequence a block of 40% of the frames can come out mirrored (e3d_akhter 0.51 instead
of 0.08), which no global alignment undoes and which the 2D loss cannot see.

The repair uses no ground truth. Where the samples are frames of a sequence it uses their
order (:func:`sequence_segments`: a frame is far nearer its neighbour than the neighbour's
mirror), which fixes the relative signs along each run of frames; the runs — or, for samples
in no order (image folders), the single samples — are then labelled by chirality: a mirror
image cannot be rotated onto the original (a left hand is not a
right hand), while similar shapes of one articulated object match up to a proper rotation. For
two centred, unit-norm shapes ``A``, ``B`` (J×3) with ``H = Bᵀ A`` and singular values
``σ1 ≥ σ2 ≥ σ3``, the best proper rotation leaves ``2 − 2(σ1 + σ2 + d σ3)`` with
``d = sign det H`` (Kabsch 1976; Umeyama 1991) and the mirror ``B F`` the same with ``−d``;
``2 − 2(σ1 + σ2 + σ3)`` is their distance up to rotation *and* reflection. The evidence of a
pair is the contrast of the two residuals, ``(r₋ − r₊) / (r₋ + r₊) = d σ3 / (1 − σ1 − σ2)``
in [−1, 1]: ±1 for shapes that match exactly one way, near 0 for dissimilar shapes, whose best
rotation says little about chirality (a walking pose and its mirror differ by the body's width,
less than two phases of the gait differ by). So on a graph joining each shape to its k nearest
shapes (that distance), keeping signs ``s_a, s_b`` gains ``w_ab s_a s_b`` with ``w_ab`` that
contrast, and the labelling is the Ising / max-cut-type problem
``max_s Σ w_ab s_a s_b``: started from the sign of the leading eigenvector of ``W`` (spectral
relaxation; Shi & Malik 2000), refined by iterated conditional modes (Besag 1986) until stable.
The neighbourhood size matters. With the earlier weight ``d σ3`` (no contrast), k = 10 or 20
left the mirrored block of a fitted stretch as a self-consistent cluster (e3d_akhter 0.51) and
k = 50 was the default; but on varied sets of a few hundred samples k = 50 joins different
poses, and on ground-truth shapes of CMU walking and basketball (176–205 frames, half of them
mirrored) it recovered 52–56 % of the signs — chance — and the fits came out half mirrored
(scripts/bench_unseen.py). With the contrast, k = 20 recovers 99–100 % on the ground truth of
six CMU actions and the four classic sequences (k = 50: walking 52 %), and is the default.
Chirality is still not enough on fitted shapes: a fit of CMU basketball came out with 87 of
205 frames mirrored in blocks of ~5 frames that the graph called consistent (agreement 0.98;
e3d_akhter 0.548); the order links those frames (28 runs) and the labelling alone takes it to
0.184 (each frame's best sign: 0.172); the whole fit with it, 0.169 (BMM 0.168).
Large sets are labelled on a random subset of ``anchors`` samples; every other sample takes the
weighted vote of its k nearest anchors (nearest by their inter-landmark distances, which are
invariant to rotation and reflection, to keep the cost linear in N). The global sign is the one
that mirrors the fewer samples (one reflection for the whole set stays arbitrary, DESIGN §4).

A sample can also bring its own evidence (``prior`` of :func:`consistent_signs`): human bodies
do, since a knee bends one way only (:mod:`poselab.nrsfm.anatomy`). It enters the labelling as
an external field, ``max_s Σ w_ab s_a s_b + β Σ h_a s_a`` with ``β`` = :data:`PRIOR_WEIGHT`,
which decides the runs that no similar shape links to the rest: on a fit of CMU soccer (233
frames, h36m17 skeleton) the kicks came out mirrored in blocks of 2–4 frames whose nearest
shapes were no help, and the graph alone flagged 1 of about 30. ``β`` = 10 was set from the
scales (a sample's contrasts sum to about 30 in magnitude, its knee evidence to about 1.4)
and the first soccer fit: on its output 3 or more flag the same frames; 30 flags 7 more on a
fit with another seed, where ``β`` = 10 flags none of its (weakly bent) mirrored frames.

A run of linked frames can itself be wrong: with 1 % label noise a fit of the classic stretch
turned its shapes into their own mirror over frames 100–120, each step small and every order
link sure, so frames 110–257 stayed mirrored in one run (e3d_akhter 0.511; direct comparisons
10–40 frames apart agreed with the links). Shapes seen at other times tell, since the motion
repeats: on a graph that joins each frame only to its k nearest shapes more than
:data:`CUT_WINDOW` frames away, the true signs beat the fit's by 0.5 % of the weight. So in sets
of at most :data:`CUT_MAX_SAMPLES` samples, each run may be cut once per round where mirroring
the part before or after the cut gains more than :data:`CUT_MARGIN` of that part's edge weight
(:func:`_cut_runs`; prefix and suffix sums, O(run²); each sample's neighbours are picked
among its 3k nearest by inter-landmark distances, which took the cuts of a 1102-frame drink
fit from 10.9 to 1.3 s over its five labellings, the figures unchanged). Stretch: 0.511 →
0.0697; the other classic sequences (exact and noisy), the seven rendered CMU sequences of
``scripts/bench_unseen.py`` (marker sets and h36m17) and ground-truth sequences with mirrored
blocks are unchanged (2026-12-04). The window and margin were set before measuring, and only
the stretch fit was looked at.

Made for weak perspective. Under the perspective camera the mirror changes the projection,
but for distant people (box / focal length ≈ 0.25 on h36m17) only slightly: with 30 % of the
landmarks hidden and 5 px label noise a fit of h36m17_train35k S7/S8 came out with half its
samples mirrored (MPJPE 191.5 mm; this labelling, applied to its shapes: 135.6). The fit
therefore repairs perspective solutions too when many samples are mirrored
(:data:`poselab.nrsfm.fit.PERSPECTIVE_MIRRORED`).
"""
from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

#: :func:`sequence_segments` links two consecutive samples when the contrast between their
#: distances as they are and with one mirrored is at least this (distances 1 : 3) and they are
#: nearer than ``SEQUENCE_NEAR`` times the median distance of samples half the set apart. On
#: the ground truth of h36m17_train35k and cmu17_train (frames of clips, 1.5 % of neighbours
#: from another camera or clip) that links 11685 and 10047 pairs with no wrong sign; 0.3 and
#: no distance limit linked 24019 / 11069 with 40 / 17 wrong.
SEQUENCE_CONTRAST, SEQUENCE_NEAR = 0.5, 0.3
#: Weight of a sample's own chirality evidence (``prior`` of :func:`consistent_signs`, in
#: [−2, 2] for :func:`poselab.nrsfm.anatomy.knee_evidence`) against the graph's weights (a
#: sample's contrasts with its neighbours sum to about 30 in magnitude).
PRIOR_WEIGHT = 10.0
#: Runs of linked samples are cut (:func:`_cut_runs`) in sets of at most CUT_MAX_SAMPLES, at
#: least CUT_WINDOW samples from either end, with a gain above CUT_MARGIN of the cut part's
#: edge weight, judged by shapes more than CUT_WINDOW samples away.
CUT_MAX_SAMPLES, CUT_WINDOW, CUT_MARGIN = 2000, 10, 0.02


def depth_mirror(X: np.ndarray) -> np.ndarray:
    """``(N, J, 3)`` shapes with their depths mirrored about each sample's mean depth.

    ``z − z̄ → −(z − z̄)``; x, y unchanged, so the weak-perspective 2D is unchanged.
    """
    out = np.array(X, copy=True)
    z = out[..., 2]
    out[..., 2] = 2 * z.mean(-1, keepdims=True) - z
    return out


def _normalise(X: np.ndarray) -> np.ndarray:
    X = X - X.mean(1, keepdims=True)
    return X / np.sqrt((X ** 2).sum((1, 2))).clip(1e-12)[:, None, None]


def pair_terms(A: np.ndarray, B: np.ndarray, chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Distances up to rotation and reflection, and chirality gains, of every pair.

    Args:
        A: ``(M, J, 3)``, B: ``(P, J, 3)`` centred unit-norm shapes.

    Returns:
        ``dist (M, P) = 2 − 2(σ1 + σ2 + σ3)`` and ``gain (M, P)``, the chirality contrast
        ``sign(det H) σ3 / (1 − σ1 − σ2)`` in [−1, 1] of ``H = A_mᵀ B_p`` (positive: same
        chirality; module docstring).
    """
    dist = np.empty((len(A), len(B)))
    gain = np.empty((len(A), len(B)))
    for s in range(0, len(A), chunk):
        H = np.einsum("mji,pjk->mpik", A[s:s + chunk], B)
        dist[s:s + chunk], gain[s:s + chunk] = _terms(H)
    return dist, gain


def _terms(H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance and chirality contrast of ``(..., 3, 3)`` cross-covariances of unit shapes."""
    sv = np.linalg.svd(H, compute_uv=False)
    contrast = np.sign(np.linalg.det(H)) * sv[..., 2] / np.clip(1 - sv[..., 0] - sv[..., 1],
                                                                1e-12, None)
    return 2 - 2 * sv.sum(-1), np.clip(contrast, -1.0, 1.0)


def _knn_weights(dist: np.ndarray, gain: np.ndarray, k: int, exclude_self: bool) -> np.ndarray:
    """``gain`` kept on each row's k nearest columns, zero elsewhere."""
    d = dist.copy()
    if exclude_self:
        np.fill_diagonal(d, np.inf)
    k = min(k, d.shape[1] - (1 if exclude_self else 0))
    idx = np.argpartition(d, k - 1, axis=1)[:, :k]
    W = np.zeros_like(gain)
    rows = np.arange(len(d))[:, None]
    W[rows, idx] = gain[rows, idx]
    return W


def ising_labels(W: np.ndarray, max_sweeps: int = 100, seed: int = 0,
                 field: np.ndarray | None = None) -> np.ndarray:
    """``argmax_s Σ W_ab s_a s_b + Σ h_a s_a`` over ``s ∈ {±1}^M`` (local optimum), W symmetric
    ``(M, M)``, ``h`` = ``field`` ``(M,)`` (0 if None).

    Spectral start (sign of the leading eigenvector, both ways when there is a field, and the
    field's own signs), then sequential ICM sweeps (Besag 1986) from each start; the best
    local optimum is kept.
    """
    h = np.zeros(len(W)) if field is None else np.asarray(field, np.float64)
    _, vecs = np.linalg.eigh(W)
    v = np.where(vecs[:, -1] >= 0, 1.0, -1.0)
    starts = [v] if field is None else [v, -v, np.where(h >= 0, 1.0, -1.0)]
    best, best_e = None, -np.inf
    for start in starts:
        s = start.copy()
        order = np.random.default_rng(seed)
        for _ in range(max_sweeps):
            changed = 0
            for a in order.permutation(len(s)):
                if s[a] * (W[a] @ s + h[a]) < 0:
                    s[a] = -s[a]
                    changed += 1
            if not changed:
                break
        e = 0.5 * s @ W @ s + h @ s
        if e > best_e:
            best, best_e = s, e
    return best


def sequence_segments(X: np.ndarray, min_contrast: float = SEQUENCE_CONTRAST
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Runs of consecutive samples whose relative depth signs their order fixes.

    When the samples are frames of a sequence, a shape is far nearer its neighbour frame than
    that frame's depth mirror (camera and pose move little between frames), which chirality
    alone cannot always tell (module docstring). A link ``t → t+1`` is kept when the samples
    are a sequence — neighbours nearer than half the distance of samples half the set apart
    (medians; never for samples in no order) — and it is sure: contrast
    ``|d₋ − d₊| / (d₋ + d₊) ≥ min_contrast`` between the distances to the neighbour as it is
    (``d₊``) and mirrored (``d₋``), and the two near (≤ 3× the median neighbour distance and
    ≤ :data:`SEQUENCE_NEAR` × that of samples half the set apart).

    Args:
        X: ``(N, J, 3)`` centred unit-norm camera-frame shapes, in the samples' order.

    Returns:
        ``seg (N,)`` int segment of each sample (0, 1, …) and ``rel (N,)`` float ±1, its sign
        relative to the first sample of its segment.
    """
    N = len(X)
    seg, rel = np.arange(N), np.ones(N)
    if N < 8:
        return seg, rel
    mirror = X * np.array([1.0, 1.0, -1.0])
    d_same = np.linalg.norm(X[1:] - X[:-1], axis=(1, 2))
    d_flip = np.linalg.norm(X[1:] - mirror[:-1], axis=(1, 2))
    near = np.minimum(d_same, d_flip)
    far_i = (np.arange(N) + N // 2) % N
    far = np.minimum(np.linalg.norm(X - X[far_i], axis=(1, 2)),
                     np.linalg.norm(X - mirror[far_i], axis=(1, 2)))
    if not np.median(near) < 0.5 * np.median(far):
        return seg, rel
    contrast = (d_flip - d_same) / np.clip(d_flip + d_same, 1e-12, None)
    link = ((np.abs(contrast) >= min_contrast) & (near <= 3 * np.median(near))
            & (near <= SEQUENCE_NEAR * np.median(far)))
    for t in np.flatnonzero(link):  # in order: each link extends the previous sample's run
        seg[t + 1], rel[t + 1] = seg[t], rel[t] * np.sign(contrast[t])
    _, seg = np.unique(seg, return_inverse=True)
    return seg, rel


def _edm(X: np.ndarray) -> np.ndarray:
    """``(N, J(J−1)/2)`` distances between the landmarks of each shape ``(N, J, 3)``: invariant
    to rotation and reflection."""
    iu = np.triu_indices(X.shape[1], 1)
    return np.linalg.norm(X[:, iu[0]] - X[:, iu[1]], axis=-1)


def _cut_runs(X: np.ndarray, signs: np.ndarray, seg: np.ndarray, k: int,
              field: np.ndarray | None, rounds: int = 3) -> np.ndarray:
    """``signs`` with the part of a run before or after one of its links mirrored wherever
    shapes seen at other times say so (module docstring: a fit that turns into its own
    mirror one small step at a time). The graph joins each sample to its k nearest shapes
    more than :data:`CUT_WINDOW` samples away (among its 3k nearest by :func:`_edm`); a cut
    is taken when it gains more than :data:`CUT_MARGIN` of the cut part's total edge weight;
    at most ``rounds`` cuts.

    X ``(N, J, 3)`` centred unit-norm shapes in order; signs, field ``(N,)``; seg ``(N,)``."""
    N = len(X)
    far = np.abs(np.arange(N)[:, None] - np.arange(N)[None]) > CUT_WINDOW
    c = min(3 * k, int(far.sum(1).min()))
    if c < 1:
        return signs
    # candidates by inter-landmark distances (cheap, rotation/reflection invariant), then the
    # k nearest of them by the Procrustes distance: all-pair SVDs took 2.2 s of a 1102-frame
    # set's labelling, and the labelling runs several times per fit
    e = _edm(X)
    d2 = (e ** 2).sum(1)[:, None] + (e ** 2).sum(1)[None] - 2 * e @ e.T
    d2[~far] = np.inf
    cand = np.argpartition(d2, c - 1, axis=1)[:, :c]  # (N, c)
    dist, gain = _terms(np.einsum("nji,ncjk->ncik", X, X[cand]))
    kk = min(k, c)
    pick = np.argpartition(dist, kk - 1, axis=1)[:, :kk]
    rows = np.arange(N)[:, None]
    W = np.zeros((N, N))
    W[rows, cand[rows, pick]] = gain[rows, pick]
    W = W + W.T
    h = np.zeros(N) if field is None else np.asarray(field, np.float64)
    weight = np.abs(W).sum(1)
    s = signs.astype(np.float64).copy()
    for _ in range(rounds):
        f = W @ s
        best = (0.0, None)
        for g in np.flatnonzero(np.bincount(seg) >= 2 * CUT_WINDOW):
            run = np.flatnonzero(seg == g)  # consecutive samples
            Wr = W[np.ix_(run, run)] * s[run][:, None] * s[run][None]
            for part in (run[::-1], run):  # suffixes, then prefixes, grown a sample at a time
                Wp = Wr[::-1][:, ::-1] if part is not run else Wr
                inner = np.cumsum((np.tril(Wp, -1)).sum(1))  # Σ_{i,j ∈ part[:c]} W s s / 2
                out = np.cumsum(s[part] * f[part]) - 2 * inner  # Σ_{i ∈ F, j ∉ F} W s s
                gains = -2 * out - 2 * np.cumsum(h[part] * s[part])
                total = np.cumsum(weight[part])
                c = np.arange(len(part))
                ok = (c >= CUT_WINDOW - 1) & (c < len(part) - CUT_WINDOW)
                score = np.where(ok & (gains > CUT_MARGIN * total), gains, 0.0)
                if score.max() > best[0]:
                    best = (score.max(), part[:int(np.argmax(score)) + 1])
        if best[1] is None:
            break
        s[best[1]] *= -1
        log.info("reflection labelling: a run cut, %d samples mirrored", len(best[1]))
    return s


def consistent_signs(X: np.ndarray, k: int = 20, anchors: int = 512,
                     seed: int = 0, prior: np.ndarray | None = None,
                     prior_weight: float | None = None) -> np.ndarray:
    """Depth signs that give every sample the chirality of its similar shapes (module doc).

    Args:
        X: ``(N, J, 3)`` camera-frame shapes (any unit), weak perspective.
        k: neighbours per shape in the graph.
        anchors: most samples labelled jointly; the others vote with their k nearest anchors.
        seed: choice of anchors and ICM order.
        prior: ``(N,)`` each sample's own evidence for its sign as it is (> 0) or mirrored
            (< 0), e.g. :func:`poselab.nrsfm.anatomy.knee_evidence`, or None; enters the
            labelling as the field ``prior_weight · prior`` beside the graph's weights
            (:data:`PRIOR_WEIGHT` when None).

    Returns:
        ``(N,)`` int8 in {+1, −1}: −1 where the sample should be replaced by its depth mirror.
    """
    X = _normalise(np.asarray(X, np.float64))
    N = len(X)
    if N < 3:
        return np.ones(N, np.int8)
    rng = np.random.default_rng(seed)
    seg, rel = sequence_segments(X)
    idx = np.arange(N) if N <= anchors else np.sort(rng.choice(N, anchors, replace=False))
    dist, gain = pair_terms(X[idx], X[idx])
    W = _knn_weights(dist, gain, k, exclude_self=True)
    W = W + W.T  # symmetric graph (an edge chosen by both ends counts twice)
    # one node per segment (a run of frames whose relative signs the order fixes)
    segs, node = np.unique(seg[idx], return_inverse=True)
    P = np.zeros((len(idx), len(segs)))
    P[np.arange(len(idx)), node] = rel[idx]
    W_seg = P.T @ W @ P
    np.fill_diagonal(W_seg, 0.0)
    field = None
    prior_weight = PRIOR_WEIGHT if prior_weight is None else prior_weight
    if prior is not None:
        prior = np.asarray(prior, np.float64)
        field = prior_weight * (P.T @ prior[idx])
    if len(segs) > 1 or field is not None:
        s_seg = ising_labels(W_seg, seed=seed, field=field)
    else:
        s_seg = np.ones(1)
    s_anchor = s_seg[node] * rel[idx]
    signs = np.zeros(N)
    signs[idx] = s_anchor
    by_seg = np.zeros(seg.max() + 1)
    by_seg[segs] = s_seg
    covered = np.isin(seg, segs)
    signs[covered] = by_seg[seg[covered]] * rel[covered]
    rest = np.flatnonzero(~covered)
    if len(rest):
        ea = _edm(X[idx])
        kk = min(k, len(idx))
        for c in range(0, len(rest), 1024):
            part = rest[c:c + 1024]
            er = _edm(X[part])
            d2 = (er ** 2).sum(1)[:, None] + (ea ** 2).sum(1)[None] - 2 * er @ ea.T
            nn = np.argpartition(d2, kk - 1, axis=1)[:, :kk]  # (P, kk) nearest anchors
            g = _terms(np.einsum("pji,pqjk->pqik", X[part], X[idx][nn]))[1]
            signs[part] = (g * s_anchor[nn]).sum(1)  # votes, summed over segments below
            if prior is not None:
                signs[part] += prior_weight * prior[part]
        vote = np.zeros(seg.max() + 1)
        np.add.at(vote, seg[rest], signs[rest] * rel[rest])
        signs[rest] = np.where(vote[seg[rest]] >= 0, 1.0, -1.0) * rel[rest]
    if N <= CUT_MAX_SAMPLES and (np.bincount(seg) >= 2 * CUT_WINDOW).any():
        signs = _cut_runs(X, signs, seg, k, None if prior is None else prior_weight * prior)
    if (signs < 0).sum() > N / 2:
        signs = -signs  # the global reflection that mirrors the fewer samples
    agreement = float((W * np.outer(s_anchor, s_anchor)).sum() / np.abs(W).sum().clip(1e-12))
    log.info("reflection labelling: %d of %d samples to mirror (graph agreement %.3f)",
             int((signs < 0).sum()), N, agreement)
    return signs.astype(np.int8)
