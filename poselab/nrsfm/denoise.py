"""Noisy labels of unordered samples, denoised by predicting each landmark from the others.

Labels of video frames are smoothed along their order (:mod:`poselab.nrsfm.temporal`); a set
of samples in no order (h36m17_train35k, a COCO or Ultralytics set) has no order to average
over, but its landmarks are redundant within a sample: a body's hips, spine and thorax are
predicted from its other joints to a few pixels. This module follows Noise2Self (Batson &
Royer, "Noise2Self: Blind Denoising by Self-Supervision", ICML 2019, §3: a *J-invariant*
function, one whose output for coordinate set J never reads J's own input):

- a small MLP ``f`` gets a sample's 2D with some observed landmarks masked (normalised by the
  centre and RMS radius of the landmarks it sees) and predicts the masked ones; it is trained
  on the noisy labels alone, the loss only on masked landmarks;
- ``P_j = f(x_−j)_j``, landmark j predicted with only itself masked, never reads ``x_j``; with
  noise independent across landmarks, ``E‖P_j − x_j‖² = E‖P_j − x̄_j‖² + 2σ²`` (x̄ the true
  2D; Noise2Self Eq. 2), so the predictor's own error ``v_j`` per coordinate is
  ``mean ‖P_j − x_j‖² / 2 − σ²`` given the label noise σ (estimated by
  :func:`poselab.nrsfm.noise_aware.label_noise`; no ground truth);
- each label becomes the inverse-variance average ``(x_j / σ² + P_j / v_j) / (1/σ² + 1/v_j)``,
  whose noise per coordinate is ``√(σ² v_j / (σ² + v_j))``.

The samples are split in :data:`FOLDS` halves and each half is predicted by a network trained
on the other (cross-fitting), so a network never predicts a label it was trained on: on a small
set it could otherwise learn each sample's noisy landmark from its other landmarks.

:func:`poselab.nrsfm.fit` (``NRSfMConfig.denoise_labels``, :mod:`poselab.nrsfm.relabel`) then
fits again on the denoised labels, their remaining noise known, as for smoothed sequences.
Measured 2026-12-04 on h36m17_train35k S1/S5/S6 (5000 samples, the tuning split): 2D error RMS
7.08 → 5.91 px at σ = 5 px, 14.15 → 10.2 px at σ = 10 (the true σ for the weights; hips and
spine predicted to 3–5 px, wrists and ankles to 18–26); the output 3D of single default fits
79.4 → 74.6 mm MPJPE (σ = 5) and 103.5 → 94.1–101.6 (σ = 10; docs/measurements.md gives every
variant tried). Reported on S7/S8: σ = 5 66.5 / 45.9 / 54.8 → 64.9 / 46.0 / 51.1, σ = 10 86.3 / 60.1
/ 67.9 → 77.0 / 55.2 / 57.5; cmu17_train σ = 5 95.0 / 65.0 / 84.7 → 57.7 / 45.0 / 47.9, σ = 10 140.4
/ 87.1 / 126.0 → 72.3 / 52.3 / 60.2.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from poselab.core.progress import CancelToken

#: Training steps of each fold's predictor, batch size, hidden width, learning rate.
STEPS, BATCH, WIDTH, LR = 3000, 256, 512, 1e-3
#: Share of a sample's observed landmarks masked in each training batch.
MASK_SHARE = 0.2
#: Cross-fitting folds.
FOLDS = 2
#: Fewest samples, and fewest landmarks, for which a predictor is trained (fewer: labels kept).
MIN_SAMPLES, MIN_JOINTS = 200, 4


@dataclass
class Denoised:
    """Output of :func:`denoise_labels`.

    Attributes:
        keypoints_2d: ``(N, J, 2)`` float32 pixels: observed labels averaged with their
            predictions; unobserved landmarks as given.
        noise_px: RMS over landmarks of the noise left per coordinate, pixels.
        predictor_px: ``(J,)`` float64 the predictor's estimated error per coordinate, pixels.
        weight: ``(J,)`` float64 the weight of the prediction in each landmark's average.
    """

    keypoints_2d: np.ndarray
    noise_px: float
    predictor_px: np.ndarray
    weight: np.ndarray


def normalised(x, m):
    """The predictor's input frame: ``x`` centred on and divided by the centre and RMS radius
    of the landmarks it sees, so a prediction does not depend on where or how large a body is.

    Args:
        x: ``(B, J, 2)`` tensor, any 2D units. m: ``(B, J)`` float tensor, 1 where seen.

    Returns:
        ``(normalised (B, J, 2) with unseen landmarks zeroed, centre (B, 1, 2), radius
        (B, 1, 1))``, the last two in ``x``'s units.
    """
    import torch

    w = m[..., None]
    c = (x * w).sum(1, keepdim=True) / w.sum(1, keepdim=True).clamp(min=1)
    r = torch.sqrt((((x - c) ** 2).sum(-1) * m).sum(1) / m.sum(1).clamp(min=1))
    r = r.clamp(min=1e-6)[:, None, None]
    return (x - c) / r * w, c, r


def predictor_network(J: int, width: int = WIDTH):
    """The landmark predictor: an MLP from ``3J`` inputs (the :func:`normalised` 2D and the
    seen mask) to ``2J`` outputs (every landmark, normalised), hidden ``width``."""
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(3 * J, width), torch.nn.GELU(), torch.nn.Linear(width, width),
        torch.nn.GELU(), torch.nn.Linear(width, width), torch.nn.GELU(),
        torch.nn.Linear(width, 2 * J))


def train_predictor(X, obs, steps: int, seed: int, cancel: CancelToken):
    """Train one predictor on ``X`` ``(M, J, 2)`` tensor with observed mask ``obs`` ``(M, J)``:
    each batch masks a random :data:`MASK_SHARE` of the observed landmarks and is scored on
    those only (Noise2Self's masking). Yields the step after every 100 steps, returns the
    network; raises :class:`poselab.core.Cancelled` when ``cancel`` is set."""
    import torch

    from poselab.nrsfm.train import SEEDING

    gen = torch.Generator().manual_seed(seed)
    M, J = obs.shape
    with SEEDING:  # another fit may run beside this one (concurrent.Beside)
        torch.manual_seed(seed)
        net = predictor_network(J)
    opt = torch.optim.Adam(net.parameters(), LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for step in range(steps):
        if step % 100 == 0:
            cancel.check()
            yield step
        b = torch.randint(0, M, (min(BATCH, M),), generator=gen)
        x, o = X[b], obs[b]
        m = o * (torch.rand(o.shape, generator=gen) > MASK_SHARE).float()
        few = m.sum(1) < 2
        m[few] = o[few]  # too few left to normalise by: nothing masked in that sample
        xn, c, r = normalised(x, m)
        out = net(torch.cat([xn.flatten(1), m], 1)).view(-1, J, 2)
        target = (x - c) / r
        hid = o - m
        loss = (((out - target) ** 2).sum(-1) * hid).sum() / hid.sum().clamp(min=1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return net


def predict(net, X, m):
    """``net``'s predictions ``(B, J, 2)`` of every landmark of ``X`` ``(B, J, 2)`` tensor, in
    ``X``'s units, from the landmarks with ``m`` ``(B, J) == 1`` (no gradient taken here)."""
    import torch

    xn, c, r = normalised(X, m)
    return net(torch.cat([xn.flatten(1), m], 1)).view(len(X), -1, 2) * r + c


def predict_each(net, X, obs):
    """``(M, J, 2)`` tensor: each observed landmark of ``X`` predicted by ``net`` with itself
    masked (NaN where unobserved or the sample has fewer than 3 observed), ``X``'s units."""
    import torch

    M, J = obs.shape
    P = torch.full_like(X, float("nan"))
    with torch.no_grad():
        for j in range(J):
            rows = torch.nonzero((obs[:, j] > 0) & (obs.sum(1) >= 3)).flatten()
            if len(rows) == 0:
                continue
            m = obs[rows].clone()
            m[:, j] = 0
            P[rows, j] = predict(net, X[rows], m)[:, j]
    return P


def blind_spot_predictions(keypoints_2d: np.ndarray, observed: np.ndarray,
                           steps: int = STEPS, seed: int = 0,
                           cancel: CancelToken | None = None
                           ) -> Generator[tuple[int, int], None, np.ndarray]:
    """Each observed landmark predicted from the sample's other landmarks (module docstring),
    by networks that never trained on its sample (cross-fitting).

    Args:
        keypoints_2d: ``(N, J, 2)`` pixels (any finite values where unobserved).
        observed: ``(N, J)`` bool. steps: training steps per fold. seed: random seed.
        cancel: checked every 100 steps (raises :class:`poselab.core.Cancelled`).

    Yields:
        ``(steps done, steps in all)``.

    Returns:
        ``(N, J, 2)`` float64 pixels; NaN where unobserved or the sample has < 3 observed.
    """
    import torch

    cancel = cancel or CancelToken()
    obs_np = np.asarray(observed, bool)
    X = torch.as_tensor(np.where(obs_np[..., None], keypoints_2d, 0.0), dtype=torch.float32)
    obs = torch.as_tensor(obs_np, dtype=torch.float32)
    fold = np.random.default_rng(seed).permutation(len(X)) % FOLDS
    P = np.full(X.shape, np.nan)
    for k in range(FOLDS):
        train, test = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        job = train_predictor(X[train], obs[train], steps, seed + k, cancel)
        while True:
            try:
                yield k * steps + next(job), FOLDS * steps
            except StopIteration as stop:
                net = stop.value
                break
        P[test] = predict_each(net, X[test], obs[test]).numpy()
    yield FOLDS * steps, FOLDS * steps
    return P


def denoise_labels(keypoints_2d: np.ndarray, observed: np.ndarray, noise_px: float,
                   steps: int = STEPS, seed: int = 0, cancel: CancelToken | None = None,
                   predictions: np.ndarray | None = None
                   ) -> Generator[tuple[int, int], None, Denoised]:
    """Average each observed label with its blind-spot prediction (module docstring).

    Args:
        keypoints_2d: ``(N, J, 2)`` pixels; observed ``(N, J)`` bool.
        noise_px: the labels' noise σ, pixels per coordinate (estimated from the data:
            :func:`poselab.nrsfm.noise_aware.label_noise`), > 0.
        steps, seed, cancel: as :func:`blind_spot_predictions`.
        predictions: its output for these labels when already made (the gross-error check of
            :mod:`poselab.nrsfm.outliers` trains the same predictor); None: made here.

    Yields:
        ``(steps done, steps in all)`` (none when ``predictions`` are given).

    Returns:
        :class:`Denoised`; the labels unchanged (weights 0) for sets of fewer than
        :data:`MIN_SAMPLES` samples or :data:`MIN_JOINTS` landmarks.

    Raises:
        ValueError: ``noise_px`` not positive.
    """
    if not noise_px > 0:
        raise ValueError(f"denoise_labels needs a positive label noise, got {noise_px}")
    kp = np.asarray(keypoints_2d, np.float64)
    obs = np.asarray(observed, bool)
    N, J = obs.shape
    if N < MIN_SAMPLES or J < MIN_JOINTS:
        return Denoised(kp.astype(np.float32), float(noise_px), np.full(J, np.inf),
                        np.zeros(J))
    P = (np.asarray(predictions, np.float64) if predictions is not None
         else (yield from blind_spot_predictions(kp, obs, steps, seed, cancel)))
    ok = np.isfinite(P[..., 0])
    s2 = float(noise_px) ** 2
    weight = np.zeros(J)
    v = np.full(J, np.inf)
    left = np.full(J, s2)
    for j in range(J):
        if ok[:, j].sum() < MIN_SAMPLES // 2:
            continue
        e2 = float(((P[ok[:, j], j] - kp[ok[:, j], j]) ** 2).sum(-1).mean()) / 2
        v[j] = max(e2 - s2, 1e-3 * s2)  # the predictor's own error (Noise2Self Eq. 2)
        weight[j] = s2 / (s2 + v[j])
        left[j] = s2 * v[j] / (s2 + v[j])
    w = np.where(ok, weight[None, :], 0.0)[..., None]
    out = np.where(ok[..., None], (1 - w) * kp + w * np.nan_to_num(P), kp)
    return Denoised(out.astype(np.float32), float(np.sqrt(left.mean())), np.sqrt(v), weight)
