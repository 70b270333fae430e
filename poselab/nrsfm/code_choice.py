"""Small sequences of many points: a second fit with a code of 16 atoms, kept when its depth
moves more smoothly than the first's (issue 15; beyond paper 000, which fixes 256-…-8).

A short sequence of many points (a lab's few hundred frames of 40–91 markers, like the classic
NRSfM sequences) is sometimes modelled far better by a richer code — the last dictionary layer
dropped, 256-128-64-32-16 — and sometimes far worse (CALIBRATION.md: small sequences succeed
or fail with the dictionary size). The fit's own figures cannot tell which: the 16-atom code's
training objective and 2D error are lower on every sequence tried, and so is its error at
landmarks hidden from it, whether its 3D is better or a failure (docs/measurements.md, sessions
27–28).

What does tell, without ground truth, is how the depth moves along the frames. A body moves as
smoothly towards the camera as across it, so the true depth's frame-to-frame acceleration is
of the order of the 2D's; a wrong shape model puts depth the 2D does not constrain, and that
depth changes from frame to frame in ways the 2D does not. :func:`depth_roughness` is the RMS
second difference of the output's depth over that of its x, y (both centred per frame);
the 16-atom fit is kept when its roughness is below :data:`SMOOTHER` times the first's.

Measured (session 28, seed 0, exact labels, e3d_akhter; ground truth for scoring only).
Chosen on walking and jumping rendered as 49 markers with a wobbling camera and on the classic
pickup and yoga (41 points), where the 16-atom code's roughness over the 8-atom code's was
0.40 (jumping: 0.201 → 0.169), 1.08 (walking: 0.158 → 0.681, a failure), 1.00 (pickup: 0.0390
→ 0.0608) and 0.985 (yoga: 0.0469 → 0.0286): any threshold between 0.41 and 0.98 keeps the
better fit on three of four; 0.9 keeps it off the near-ties. Reported on
``scripts/bench_unseen.py --surface`` (seven CMU renders as 49 markers) and the classic drink
and stretch, seeds 0 and 10 (18 pairs of fits): the 16-atom fit was kept 4 times, each time
the better one (jumping 0.131 → 0.114 and 0.130 → 0.105, soccer 0.349 → 0.305 and 0.371 →
0.336), and never where it was worse (basketball 0.157 → 0.249 with seed 10: ratio 1.47);
the gains it leaves (stretch 0.043 → 0.036, walking 0.103 → 0.094 with seed 0) sit at ratios
0.96–1.01. On the choosing split with seed 10 too: jumping 0.86 (kept, 0.185 → 0.140), walking
1.70 (a failure, 0.137 → 0.607), pickup 1.00, yoga 0.99 (its gain left). docs/measurements.md
*Session 28*.

Only for sets of at most :data:`poselab.nrsfm.config.SMALL_SET` samples with at least
:data:`MIN_POINTS` landmarks whose 2D is a sequence (:func:`in_order`): the second fit adds
half to two thirds of the first's time. It trains one restart (:data:`SECOND_RESTARTS`), not
three explored and one kept: where that one lands badly its depth is rough and the rule drops
it (stretch, seed 0: e3d 0.83, roughness 49× the first's). Session 29 (same data, seeds and
rule): on the choosing split the same fits kept with seeds 0 and 10 (jumping 0.201 → 0.144,
better than the three-restart 0.169, and 0.185 → 0.140), though nearer the threshold (pickup
0.94 and 0.92, walking 1.14 and 0.92 — its 16-atom fit, 0.141 against 0.137, no longer a
failure); on the report split 5 of 18 kept — jumping twice (0.131 →
0.114, 0.130 → 0.103), soccer twice (0.349 → 0.334, 0.371 → 0.336) and basketball signal
(0.0854 → 0.0871, slightly worse; ratio 0.83 where three restarts gave 0.93) — against 4 of 18,
all better, with three. Whole fits idle on the 2-core CPU: pickup 70 → 64 s, yoga 88 → 69 s,
walking as 49 markers (176 frames) 85 → 79 s; trained beside the first (:func:`beside`)
48 s, 54 s and 59 s. Halving the second fit's steps as well (1000) kept the same fits on the
choosing split but three worse ones on the report split (basketball, basketball signal,
directing traffic): not adopted (the report split decided between these two). And only
when the first fit did not clean the labels and fit again (:func:`fitted_once`): a noisy
sequence is smoothed (or denoised) and fitted again (:mod:`poselab.nrsfm.relabel`), and
comparing there would take four fits. Noisy labels that were not cleaned (smoothing did not
pay) are still compared: the rule was measured on exact labels only.

A known failure (session 33): classic yoga, exact labels, seed 2 — the first fit scored 0.0436
(roughness 2.09), its 16-atom fit 0.2927 (roughness 1.69, ratio 0.81), and the rule kept the
failure; with three restarts the 16-atom fit scored 0.1356 (1.25) and was kept with seeds 0 and
2 alike. On yoga the roughness does not tell a good code from a failed one. So the 16-atom fit
must also lie near the first (:data:`APART`, the restarts' consensus measure): a failed code
lands far from a good first fit, a better code near it. With that guard yoga seed 2 keeps its
first fit (0.0436); the fits kept before (yoga seed 0, jumping and soccer as 49 markers) are
still kept (docs/measurements.md *Session 33*). It rests on few fits; where the first fit is the
failure and the 16-atom fit the good one, the guard forgoes the gain (never worse than the
first fit, which had three restarts to choose from). It catches only gross failures: with
seeds 3 and 4 yoga's 16-atom fits (0.1356, 0.1076 against the first fit's 0.0457) lie 0.092
and 0.074 apart, while the renders' better ones lie 0.047–0.123 apart.

Those two are flatter (session 34): a richer code can explain the 2D with shallower shapes —
NRSfM's degenerate direction — and a shallower depth moves less, so the roughness, which
divides the depth's acceleration by the 2D's and not by the depth's own size, reads it as
smoother. Their depth spreads 0.82 and 0.85 of the first fit's (:func:`depth_spread`; the
truth's spread equals the first fit's), the better 16-atom fits kept on the choosing split
0.91–0.99. So the 16-atom fit must also be at least :data:`FLATTER` as deep as the first.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator

import numpy as np

from poselab.core.progress import CancelToken, Progress, continued
from poselab.nrsfm.config import SMALL_SET, NRSfMConfig

log = logging.getLogger(__name__)

#: Fewest landmarks for the second fit (twice the 16-atom code; measured on 41–49 points).
MIN_POINTS = 32
#: The 2D is a sequence when its RMS second difference along the samples is below this share
#: of its RMS spread about each sample's centre (CMU renders at 10 fps 0.04–0.43, the classic
#: sequences 0.003, the same samples shuffled 0.8–1.3).
ORDERED = 0.5
#: The 16-atom fit is kept when its depth roughness is below this multiple of the first's.
#: Session 34, with both guards below: 1.0 would keep more gains but also pickup's worse 16-atom
#: fits (seeds 0, 2, 3 at 0.94, 0.98, 0.91: up to 1.28× the first fit's error); left at 0.9.
SMOOTHER = 0.9
#: Labels whose noise read from their order is below this share of the box diagonal look
#: exact (:func:`looks_exact`): the second fit then trains beside the first.
LOOKS_EXACT = 0.005
#: Restarts of the second fit (one: no exploration; the roughness rule rejects its failures).
SECOND_RESTARTS = 1
#: The 16-atom fit is, besides, kept only when its 3D lies within this relative distance of the
#: first's (:func:`fits_apart`; the measure of the restarts' consensus, where agreeing restarts
#: score 0.02–0.04 and failed ones 0.12–0.6). Chosen in session 33 between classic yoga's
#: seeds (module docstring): seed 2's failed 16-atom fit, smoother than its good first fit,
#: lies 0.196 from it; seed 0's better one about 0.026 (e3d_akhter between the two fits 0.293
#: and 0.039; this measure reads about two thirds of that: 0.196 / 0.293, 0.032 / 0.048,
#: 0.052 / 0.076 where both were taken). Checked on the 49-marker renders whose 16-atom fits the
#: rule keeps, jumping and soccer: e3d_akhter between the fits 0.071 and 0.162 (about 0.05 and
#: 0.11 here), both still kept — README's figures unchanged.
APART = 0.15
#: The 16-atom fit is, besides, kept only when its depth spreads at least this share of the
#: first's (:func:`depth_spread`): a richer code can explain the 2D with flatter shapes, and
#: flatter depth moves less, so it reads as smoother. Chosen in session 34 on the fits the
#: rule kept (the choosing split above): yoga seeds 3 and 4's worse 16-atom fits spread 0.82
#: and 0.85 of the first's, the better ones 0.91–0.99 (soccer 0.91 twice, yoga seed 0 0.98,
#: jumping 0.97–0.99); the truth spreads as the first fit does on yoga (0.64 of the 2D's).
#: Checked on renders made for it (26 pairs of fits, docs/measurements.md *Session 34*): the
#: four 16-atom fits kept there, all better, spread 0.97–1.02 and stay kept.
FLATTER = 0.88


def _centred(x: np.ndarray) -> np.ndarray:
    return x - x.mean(1, keepdims=True)


def _observed(keypoints_2d: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x, m)``: the 2D ``(N, J, 2)`` float64 with NaN where ``m`` ``(N, J)`` (mask > 0)
    is False."""
    m = np.asarray(mask) > 0
    return np.where(m[..., None], np.asarray(keypoints_2d, np.float64), np.nan), m


