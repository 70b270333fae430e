"""Hidden landmarks completed for the encoder's input (issue 15; beyond paper 000).

The Deep NRSfM encoder reads a sample's whole 2D at once. A hidden (unlabelled) landmark
gives it a zero and a learned per-landmark response (:mod:`poselab.nrsfm.model`), whatever
the pose, and with many landmarks hidden that is where the network fails: on h36m17_train35k
S1/S5/S6 (5000 samples, exact labels, 30 % hidden, defaults; ground truth for scoring only) the
network's shapes scored 104.5 mm MPJPE and the output 86.8, but an encoder shown the *true* 2D
of the hidden landmarks — the loss still on the labelled ones only — scored 78.3 and 60.8.

So before training, a predictor of each landmark from the sample's others (the blind-spot MLP
of :mod:`poselab.nrsfm.denoise`, trained on the labelled landmarks alone) fills in the hidden
ones, and the encoder sees those predictions. They are only the encoder's input: the
reprojection loss, the restart choice, the output step and the uncertainty still treat the
landmarks as unlabelled, so a poor prediction costs the encoder some accuracy but never
becomes a label. (The predictions do read every labelled landmark, so the held-out error of
the restart choice (:mod:`poselab.nrsfm.selection`), which hides labelled landmarks from the
encoder, sees a trace of them through the completed ones — the same for every restart.)
Trained on the normalised 2D (:class:`poselab.nrsfm.data.NRSfMInputs`), so
the same predictor, kept in the result (``model_state`` keys under :data:`STATE_PREFIX`),
completes new samples given to :func:`poselab.nrsfm.reconstruct.reconstruct`.

Chosen on that tuning split: the predictions were 22.6 px RMS off the true 2D (people
~400–500 px tall, 0.29 of a body's RMS radius by the held-out estimate below) and the output
went from 86.8 / 68.5 / 71.0 to 77.7 / 59.5 / 62.9 mm (MPJPE / PA-MPJPE / depth; seed 10:
92.7 / 73.7 / 73.9 → 79.8 / 61.6 / 64.4) for about 40 s more. The true 2D plus Gaussian noise
as predictions showed how good they must be: 0.33 of the radius gained 8 mm, 0.65 lost 4, so
predictions are shown only when their held-out error is under :data:`MAX_RELATIVE_ERROR`.
Reported on S7/S8 (12960 samples, 30 % hidden): exact labels 80.4 / 62.1 / 66.7 →
63.0 / 49.4 / 51.6, σ = 5 px 111.9 / 77.9 / 85.0 → 97.1 / 66.1 / 72.3 (docs/measurements.md).

Sequences (session 30): when the samples are frames in order, a hidden landmark is also
interpolated from the nearest samples before and after that label it
(:func:`poselab.nrsfm.temporal.interpolate_along`, in pixels), and the two predictions are
averaged per landmark with inverse-variance weights: the predictor's variance from its held-out
samples, the interpolation's from interpolating each labelled landmark from its neighbours as if
it were hidden. Samples in no order interpolate badly and get a weight near 0; no ground truth
and no setting. On S7/S8 with 30 % hidden (frames 0.7 s apart; ground truth to score only) the
hidden 2D went from 20.9 px RMS (predictor) and 38.0 (interpolation) to 19.0 blended, the
wrists from 41–43 to 34–38 px.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from poselab.core.progress import CancelToken, EtaClock, Progress
from poselab.nrsfm.denoise import (
    MIN_JOINTS,
    MIN_SAMPLES,
    normalised,
    predict,
    predict_each,
    predictor_network,
    train_predictor,
)
from poselab.nrsfm.temporal import interpolate_along

log = logging.getLogger(__name__)

#: Training steps of the predictor (about 30 s on the 2-core CPU, whatever the set's size).
STEPS = 3000
#: ``model_state`` keys of the completion predictor start with this.
STATE_PREFIX = "completion."
#: Share of the samples the predictor does not train on; its error is measured on their
#: labelled landmarks (on the samples it trained on, it recalls them: a 300-sample synthetic
#: set showed 0.09 of the body's radius there against 0.69 at its hidden landmarks).
HELDOUT_SHARE = 0.2
#: ``model_state`` key (after :data:`STATE_PREFIX`) of the predictor's held-out squared error
#: per landmark ``(J,)``, normalised units²: the blend's weights when new samples are completed.
HELDOUT_KEY = "heldout_sq"
#: Fewest labelled landmarks interpolated from both sides to trust the interpolation's error.
MIN_LEAVE_ONE_OUT = 20
#: Predictions are shown to the encoder only when their held-out RMS error is below this
#: share of each body's RMS radius (1 = no better than the body's centre).
MAX_RELATIVE_ERROR = 0.5


@dataclass
class Completion:
    """Output of :func:`complete_hidden`.

    Attributes:
        n: ``(N, J, 2)`` float32 predicted normalised 2D (DESIGN §3) of the unobserved
            landmarks, NaN at observed ones.
        state: the predictor's parameters as numpy arrays, keys under :data:`STATE_PREFIX`.
        relative_error: RMS distance between the labelled landmarks of the
            :data:`HELDOUT_SHARE` of samples it did not train on and their predictions with
            themselves masked, in units of each sample's RMS radius: the predictor's typical
            error, measured without ground truth (noise in the labels included).
        useful: ``relative_error`` < :data:`MAX_RELATIVE_ERROR`; if not, the fit does not
            use the predictions.
        temporal_weight: ``(J,)`` weight of the interpolation along the samples' order in
            each landmark's prediction (module docstring), or None when it was not tried.
    """

    n: np.ndarray
    state: dict
    relative_error: float
    temporal_weight: np.ndarray | None = None

    @property
    def useful(self) -> bool:
        return bool(self.relative_error < MAX_RELATIVE_ERROR)


def predict_hidden(net, n: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Every unobserved landmark predicted from the sample's observed ones.

    Args:
        net: a :func:`poselab.nrsfm.denoise.predictor_network`. n: ``(N, J, 2)`` normalised
            2D (any value where unobserved). observed: ``(N, J)`` bool.

    Returns:
        ``(N, J, 2)`` float32, NaN at observed landmarks.
    """
    import torch

    obs = torch.as_tensor(np.asarray(observed, np.float32))
    X = torch.as_tensor(np.where(observed[..., None], n, 0.0), dtype=torch.float32)
    out = np.empty(X.shape, np.float32)
    with torch.no_grad():
        for s in range(0, len(X), 8192):
            out[s:s + 8192] = predict(net, X[s:s + 8192], obs[s:s + 8192]).numpy()
    out[np.asarray(observed, bool)] = np.nan
    return out


