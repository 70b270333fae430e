"""Restarts that learnt the mirror image of their objects, found early (handedness.py)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from nrsfm_synthetic import h36m_bodies

from poselab.core import PoseCollection, drain, get_skeleton
from poselab.nrsfm import NRSfMConfig, fit
from poselab.nrsfm.anatomy import knee_evidence, leg_joints
from poselab.nrsfm.data import prepare_inputs
from poselab.nrsfm.handedness import keep_right_handed, mirror_network, mirrored

torch = pytest.importorskip("torch")

H36M = get_skeleton("h36m17")
LEGS = leg_joints(H36M)
CONFIG = NRSfMConfig(dict_sizes=(32, 16, 8), steps=300, batch_size=64, self_training=0)


def _run(seed: int, hide: float = 0.0, n: int = 200):
    """A restart on weak-perspective bodies (``h36m_bodies``), some landmarks hidden, trained
    30 steps: its run and batches."""
    from poselab.nrsfm.train import Batches, Run

    torch.manual_seed(0)
    X = h36m_bodies(n, seed=3)
    rng = np.random.default_rng(1)
    vis = np.where(rng.random((n, 17)) < hide, 0, 2).astype(np.uint8)
    inputs = prepare_inputs((X[..., :2] * 300 + 500).astype(np.float32), vis, None)
    data = Batches(inputs, "cpu")
    run = Run(17, CONFIG, seed, "cpu", H36M)
    for _ in range(30):
        run.train_step(data)
    return run, data


def test_mirror_network_mirrors_the_depth_and_keeps_the_image():
    run, data = _run(0, hide=0.2)  # hidden landmarks: the learned response is mirrored too
    before = run.infer(data)["X"]
    mirror_network(run)
    after = run.infer(data)["X"]
    np.testing.assert_allclose(after[..., :2], before[..., :2], atol=1e-5)
    np.testing.assert_allclose(after[..., 2], -before[..., 2], atol=1e-5)
    assert np.abs(before[..., 2]).mean() > 0.05  # the depths are not all about 0


def test_a_mirrored_restart_trains_on_along_the_mirror_of_its_path():
    # under weak perspective the loss is the same for a network and its mirror, so with
    # Adam's first moment mirrored too, a step of the mirror is the mirror of the step
    run, data = _run(1)
    twin = copy.deepcopy(run)  # the same parameters, optimiser state and batch draws
    mirror_network(twin)
    for _ in range(5):
        run.train_step(data)
        twin.train_step(data)
    mirror_network(twin)
    for (name, a), b in zip(run.model.named_parameters(), twin.model.parameters(),
                            strict=True):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), atol=2e-5,
                                   err_msg=name)
    # without the first moment mirrored the paths part (the test above could not fail)
    twin = copy.deepcopy(run)
    mirror_network(twin)
    for state in twin.opt.state.values():
        state["exp_avg"].zero_()
    twin.train_step(data)
    run.train_step(data)
    mirror_network(twin)
    assert not np.allclose(twin.model.D1.detach().numpy(), run.model.D1.detach().numpy(),
                           atol=2e-5)


def test_the_knees_say_which_restarts_learnt_the_mirror_image():
    runs, data = zip(*(_run(s) for s in (0, 1)), strict=True)
    for i, run in enumerate(runs):  # restart 0 the right way round, restart 1 mirrored
        knees = np.median(knee_evidence(run.infer(data[0])["X"], LEGS))
        if (knees > 0) != (i == 0):
            mirror_network(run)
    assert mirrored(list(runs), data[0], H36M, False) == [False, True]
    # weak perspective, no legs named: nothing tells
    assert mirrored(list(runs), data[0], MARKERS, False) == [False, False]
    # and under weak perspective every restart is explored on as it is
    kept, info = keep_right_handed(list(runs), data[0], H36M, False)
    assert kept == list(runs) and info == {}


MARKERS = type(H36M)("markers", [f"m{j}" for j in range(17)], H36M.bones)


def _perspective_bodies(n: int = 300) -> PoseCollection:
    """``h36m_bodies`` 5 units in front of a 1000 px camera (~340 px tall)."""
    K = np.array([[1000.0, 0, 500], [0, 1000, 500], [0, 0, 1]])
    X = h36m_bodies(n, seed=2)
    uv = (X + [0, 0, 5.0]) @ K.T
    return PoseCollection(H36M, (uv[..., :2] / uv[..., 2:]).astype(np.float32),
                          intrinsics=np.repeat(K[None], n, 0))


def _perspective_runs(seeds, skeleton):
    from poselab.nrsfm.train import Batches, Run

    coll = _perspective_bodies()
    data = Batches(prepare_inputs(coll.keypoints_2d, None, coll.intrinsics), "cpu")
    runs = [Run(17, CONFIG, seed, "cpu", skeleton) for seed in seeds]
    for run in runs:
        for _ in range(100):
            run.train_step(data)
    knees = [bool(np.median(knee_evidence(r.infer(data)["X"], LEGS)) < 0) for r in runs]
    return runs, data, knees


def test_under_perspective_objects_without_legs_are_told_by_the_better_fit():
    runs, data, knees = _perspective_runs(range(4), MARKERS)
    assert 0 < sum(knees) < len(runs)  # both kinds among these seeds
    # the same verdicts as the knees' (the points are bodies, their names are not)
    assert mirrored(runs, data, MARKERS, True) == knees
    assert mirrored(runs, data, MARKERS, True) == knees  # asking changed nothing


def test_mirrored_restarts_are_dropped_beside_a_right_handed_one_else_all_turned():
    runs, data, knees = _perspective_runs(range(4), H36M)
    assert 0 < sum(knees) < len(runs)
    kept, info = keep_right_handed(runs, data, H36M, True)
    assert info == {"mirrored_dropped": [i for i, k in enumerate(knees) if k]}
    assert kept == [r for r, k in zip(runs, knees, strict=True) if not k]
    wrong = [r for r, k in zip(runs, knees, strict=True) if k]
    kept, info = keep_right_handed(wrong, data, H36M, True)
    assert kept == wrong and info == {"mirrored_turned": list(range(len(wrong)))}
    for run in wrong:
        assert (knee_evidence(run.infer(data)["X"], LEGS) > 0).mean() > 0.9


def test_a_perspective_fit_that_learnt_the_mirror_image_is_turned(monkeypatch):
    # this seed's only restart learns the mirror image (the truth is for scoring only)
    import sys

    torch.set_num_threads(1)
    coll = _perspective_bodies()
    # labels not cleaned: the bodies carry 1 % noise, and a short set of bodies' denoiser
    # (relabel.py) is seeded by config.seed, which differs between the last two fits compared
    config = CONFIG.replace(restarts=1, seed=0, denoise_labels=False, label_outliers="off")
    r = drain(fit(coll, config))
    assert r.extra["mirrored_turned"] == [0]  # at step 100
    assert r.reflection == 1 and (knee_evidence(r.shapes_normalized, LEGS) > 0).mean() > 0.9
    # left as found, the fit comes out as the mirror image of the bodies
    monkeypatch.setattr(sys.modules["poselab.nrsfm.fit"], "keep_right_handed",
                        lambda runs, *a: (runs, {}))
    assert drain(fit(coll, config)).reflection == -1
    # three restarts seeded 0-2: the two mirrored ones explore no further, and the one left
    # trains on at once, as if it had been the only one (no choice among one)
    monkeypatch.undo()
    # the run left trains on one thread here: whether more threads give the same numbers
    # depends on the CPU (test_concurrent_restarts.py); CI's once differed by 217 px
    monkeypatch.setattr(sys.modules["poselab.nrsfm.concurrent"], "threads_for_one",
                        lambda *a: 1)
    stages = []
    r = drain(fit(coll, config.replace(restarts=3)), lambda p: stages.append(p.stage))
    assert r.extra["mirrored_dropped"] == [0, 1] and r.extra["selected"] == 0
    assert "restarts 1-1" not in stages and "restart_objective" not in r.extra
    alone = drain(fit(coll, config.replace(restarts=1, seed=2)))
    assert alone.extra["mirrored_turned"] == []
    np.testing.assert_allclose(r.keypoints_3d, alone.keypoints_3d, rtol=1e-5, atol=1e-3)
