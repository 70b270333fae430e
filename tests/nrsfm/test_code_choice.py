"""Small sequences of many points: a second fit with a 16-atom code, kept when its depth is
smoother (poselab.nrsfm.code_choice)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from poselab.core import PoseCollection, Progress, Skeleton, drain
from poselab.nrsfm import NRSfMConfig, code_choice, fit
from poselab.nrsfm.config import SMALL_SET


def _sequence(n: int = 120, joints: int = 40, seed: int = 0) -> np.ndarray:
    """``(n, joints, 3)`` a smoothly deforming point cloud turning smoothly (camera frame)."""
    rng = np.random.default_rng(seed)
    mean, basis = rng.normal(size=(joints, 3)), rng.normal(size=(2, joints, 3)) * 0.3
    t = np.arange(n) * 0.05
    shapes = mean + np.sin(t)[:, None, None] * basis[0] + np.cos(1.3 * t)[:, None, None] * basis[1]
    a = t * 0.4
    R = np.zeros((n, 3, 3))
    R[:, 0, 0], R[:, 0, 2], R[:, 1, 1], R[:, 2, 0], R[:, 2, 2] = np.cos(a), np.sin(a), 1, \
        -np.sin(a), np.cos(a)
    return np.einsum("nij,nkj->nki", R, shapes)


def test_depth_roughness_and_spread_are_the_depth_over_the_2d():
    y = _sequence()[..., :1].repeat(3, axis=-1)  # x = y, z = 2 x: Δ²z = 2 Δ²x exactly
    y[..., 2] *= 2
    assert code_choice.depth_roughness(y) == pytest.approx(2.0, rel=1e-12)
    assert code_choice.depth_spread(y) == pytest.approx(2.0, rel=1e-12)  # as deep: 2 x
    y[..., 2] = 0.0  # flat depth does not move
    assert code_choice.depth_roughness(y) == 0.0 == code_choice.depth_spread(y)
    truth = _sequence()
    noisy = truth.copy()  # depth the 2D does not constrain, changing from frame to frame
    noisy[..., 2] += np.random.default_rng(1).normal(0, 0.05, noisy.shape[:2])
    assert code_choice.depth_roughness(noisy) > 3 * code_choice.depth_roughness(truth)
    assert np.isnan(code_choice.depth_roughness(truth[:2]))


def test_a_sequence_is_told_from_the_same_samples_shuffled():
    x = _sequence()[..., :2]
    seen = np.ones(x.shape[:2], bool)
    assert code_choice.in_order(x, seen)
    assert not code_choice.in_order(x[np.random.default_rng(0).permutation(len(x))], seen)
    # landmarks hidden at random (unlabelled 2D is NaN): read on the triples observed
    hidden = np.random.default_rng(1).random(seen.shape) < 0.1
    y = np.where(hidden[..., None], np.nan, x)
    assert code_choice.in_order(y, ~hidden)
    order = np.random.default_rng(0).permutation(len(x))
    assert not code_choice.in_order(y[order], ~hidden[order])
    assert not code_choice.in_order(x[:2], seen[:2])


def test_only_short_sequences_of_many_points_are_fitted_twice():
    x, cfg = _sequence()[..., :2], NRSfMConfig()
    seen = np.ones(x.shape[:2], bool)
    assert code_choice.wanted(x, seen, cfg)
    assert not code_choice.wanted(x[:, :17], seen[:, :17], cfg)  # few points
    assert not code_choice.wanted(x[np.random.default_rng(0).permutation(len(x))], seen, cfg)
    assert not code_choice.wanted(x, seen, cfg.replace(code_choice=False))
    assert not code_choice.wanted(x, seen, cfg.replace(dict_sizes=(256, 128, 64, 32, 16)))
    many = np.concatenate([x] * (SMALL_SET // len(x) + 1))
    assert not code_choice.wanted(many, np.ones(many.shape[:2], bool), cfg)
    hidden = np.random.default_rng(2).random(seen.shape) < 0.02  # no landmark always seen
    assert code_choice.wanted(np.where(hidden[..., None], np.nan, x), ~hidden, cfg)


def _markers(n: int = 100) -> PoseCollection:
    """The 2D of :func:`_sequence` as a 40-marker set (pixels)."""
    y = _sequence(n=n)
    P = y.shape[1]
    return PoseCollection(Skeleton("m40", tuple(f"m{i}" for i in range(P)), ()),
                          (y[..., :2] * 100 + 300).astype(np.float32), units_3d="units")


def _result(y, sizes):
    return SimpleNamespace(keypoints_3d=y, extra={"wall_s": 1.0},
                           config={"dict_sizes": list(sizes)})


@pytest.mark.parametrize("second_smoother", [True, False])
def test_the_fit_whose_depth_moves_more_smoothly_is_kept(second_smoother):
    truth = _sequence()
    rough = truth.copy()
    rough[..., 2] += np.random.default_rng(2).normal(0, 0.05, rough.shape[:2])
    # the first fit's network has a smaller dictionary than the second's (the user's setting)
    first = _result(rough if second_smoother else truth, (64, 32, 16, 8))
    first.extra["device_choice"] = {"chosen": "cpu"}
    calls = []

    def fake_fit(collection, config, cancel):
        calls.append(config)
        yield Progress("fit", 10, 40, {}, None, "step 10")
        return _result(truth if second_smoother else rough, config.dict_sizes)

    cfg = NRSfMConfig(device="auto")
    job = code_choice.second_code(first, None, cfg, None, fake_fit, offset=100)
    records = []
    kept = drain(job, records.append)
    assert [(p.stage, p.step, p.total) for p in records] == [("code size", 100, 100),
                                                             ("fit", 110, 140)]
    assert calls[0].dict_sizes == (256, 128, 64, 32, 16) and not calls[0].code_choice
    assert calls[0].device == "cpu"  # where the first fit chose to train: not measured again
    assert calls[0].restarts == 1  # not explored: the roughness rule rejects its failures
    assert (kept is not first) == second_smoother
    info = kept.extra["code_choice"]
    assert info["kept"] == int(second_smoother)
    assert info["dict_sizes"] == [[64, 32, 16, 8], [256, 128, 64, 32, 16]]
    first_roughness = code_choice.depth_roughness(first.keypoints_3d)
    assert info["depth_roughness"][0] == pytest.approx(first_roughness)


def test_a_smoother_second_fit_far_from_the_first_or_flatter_is_not_kept():
    """A failed fit can be smoother than a good one: kept only within APART of the first fit
    (classic yoga, seed 2) and not flatter than FLATTER of its depth spread (a flattened depth
    moves little: yoga, seeds 3 and 4)."""
    truth = _sequence()
    rough = truth.copy()  # the first fit: the truth with depth that jitters
    rough[..., 2] += np.random.default_rng(2).normal(0, 0.05, rough.shape[:2])
    first = _result(rough, (64, 32, 16, 8))
    far = truth.copy()  # as smooth and as deep as the truth, but another depth
    far[..., 2] = truth[::-1, :, 2]
    flatter = truth.copy()
    flatter[..., 2] *= 0.8  # depth squashed: smoother, close, and flatter
    ratio = code_choice.depth_spread(flatter) / code_choice.depth_spread(rough)
    assert ratio < code_choice.FLATTER < code_choice.depth_spread(truth) / \
        code_choice.depth_spread(rough)
    assert code_choice.depth_spread(flatter) == pytest.approx(
        0.8 * code_choice.depth_spread(truth), rel=1e-12)
    assert code_choice.fits_apart(truth, truth) == pytest.approx(0.0, abs=1e-9)
    for second, keep, near in ((truth, True, True), (far, False, False),
                               (flatter, False, True)):
        assert code_choice.depth_roughness(second) < code_choice.SMOOTHER * \
            code_choice.depth_roughness(rough)

        def fake_fit(collection, config, cancel, second=second):
            return _result(second, config.dict_sizes)
            yield

        kept = drain(code_choice.second_code(first, None, NRSfMConfig(device="cpu"), None,
                                             fake_fit))
        assert (kept is not first) == keep, kept.extra["code_choice"]
        info = kept.extra["code_choice"]
        assert (info["distance"] <= code_choice.APART) == near
        assert info["distance"] == pytest.approx(code_choice.fits_apart(second, rough))
        assert info["depth_spread"] == pytest.approx(
            [code_choice.depth_spread(rough), code_choice.depth_spread(second)])


def test_a_short_marker_sequence_is_fitted_with_both_codes():
    coll = _markers()  # the kept fit's own output: without the low-rank polish after it
    cfg = NRSfMConfig(dict_sizes=(32, 16, 8), steps=150, restarts=1, batch_size=50,
                      log_every=50, num_threads=1, low_rank=False)
    records: list = []
    result = drain(fit(coll, cfg), records.append)
    info = result.extra["code_choice"]
    assert info["dict_sizes"] == [[32, 16, 8], [32, 16]]
    at = [p.stage for p in records].index("code size")
    steps = [p.step for p in records]  # the progress bar goes on through the second fit
    assert steps[at] == records[at - 1].total and steps[at:] == sorted(steps[at:])
    assert records[-1].step > records[at].step
    rough = info["depth_roughness"]
    assert info["kept"] == int(rough[1] < code_choice.SMOOTHER * rough[0]
                               and info["distance"] <= code_choice.APART)
    assert result.config["dict_sizes"] == [[32, 16, 8], [32, 16]][info["kept"]]
    assert result.config["code_choice"]  # as the user set it, whichever fit was kept
    assert code_choice.depth_roughness(result.keypoints_3d) == pytest.approx(rough[info["kept"]])


def test_a_fit_on_cleaned_labels_is_not_compared():
    # noisy sequences are smoothed (or denoised) and fitted again: the rule was measured on
    # exact labels only, and comparing there would take four fits
    assert code_choice.fitted_once(SimpleNamespace(extra={"noise_px": 0.01}))
    for kind in ("sequence_smoothing", "label_denoising"):
        assert not code_choice.fitted_once(SimpleNamespace(extra={kind: {"samples": 2.0}}))
    assert not code_choice.fitted_once(SimpleNamespace(extra={"label_outliers": {
        "count": 3, "set_aside": True}}))
    assert code_choice.fitted_once(SimpleNamespace(extra={"label_outliers": {
        "count": 3, "set_aside": False}}))


def test_the_second_fit_on_cleaned_labels_compares_no_codes(monkeypatch):
    import sys

    from poselab.nrsfm.relabel import Cleaner, fit_again

    configs = []

    def fake_fit(collection, config, cancel, known_noise=None):
        configs.append(config)
        yield from ()
        return _result(np.zeros((3, 40, 3)), config.dict_sizes)

    monkeypatch.setattr(sys.modules["poselab.nrsfm.fit"], "fit", fake_fit)
    cleaner = Cleaner(None, 1.0, 2.0, "sequence_smoothing", {"samples": 2.0})
    result = drain(fit_again(cleaner, NRSfMConfig(), None, 0, first_s=1.0))
    assert not configs[0].code_choice and "code_choice" not in result.extra


def test_the_second_fit_runs_beside_the_first_only_on_a_cpu_with_one_thread(monkeypatch):
    import poselab.nrsfm.concurrent as conc
    import poselab.nrsfm.device_choice as dc

    monkeypatch.setattr(conc, "usable_cpus", lambda: 2)
    monkeypatch.setattr(dc, "gpu_present", lambda: False)
    x = _sequence()[..., :2] * 100
    seen = np.ones(x.shape[:2], bool)
    diagonal = np.median(np.linalg.norm(np.ptp(x, axis=1), axis=-1))
    noisy = x + np.random.default_rng(0).normal(0, 0.01 * diagonal, x.shape)
    assert code_choice.looks_exact(x, seen) and not code_choice.looks_exact(noisy, seen)
    make = lambda cancel: iter(())  # noqa: E731
    cfg = NRSfMConfig(num_threads=1)

    def beside(config, labels=x):
        return code_choice.beside(config, make, labels, seen)

    assert beside(cfg) is not None  # "auto" without a GPU: the CPU
    assert beside(cfg.replace(device="cpu")) is not None
    assert beside(cfg, noisy) is None  # cleaned and fitted again: no codes compared
    assert beside(cfg.replace(num_threads=2)) is None
    assert beside(cfg.replace(num_threads=0)) is None  # torch's own count
    monkeypatch.setattr(dc, "gpu_present", lambda: True)
    assert beside(cfg) is None  # "auto" would measure the GPU first
    monkeypatch.setattr(dc, "gpu_present", lambda: False)
    monkeypatch.setattr(conc, "usable_cpus", lambda: 1)
    assert beside(cfg) is None


def test_the_second_fit_beside_the_first_gives_the_numbers_it_gives_after_it(monkeypatch):
    from poselab.nrsfm.concurrent import usable_cpus

    if usable_cpus() < 2:
        pytest.skip("one usable core: the two fits run one after the other")
    coll = _markers()
    # two restarts side by side, then the run kept trains beside the second fit
    cfg = NRSfMConfig(dict_sizes=(32, 16, 8), steps=120, restarts=2, batch_size=50,
                      log_every=40, num_threads=1)
    made, real = [], code_choice.beside
    monkeypatch.setattr(code_choice, "beside",
                        lambda *a: made.append(real(*a)) or made[-1])
    together = drain(fit(coll, cfg))
    assert made and made[0] is not None and made[0].started
    monkeypatch.setattr(code_choice, "beside", lambda *a: None)
    after = drain(fit(coll, cfg))
    np.testing.assert_array_equal(together.keypoints_3d, after.keypoints_3d)
    assert together.extra["code_choice"] == after.extra["code_choice"]
    assert together.config == after.config