def blend_along_order(predicted: np.ndarray, predicted_sq: np.ndarray, n: np.ndarray,
                      observed: np.ndarray, centre: np.ndarray, scale: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Hidden landmarks' predictions averaged with their interpolation along the samples'
    order, per landmark with inverse-variance weights (module docstring).

    Args:
        predicted: ``(N, J, 2)`` normalised 2D predictions, NaN at observed landmarks.
        predicted_sq: ``(J,)`` their expected squared error (normalised units², from held-out
            samples; ``inf`` where unknown). n: ``(N, J, 2)`` normalised 2D. observed:
            ``(N, J)`` bool. centre ``(N, 2)``, scale ``(N,)``: the normalisation (pixels,
            :class:`poselab.nrsfm.data.NRSfMInputs`), undone to interpolate in pixels.

    Returns:
        ``(blended (N, J, 2) float32, NaN at observed; temporal weight (J,))``.
    """
    c, s = np.asarray(centre, np.float64)[:, None, :], np.asarray(scale, np.float64)[:, None, None]
    filled, loo = interpolate_along(n * s + c, observed)
    filled, loo = (filled - c) / s, (loo - c) / s
    err = ((loo - n) ** 2).sum(-1)  # (N, J), NaN where not interpolated
    ok = np.isfinite(err)
    count = ok.sum(0)
    interp_sq = np.where(count >= MIN_LEAVE_ONE_OUT,
                         np.where(ok, err, 0.0).sum(0) / np.maximum(count, 1), np.inf)
    known, judged = np.isfinite(predicted_sq), np.isfinite(interp_sq)
    weight = np.zeros(len(interp_sq))  # of the interpolation: 0 where it cannot be judged
    both = known & judged
    weight[both] = predicted_sq[both] / (predicted_sq[both] + interp_sq[both])
    weight[judged & ~known] = 1.0
    w = weight[None, :, None]
    out = np.where(np.isfinite(filled), (1 - w) * predicted + w * filled, predicted)
    return out.astype(np.float32), weight


def complete_hidden(n: np.ndarray, observed: np.ndarray, steps: int | None = None, seed: int = 0,
                    cancel: CancelToken | None = None, centre: np.ndarray | None = None,
                    scale: np.ndarray | None = None
                    ) -> Generator[tuple[int, int], None, Completion | None]:
    """Train the predictor on the observed landmarks and predict the unobserved ones.

    Args:
        n: ``(N, J, 2)`` normalised 2D (:attr:`poselab.nrsfm.data.NRSfMInputs.n`).
        observed: ``(N, J)`` bool. steps: training steps (None: :data:`STEPS`).
        seed: random seed.
        cancel: checked every 100 steps (raises :class:`poselab.core.Cancelled`).
        centre, scale: ``(N, 2)``, ``(N,)`` the normalisation in pixels; given, the
            predictions are blended with the interpolation along the samples' order
            (:func:`blend_along_order`).

    Yields:
        ``(steps done, steps in all)``.

    Returns:
        :class:`Completion`, or None when nothing is unobserved or the set has fewer than
        :data:`poselab.nrsfm.denoise.MIN_SAMPLES` samples or
        :data:`~poselab.nrsfm.denoise.MIN_JOINTS` landmarks (too few to learn from).
    """
    import torch

    observed = np.asarray(observed, bool)
    N, J = observed.shape
    if observed.all() or N < MIN_SAMPLES or J < MIN_JOINTS:
        return None
    cancel = cancel or CancelToken()
    steps = STEPS if steps is None else steps
    X = torch.as_tensor(np.where(observed[..., None], n, 0.0), dtype=torch.float32)
    obs = torch.as_tensor(observed, dtype=torch.float32)
    order = np.random.default_rng(seed).permutation(N)
    test, train = order[:max(1, int(N * HELDOUT_SHARE))], order[int(N * HELDOUT_SHARE):]
    job = train_predictor(X[train], obs[train], steps, seed, cancel)
    while True:
        try:
            yield next(job), steps
        except StopIteration as stop:
            net = stop.value
            break
    yield steps, steps
    net.eval()
    P = predict_each(net, X[test], obs[test]).numpy()
    radius = normalised(X[test], obs[test])[2].numpy()  # (M, 1, 1)
    diff = P - X[test].numpy()
    rel = ((diff / radius) ** 2).sum(-1)
    rel = rel[np.isfinite(rel)]
    sq = (diff ** 2).sum(-1)  # (M, J), NaN at unobserved
    seen = np.isfinite(sq)
    per_joint = np.where(seen.any(0), np.where(seen, sq, 0.0).sum(0)
                         / np.maximum(seen.sum(0), 1), np.inf)
    state = {STATE_PREFIX + k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    state[STATE_PREFIX + HELDOUT_KEY] = per_joint.astype(np.float32)
    predicted, weight = _completed(net, per_joint, n, observed, centre, scale)
    return Completion(predicted, state, float(np.sqrt(rel.mean())) if rel.size else float("inf"),
                      weight)


def _completed(net, heldout_sq, n, observed, centre, scale
               ) -> tuple[np.ndarray, np.ndarray | None]:
    """The predictor's guesses at the unobserved landmarks, blended along the samples' order
    when ``heldout_sq``, ``centre`` and ``scale`` are all given (:func:`blend_along_order`);
    and the interpolation's weight per landmark (None: not blended)."""
    predicted = predict_hidden(net, n, observed)
    if heldout_sq is None or centre is None or scale is None:
        return predicted, None
    return blend_along_order(predicted, np.asarray(heldout_sq, np.float64), n, observed,
                             centre, scale)


def completion_job(inputs, seed: int, cancel: CancelToken, clock: EtaClock
                   ) -> Generator[Progress, None, Completion | None]:
    """:func:`complete_hidden` for :func:`poselab.nrsfm.fit.fit`: its steps are added to
    ``clock.total`` and reported ahead of the fit's (stage ``"hidden landmarks"``).

    Args:
        inputs: the fit's :class:`poselab.nrsfm.data.NRSfMInputs`. seed: the fit's seed.
        cancel: the fit's token. clock: the fit's ETA clock (its total grows).

    Returns:
        what :func:`complete_hidden` returns.
    """
    job = complete_hidden(inputs.n, inputs.mask > 0, seed=seed, cancel=cancel,
                          centre=inputs.centre, scale=inputs.scale)
    base = clock.total
    while True:
        try:
            k, K = next(job)
        except StopIteration as stop:
            return stop.value
        if k == 0:
            clock.total = base + K
            log.info("predicting %d hidden landmarks for the encoder (%d steps)",
                     int((inputs.mask < 1).sum()), K)
        yield Progress("hidden landmarks", k, clock.total, {}, clock.eta(k),
                       f"predicting hidden landmarks for the encoder: step {k}/{K}")


def split_state(model_state: dict) -> tuple[dict, dict]:
    """``model_state`` of an :class:`poselab.nrsfm.result.NRSfMResult` split into the
    network's parameters and the completion predictor's (empty when it has none)."""
    net = {k: v for k, v in model_state.items() if not k.startswith(STATE_PREFIX)}
    return net, {k: v for k, v in model_state.items() if k.startswith(STATE_PREFIX)}


def predictor_from_state(state: dict, num_joints: int):
    """Rebuild the predictor saved by :func:`complete_hidden` (``state`` keys under
    :data:`STATE_PREFIX`).

    Raises:
        ValueError: the parameters do not fit a predictor for ``num_joints`` landmarks.
    """
    import torch

    params = {k[len(STATE_PREFIX):]: torch.as_tensor(v) for k, v in state.items()
              if k != STATE_PREFIX + HELDOUT_KEY}
    if "0.weight" not in params:
        raise ValueError("completion predictor: no first-layer weights in the saved state")
    net = predictor_network(num_joints, int(params["0.weight"].shape[0]))  # as trained
    try:
        net.load_state_dict(params)
    except RuntimeError as err:
        raise ValueError(f"completion predictor does not fit {num_joints} landmarks: "
                         f"{err}") from None
    return net.eval()


def complete_inputs(state: dict, inputs, num_joints: int) -> np.ndarray:
    """Hidden landmarks of new samples (``inputs``, :class:`poselab.nrsfm.data.NRSfMInputs`)
    completed as the fit completed its own: the saved predictor, blended along the samples'
    order when the state holds its held-out error (results saved before session 30 do not).

    Returns:
        ``(N, J, 2)`` float32 normalised 2D, NaN at observed landmarks.

    Raises:
        ValueError: as :func:`predictor_from_state`.
    """
    return _completed(predictor_from_state(state, num_joints),
                      state.get(STATE_PREFIX + HELDOUT_KEY), inputs.n, inputs.mask > 0,
                      inputs.centre, inputs.scale)[0]