def in_order(keypoints_2d: np.ndarray, mask: np.ndarray) -> bool:
    """Whether samples ``(N, J, 2)`` (any 2D units; ``mask (N, J)``, > 0 observed) form a
    sequence: the RMS of ``x_{t+1} − 2 x_t + x_{t−1}`` over landmarks observed in all three
    samples below :data:`ORDERED` times the RMS of the observed ``x`` about each sample's
    centre (the mean of its observed landmarks). False with fewer than 3 such triples."""
    x, m = _observed(keypoints_2d, mask)
    counts = np.maximum(m.sum(1), 1)[:, None]
    x = x - (np.nansum(x, 1) / counts)[:, None]
    ok = m[2:] & m[1:-1] & m[:-2] if len(x) >= 3 else np.zeros((0, m.shape[1]), bool)
    if int(ok.sum()) < 3:
        return False
    d2 = (x[2:] - 2 * x[1:-1] + x[:-2])[ok]
    return bool(np.sqrt((d2 ** 2).mean()) < ORDERED * np.sqrt((x[m] ** 2).mean()))


def depth_roughness(keypoints_3d: np.ndarray) -> float:
    """Depth's frame-to-frame acceleration over the 2D's (module docstring).

    Args:
        keypoints_3d: ``(N, J, 3)`` camera frame (any units), the samples in their order.

    Returns:
        ``RMS Δ²z / RMS Δ²(x, y)`` per coordinate, ``Δ²`` the second difference along the
        samples and every sample centred on its mean; ``nan`` with fewer than 3 samples.
    """
    y = _centred(np.asarray(keypoints_3d, np.float64))
    if len(y) < 3:
        return float("nan")
    d2 = y[2:] - 2 * y[1:-1] + y[:-2]
    xy = np.sqrt((d2[..., :2] ** 2).mean())
    return float(np.sqrt((d2[..., 2] ** 2).mean()) / max(xy, np.finfo(np.float64).tiny))


