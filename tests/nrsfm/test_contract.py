"""NRSfM teacher contract: bad input, cancellation, the result invariant, save/load, reuse."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from nrsfm_synthetic import low_rank_problem

from poselab.core import Cancelled, CancelToken, DataError, PoseCollection, Skeleton, drain
from poselab.nrsfm import NRSfMConfig, NRSfMResult, fit, reconstruct
from poselab.nrsfm.data import prepare_inputs

torch = pytest.importorskip("torch")

TINY = NRSfMConfig(dict_sizes=(16, 8), steps=120, restarts=2, explore_steps=40,
                   batch_size=64, log_every=10, noise_aware=False)
SKEL = Skeleton("six", tuple("abcdef"))


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def fitted():
    torch.set_num_threads(1)
    coll, _ = low_rank_problem(n=80, joints=12, seed=3, hide=0.1)
    return coll, drain(fit(coll, TINY))


def test_fewer_than_two_samples_is_a_data_error():
    coll = PoseCollection(SKEL, np.random.default_rng(0).normal(size=(1, 6, 2)))
    with pytest.raises(DataError, match="at least 2 samples"):
        drain(fit(coll, TINY))


def test_sample_without_landmarks_is_a_data_error():
    kp = np.random.default_rng(0).normal(size=(5, 6, 2))
    vis = np.full((5, 6), 2, np.uint8)
    vis[3] = 0
    with pytest.raises(DataError, match="sample 3"):
        drain(fit(PoseCollection(SKEL, kp, vis), TINY))


def test_nan_landmark_is_a_data_error():
    kp = np.random.default_rng(0).normal(size=(5, 6, 2))
    kp[2, 4, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        prepare_inputs(kp, np.full((5, 6), 2), None)
    with pytest.raises(DataError, match="NaN"):
        drain(fit(PoseCollection(SKEL, kp, np.full((5, 6), 2)), TINY))


def test_perspective_without_intrinsics_is_a_data_error():
    kp = np.random.default_rng(0).normal(size=(5, 6, 2))
    with pytest.raises(DataError, match="intrinsics"):
        prepare_inputs(kp, None, None, "perspective")


def test_cancel_stops_within_a_second_and_returns_nothing(tmp_path):
    coll, _ = low_rank_problem(n=100, joints=12, seed=4)
    token = CancelToken()
    job = fit(coll, NRSfMConfig(steps=100000, restarts=1, log_every=5), token)
    outcome, running = {}, threading.Event()

    def worker():
        try:
            outcome["result"] = drain(job, lambda p: running.set())
        except Cancelled:
            outcome["cancelled"] = time.perf_counter()

    thread = threading.Thread(target=worker)
    thread.start()
    assert running.wait(timeout=60)
    time.sleep(0.3)
    t0 = time.perf_counter()
    token.cancel()
    thread.join(timeout=10)
    assert "cancelled" in outcome and "result" not in outcome
    assert outcome["cancelled"] - t0 < 1.0
    assert list(tmp_path.iterdir()) == []


def test_invariant_rotations_and_pixels(fitted):
    coll, r = fitted
    N, J = coll.num_samples, coll.num_joints
    assert r.keypoints_3d.shape == r.shapes_normalized.shape == (N, J, 3)
    S = (r.codes @ r.dictionary.T).reshape(N, J, 3)
    np.testing.assert_allclose(S @ r.rotations.transpose(0, 2, 1), r.shapes_normalized,
                               atol=1e-5)
    # float32 rotations from the camera: orthonormal to a few 1e-5 (measured 2.1e-5)
    np.testing.assert_allclose(r.rotations @ r.rotations.transpose(0, 2, 1),
                               np.broadcast_to(np.eye(3), (N, 3, 3)), atol=1e-4)
    np.testing.assert_allclose(np.linalg.det(r.rotations), 1.0, atol=1e-4)
    assert (r.codes >= 0).all() and r.reflection in (1, -1)
    # weak perspective, free bones (a custom skeleton): the output passes through the observed
    # 2D at the network's depth; unobserved landmarks keep the network's own 3D
    kp = r.shapes_normalized * r.scale[:, None, None]
    kp[..., :2] += r.centre[:, None, :]
    obs = coll.visibility > 0
    assert (~obs).any() and obs.any()
    np.testing.assert_allclose(r.keypoints_3d[..., :2][obs], coll.keypoints_2d[obs], atol=1e-3)
    np.testing.assert_allclose(r.keypoints_3d[..., 2], kp[..., 2], atol=1e-3)
    np.testing.assert_allclose(r.keypoints_3d[~obs], kp[~obs], atol=1e-3)
    assert np.abs(kp[..., :2][obs] - coll.keypoints_2d[obs]).max() > 1e-2  # it did move them
    np.testing.assert_allclose(r.shapes_refined * r.scale[:, None, None] + np.concatenate(
        [r.centre, np.zeros((N, 1), np.float32)], 1)[:, None, :], r.keypoints_3d, atol=1e-3)
    assert r.extra["restarts"] == 2 and r.extra["selected"] in (0, 1)
    assert r.extra["bone_proportions"] is None
    assert len(r.loss_history["loss"]) > 0


def test_noise_aware_output_saves_its_uncertainty_and_old_files_still_load(fitted, tmp_path):
    coll, r = fitted
    assert r.keypoints_3d_std is None and r.reprojection_error_network is None
    r.save(tmp_path / "old.npz")  # a file without the new arrays
    assert NRSfMResult.load(tmp_path / "old.npz").keypoints_3d_std is None
    aware = NRSfMResult(**{**r.__dict__, "config": {**r.config, "noise_aware": True}})
    again = reconstruct(aware, coll.keypoints_2d, coll.visibility)
    N, J = coll.num_samples, coll.num_joints
    assert again.keypoints_3d_std.shape == (N, J) and again.keypoints_3d_std.dtype == np.float32
    assert np.isfinite(again.keypoints_3d_std).all() and (again.keypoints_3d_std > 0).all()
    obs = coll.visibility > 0
    assert again.keypoints_3d_std[~obs].mean() > again.keypoints_3d_std[obs].mean()
    # the network's reprojection error, px, as computed from the saved arrays
    kp = r.shapes_normalized * r.scale[:, None, None]
    kp[..., :2] += r.centre[:, None, :]
    d = np.linalg.norm(kp[..., :2] - coll.keypoints_2d, axis=-1)  # weak perspective
    want = np.sqrt((d ** 2 * obs).sum(1) / obs.sum(1))
    np.testing.assert_allclose(again.reprojection_error_network, want, rtol=1e-3, atol=1e-3)
    assert again.extra["noise_px"] > 0
    again.save(tmp_path / "new.npz")
    back = NRSfMResult.load(tmp_path / "new.npz")
    np.testing.assert_array_equal(back.keypoints_3d_std, again.keypoints_3d_std)
    np.testing.assert_array_equal(back.reprojection_error_network,
                                  again.reprojection_error_network)
    assert back.extra["noise_px"] == again.extra["noise_px"]


def test_without_exact_2d_the_output_is_the_networks_shape(fitted):
    coll, r = fitted
    plain = NRSfMResult(**{**r.__dict__, "config": {**r.config, "exact_2d": False}})
    again = reconstruct(plain, coll.keypoints_2d, coll.visibility)
    kp = r.shapes_normalized * r.scale[:, None, None]
    kp[..., :2] += r.centre[:, None, :]
    # rtol: on CUDA the batched products round differently (8.7e-5 relative, H200 2026-12-04)
    np.testing.assert_allclose(again.keypoints_3d, kp, rtol=2e-4, atol=1e-3)


def test_save_load_round_trip(fitted, tmp_path):
    _, r = fitted
    r.save(tmp_path / "nrsfm.npz")
    back = NRSfMResult.load(tmp_path / "nrsfm.npz")
    for name in ("keypoints_3d", "shapes_normalized", "rotations", "codes", "dictionary",
                 "centre", "scale"):
        np.testing.assert_array_equal(getattr(back, name), getattr(r, name))
    assert back.sample_ids == r.sample_ids and back.camera_model == r.camera_model
    assert NRSfMConfig.from_dict(back.config) == TINY
    assert set(back.model_state) == set(r.model_state)


def test_reconstruct_training_samples_reproduces_the_fit(fitted, tmp_path):
    coll, r = fitted
    r.save(tmp_path / "nrsfm.npz")
    again = reconstruct(NRSfMResult.load(tmp_path / "nrsfm.npz"), coll.keypoints_2d,
                        coll.visibility)
    # rtol: on CUDA the batched products round differently (8.7e-5 relative, H200 2026-12-04)
    np.testing.assert_allclose(again.keypoints_3d, r.keypoints_3d, rtol=2e-4, atol=1e-3)
    one = reconstruct(r, coll.keypoints_2d[:1], coll.visibility[:1])
    np.testing.assert_allclose(one.keypoints_3d[0], r.keypoints_3d[0], rtol=2e-4, atol=1e-3)


def test_cli_reports_bad_input_in_one_line(tmp_path, capsys):
    from poselab.cli import main

    assert main(["nrsfm", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "o.npz")]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "Traceback" not in err
    assert not (tmp_path / "o.npz").exists()


def test_cli_fits_and_writes_a_loadable_result(shared_data, tmp_path):
    from poselab.cli import main

    out = tmp_path / "nrsfm.npz"
    rc = main(["nrsfm", str(shared_data / "nrsfm_classic" / "yoga.npz"), "--out", str(out),
               "--steps", "30", "--restarts", "1", "--threads", "1", "--bone-prior", "0.3",
               "--bone-lengths", "rigid"])
    assert rc == 0
    r = NRSfMResult.load(out)
    assert r.keypoints_3d.shape == (307, 41, 3) and r.camera_model == "weak_perspective"
    assert r.config["bone_consistency"] == 0.3 and r.config["steps"] == 30
    assert r.config["bone_lengths"] == "rigid" and len(r.extra["bone_proportions"]) == 55
    assert r.config["batch_size"] == 128  # 307 samples: the small-set schedule's batch


def test_differing_restarts_are_a_note_with_objective_selection_and_a_warning_with_consensus(
        caplog):
    import logging

    coll, _ = low_rank_problem(n=80, joints=12, seed=3)
    strict = TINY.replace(agreement=0.0)  # any difference between restarts counts
    for rule, message, warned in (("objective", "restarts differ: kept the lowest-cost one",
                                   False),
                                  ("consensus", "restarts disagree: 3D unreliable", True)):
        caplog.clear()
        records = []
        with caplog.at_level(logging.INFO, logger="poselab.nrsfm.fit"):
            result = drain(fit(coll, strict.replace(selection=rule)), records.append)
        assert result.extra["restarts_agree"] is False
        assert any(message in (r.message or "") for r in records if r.stage == "select")
        assert any(r.levelno == logging.WARNING for r in caplog.records) == warned


def test_disagreeing_restarts_are_explored_again_from_new_seeds_on_small_sets_only(monkeypatch):
    import importlib

    fit_module = importlib.import_module("poselab.nrsfm.fit")  # the package exports fit()
    coll, _ = low_rank_problem(n=80, joints=12, seed=3)
    config = TINY.replace(dict_sizes=(16, 12, 8, 6, 4, 2), agreement=0.0, seed=5)
    small = drain(fit(coll, config))
    assert small.extra["seeds_tried"] == [[5, 6], [7, 8]]  # two rounds of restarts=2
    assert len(small.extra["restart_objective"]) == 4  # the choice is among both rounds
    assert list(small.config["dict_sizes"]) == [16, 12, 8, 6, 4, 2]  # no layer dropped
    monkeypatch.setattr(fit_module, "RETRY_MAX_SAMPLES", 79)  # the same set counts as large
    large = drain(fit(coll, config))
    assert large.extra["seeds_tried"] == [[5, 6]]
    assert large.extra["restarts_agree"] is False


def test_self_training_runs_only_when_the_bones_are_rigid():
    from nrsfm_synthetic import articulated_poses

    from poselab.core import get_skeleton

    X, _ = articulated_poses(60, seed=8)
    coll = PoseCollection(get_skeleton("h36m17"), (X[..., :2] * 100 + 300).astype(np.float32))
    config = TINY.replace(restarts=1, self_training=2)  # steps 120 → rounds of 100 steps
    for bones, stages in (("auto", ["self-training 1/2", "self-training 2/2"]), ("free", [])):
        records = []
        r = drain(fit(coll, config.replace(bone_lengths=bones)), records.append)
        seen = sorted({p.stage for p in records if p.stage.startswith("self-training")})
        assert seen == stages
        assert r.extra.get("self_training") == ({"rounds": 2, "steps": 100} if stages else None)
        assert np.isfinite(r.keypoints_3d).all()
    with pytest.raises(Exception, match="self_training"):
        NRSfMConfig(self_training=-1)


def test_reconstruct_runs_the_imputation_pass_the_network_was_trained_with(fitted):
    """A result written before 2026-12-04 that says ``impute_missing`` was trained with one
    encoder pass (the second repeated the first): it is reconstructed with one. A result
    whose network was trained with the filled-in pass is reconstructed with it."""
    coll, r = fitted  # 10 % hidden, trained without the pass
    old = NRSfMResult(**{**r.__dict__, "config": {**r.config, "impute_missing": True}})
    again = reconstruct(old, coll.keypoints_2d, coll.visibility)
    np.testing.assert_allclose(again.keypoints_3d, r.keypoints_3d, rtol=2e-4, atol=1e-3)
    new = NRSfMResult(**{**r.__dict__, "config": {**r.config, "impute_missing": True},
                         "extra": {**r.extra, "imputation": "filled"}})
    other = reconstruct(new, coll.keypoints_2d, coll.visibility)
    assert np.abs(other.keypoints_3d - r.keypoints_3d).max() > 1e-2
