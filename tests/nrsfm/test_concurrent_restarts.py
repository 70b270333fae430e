"""Restarts trained side by side in threads (poselab.nrsfm.concurrent): the same answer as one
after the other, cancellation that stops every thread, divergence reported with the data."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from nrsfm_synthetic import low_rank_problem

from poselab.core import Cancelled, CancelToken, DataError, drain
from poselab.nrsfm import NRSfMConfig, concurrent, fit

torch = pytest.importorskip("torch")

CONFIG = NRSfMConfig(dict_sizes=(32, 16, 8), steps=400, restarts=3, explore_steps=150,
                     batch_size=64, log_every=20)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _restart_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("nrsfm-restart")]


def test_side_by_side_restarts_give_the_sequential_answer(monkeypatch):
    coll, _ = low_rank_problem(n=200, seed=4)
    monkeypatch.setattr(concurrent, "usable_cpus", lambda: 2)
    monkeypatch.setattr(concurrent, "restarts_in_parallel", lambda device, r: False)
    alone = drain(fit(coll, CONFIG))
    monkeypatch.setattr(concurrent, "restarts_in_parallel", lambda device, r: True)
    stages: list = []
    threads: dict = {}  # torch's thread count seen at each stage

    def seen(p):
        stages.append(p)
        threads.setdefault(p.stage, set()).add(torch.get_num_threads())

    together = drain(fit(coll, CONFIG), seen)
    assert any(p.stage == "restarts 1-3" for p in stages)
    # the run kept trains on the two cores the restarts used, and the fit gives torch back
    # its one thread; the answer stays the same (below)
    assert threads["restarts 1-3"] == {1} and threads["fit"] == {2}
    assert torch.get_num_threads() == 1
    steps = [p.step for p in stages if p.kind == "step"]
    assert steps == sorted(steps) and steps[-1] == 3 * 150 + 250
    assert together.extra["selected"] == alone.extra["selected"]
    np.testing.assert_allclose(together.extra["restart_objective"],
                               alone.extra["restart_objective"], rtol=1e-6)
    np.testing.assert_allclose(together.keypoints_3d, alone.keypoints_3d, rtol=1e-5, atol=1e-4)
    assert not _restart_threads()


def test_cancel_stops_every_restart_thread(monkeypatch):
    coll, _ = low_rank_problem(n=200, seed=5)
    monkeypatch.setattr(concurrent, "restarts_in_parallel", lambda device, r: True)
    cancel = CancelToken()
    job = fit(coll, CONFIG.replace(explore_steps=100_000, steps=200_000), cancel)
    first = next(p for p in job if p.stage == "restarts 1-3")
    assert 0 < first.step < 300_000
    cancel.cancel()
    with pytest.raises(Cancelled):
        for _ in job:
            pass
    assert not _restart_threads()
    # a consumer that just stops listening (closes the generator) stops them too
    job = fit(coll, CONFIG.replace(explore_steps=100_000, steps=200_000))
    next(p for p in job if p.stage == "restarts 1-3")
    assert len(_restart_threads()) == 3
    job.close()
    assert not _restart_threads()


class _Fake:
    """A stand-in Run whose loss turns non-finite after ``bad_after`` steps."""

    def __init__(self, bad_after: int | None) -> None:
        self.bad_after, self.steps = bad_after, 0

    def train_step(self, data):
        self.steps += 1
        bad = self.bad_after is not None and self.steps > self.bad_after
        return {"loss": float("nan") if bad else 1.0 / self.steps}


def test_a_diverging_restart_stops_the_others_and_is_named_with_the_file(monkeypatch):
    runs = [_Fake(None), _Fake(5), _Fake(None)]
    with pytest.raises(concurrent.Diverged, match="restart 2"):
        for _ in concurrent.train_together(runs, 10_000_000, None):
            pass
    assert runs[1].steps == 6 and runs[0].steps < 10_000_000
    assert not _restart_threads()
    # through fit: a DataError naming the source, as for one restart
    from poselab.nrsfm.train import Run

    monkeypatch.setattr(concurrent, "restarts_in_parallel", lambda device, r: True)
    monkeypatch.setattr(Run, "train_step", lambda self, data: {"loss": float("inf")})
    coll, _ = low_rank_problem(n=100, seed=6)
    coll.source = "labels.csv"
    with pytest.raises(DataError, match="labels.csv.*diverged"):
        drain(fit(coll, CONFIG))


def test_parallel_only_where_it_cannot_oversubscribe(monkeypatch):
    monkeypatch.setattr(concurrent, "usable_cpus", lambda: 2)
    assert concurrent.restarts_in_parallel("cpu", 3)
    assert not concurrent.restarts_in_parallel("cpu", 1)
    assert not concurrent.restarts_in_parallel("cuda", 3)
    torch.set_num_threads(2)
    try:
        assert not concurrent.restarts_in_parallel("cpu", 3)
    finally:
        torch.set_num_threads(1)
    monkeypatch.setattr(concurrent, "usable_cpus", lambda: 1)
    assert not concurrent.restarts_in_parallel("cpu", 3)