def depth_spread(keypoints_3d: np.ndarray) -> float:
    """How deep the shapes are: RMS depth over RMS x, y (per coordinate), every sample
    ``(N, J, 3)`` (camera frame, any units) centred on its mean; ``nan`` when x, y are all
    zero. A flattened fit (the degenerate NRSfM answer a flexible shape model can drift to)
    reads low."""
    y = _centred(np.asarray(keypoints_3d, np.float64))
    xy = np.sqrt((y[..., :2] ** 2).mean())
    return float(np.sqrt((y[..., 2] ** 2).mean()) / xy) if xy > 0 else float("nan")


def fits_apart(a: np.ndarray, b: np.ndarray) -> float:
    """Relative distance of two fits' outputs ``(N, J, 3)`` (camera frame, the same samples,
    any units): :func:`poselab.nrsfm.selection.shape_distance` of the per-sample centred
    shapes, averaged both ways (the restarts' consensus measure)."""
    from poselab.nrsfm.selection import shape_distance

    a, b = (_centred(np.asarray(x, np.float64)) for x in (a, b))
    return 0.5 * (shape_distance(a, b) + shape_distance(b, a))


def wanted(keypoints_2d: np.ndarray, mask: np.ndarray, config: NRSfMConfig) -> bool:
    """Whether a fit of these labels ``(N, J, 2)`` (``mask (N, J)``, > 0 observed) gets the
    second fit: ``config.code_choice``, at most SMALL_SET samples, at least MIN_POINTS
    landmarks, a last dictionary layer below 16 atoms to drop, and the labels in sequence
    order (:func:`in_order`)."""
    N, J = np.shape(mask)
    sizes = config.dict_sizes
    if not (config.code_choice and N <= SMALL_SET and J >= MIN_POINTS and len(sizes) > 1
            and sizes[-1] < 16):
        return False
    return in_order(keypoints_2d, mask)


def fitted_once(result) -> bool:
    """Whether ``result`` (an :class:`NRSfMResult`) came from one fit: its labels were not
    smoothed, denoised or set aside and fitted again (:mod:`poselab.nrsfm.relabel`)."""
    extra = result.extra or {}
    return not ({"sequence_smoothing", "label_denoising"} & set(extra)
                or (extra.get("label_outliers") or {}).get("set_aside"))


def second_config(config: NRSfMConfig, device: str) -> NRSfMConfig:
    """The second fit's settings: ``config`` without its last dictionary layer, one restart
    (:data:`SECOND_RESTARTS`), on ``device``, comparing no further codes."""
    return config.replace(dict_sizes=tuple(config.dict_sizes[:-1]), code_choice=False,
                          device=device, restarts=SECOND_RESTARTS)


def looks_exact(keypoints_2d: np.ndarray, mask: np.ndarray) -> bool:
    """Whether labels ``(N, J, 2)`` (``mask (N, J)``, > 0 observed) in sequence order look
    exact: their noise read from the order (:func:`poselab.nrsfm.temporal.temporal_noise`)
    below :data:`LOOKS_EXACT` of the median box diagonal. Session 29: the classic sequences
    read 0.00001–0.00007 exact and 0.0093–0.0101 with noise of 1 % of the diagonal; the
    seven CMU renders (exact, 10 fps) 0.0005–0.0049."""
    from poselab.nrsfm.temporal import temporal_noise

    x, m = _observed(keypoints_2d, mask)
    box = np.nanmax(x, 1) - np.nanmin(x, 1)
    diagonal = float(np.nanmedian(np.linalg.norm(box, axis=-1)))
    return bool(temporal_noise(np.nan_to_num(x), m) < LOOKS_EXACT * diagonal)


def beside(config: NRSfMConfig, make: Callable[..., Generator], keypoints_2d: np.ndarray,
           mask: np.ndarray):
    """A :class:`poselab.nrsfm.concurrent.Beside` for the second fit (``make(cancel)``), to
    train while the first's run kept trains, or None where it would not pay or could change
    a number: unless the fits train on the CPU without measuring a GPU (``device`` ``"cpu"``,
    or ``"auto"`` with none), on one torch thread each (``num_threads`` 1, the default),
    with at least two usable cores, and the labels ``(N, J, 2)`` (``mask (N, J)``) look
    exact (:func:`looks_exact`): noisy ones are cleaned and fitted again, no codes compared,
    and the second fit would only slow that down (pickup with noise of 1 % of the box
    diagonal: 69 → 76 s). Measured (session 29, idle 2-core CPU, the same results to the
    bit): pickup 61–62 → 48 s, yoga 70 → 57–60 s."""
    from poselab.nrsfm.concurrent import Beside, usable_cpus
    from poselab.nrsfm.device_choice import gpu_present

    cpu = config.device == "cpu" or (config.device == "auto" and not gpu_present())
    if not (cpu and config.num_threads == 1 and usable_cpus() >= 2
            and looks_exact(keypoints_2d, mask)):
        return None
    return Beside(make)


def second_code(first, collection, config: NRSfMConfig, cancel: CancelToken,
                fit_fn: Callable[..., Generator], offset: int = 0, beside=None
                ) -> Generator[Progress, None, object]:
    """Fit again without the last dictionary layer; return the fit whose depth is smoother.

    Args:
        first: the :class:`NRSfMResult` of ``config``. collection: what it was fitted on.
        config: its settings (``dict_sizes``, last layer below 16). cancel: checked by the
            second fit. fit_fn: ``fit_fn(collection, config, cancel)`` → a fit generator.
        offset: steps the first fit put on the progress bar; the second's continue them.
        beside: the second fit already started beside the first (:func:`beside`; it trains
            on the CPU), or None to run ``fit_fn`` now.

    Returns:
        ``first`` or the second fit's result, its ``extra["code_choice"]`` giving the
        ``dict_sizes`` each fit's network has (the second's has one layer fewer),
        their ``depth_roughness``, their ``depth_spread``, their ``distance``
        (:func:`fits_apart`) and which was ``kept`` (0 first, 1 second: smoother by
        :data:`SMOOTHER`, at most :data:`APART` from the first and not flatter than
        :data:`FLATTER` of its depth spread).
    """
    t0 = time.perf_counter()
    sizes = tuple(config.dict_sizes[:-1])
    # the device the first fit chose (``"auto"`` measures once)
    device = (first.extra.get("device_choice") or {}).get("chosen", config.device)
    yield Progress("code size", offset, offset, {}, None, "a sequence of many points: fitting "
                   f"again with a code of {sizes[-1]} atoms to compare", kind="info")
    job = (beside.wait(cancel) if beside is not None
           else fit_fn(collection, second_config(config, device), cancel))
    second = yield from continued(job, offset)  # the progress bar goes on
    rough = [depth_roughness(first.keypoints_3d), depth_roughness(second.keypoints_3d)]
    spread = [depth_spread(first.keypoints_3d), depth_spread(second.keypoints_3d)]
    apart = fits_apart(first.keypoints_3d, second.keypoints_3d)
    kept = int(bool(rough[1] < SMOOTHER * rough[0] and apart <= APART
                    and spread[1] >= FLATTER * spread[0]))
    result = (first, second)[kept]
    result.config = {**result.config, "code_choice": config.code_choice}  # the user's setting
    result.extra["code_choice"] = {
        "dict_sizes": [list(r.config["dict_sizes"]) for r in (first, second)],
        "depth_roughness": rough, "depth_spread": spread, "distance": apart, "kept": kept}
    result.extra["wall_s"] = first.extra.get("wall_s", 0.0) + time.perf_counter() - t0
    log.info("depth roughness %.3f (%s atoms) / %.3f (%s atoms), spread %.3f / %.3f, %.3f "
             "apart: kept the %s", rough[0], config.dict_sizes[-1], rough[1], sizes[-1],
             spread[0], spread[1], apart, ("first", "second")[kept])
    return result
