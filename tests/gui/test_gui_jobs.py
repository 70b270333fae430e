"""Workers: progress, completion and cancel — with a fake job, the real NRSfM teacher and the
real student training, driven through the main window."""

from __future__ import annotations

import time

import numpy as np
import pytest
from gui_helpers import open_and_wait

from poselab.core.progress import Progress


def slow_job(n: int, delay: float = 0.02):
    """A fake long job: n progress records, then returns n."""

    def factory(cancel):
        for k in range(n):
            time.sleep(delay)
            cancel.check()
            yield Progress("fake", k + 1, n, {"loss": 1.0 / (k + 1)}, eta_s=(n - k) * delay)
        return n

    return factory


class Recorder:
    """Collects a runner's signals in the GUI thread (bound methods, PLATFORM.md)."""

    def __init__(self, runner):
        self.records, self.results, self.cancelled, self.failed = [], [], 0, []
        runner.progressed.connect(self.on_progressed)
        runner.finished.connect(self.on_finished)
        runner.cancelled.connect(self.on_cancelled)
        runner.failed.connect(self.on_failed)

    def on_progressed(self, rec):
        self.records.append(rec)

    def on_finished(self, result):
        self.results.append(result)

    def on_cancelled(self):
        self.cancelled += 1

    def on_failed(self, message):
        self.failed.append(message)


def test_job_runner_progress_finish_and_cancel(qtbot):
    from poselab.gui.app import create_app
    from poselab.gui.workers import JobRunner

    create_app()
    runner = JobRunner()
    rec = Recorder(runner)
    with qtbot.waitSignal(runner.stopped, timeout=10000):
        runner.start("fake", slow_job(5, 0.001))
    assert [r.step for r in rec.records] == [1, 2, 3, 4, 5]
    assert rec.results == [5] and rec.cancelled == 0 and not runner.running

    rec.records.clear()
    runner.start("fake", slow_job(10_000, 0.01))
    qtbot.waitUntil(lambda: len(rec.records) >= 2, timeout=10000)
    with qtbot.waitSignal(runner.stopped, timeout=10000):
        runner.cancel()
    assert rec.cancelled == 1 and rec.results == [5]
    assert len(rec.records) < 10_000

    def failing(cancel):
        yield Progress("x", 1, 2)
        raise ValueError("boom")

    with qtbot.waitSignal(runner.stopped, timeout=10000):
        runner.start("fail", failing)
    assert rec.failed == ["boom"]


def test_reconstruct_progress_result_saved_and_reloaded(qtbot, window, small_folder):
    from poselab.gui.document import teacher_path
    from poselab.nrsfm import NRSfMConfig

    open_and_wait(qtbot, window, small_folder)
    rec = Recorder(window.job)
    config = NRSfMConfig(dict_sizes=(32, 16, 8), steps=40, restarts=1, batch_size=8,
                         log_every=5)
    with qtbot.waitSignal(window.job.stopped, timeout=120000):
        window.start_reconstruct(config)
        assert window.job.running and not window.reconstruct_action.isEnabled()
    assert rec.failed == [] and len(rec.records) >= 2
    assert any("loss" in r.values for r in rec.records)
    assert window.job_panel.loss_plot.data  # live loss curve got points
    doc = window.doc
    assert doc.teacher is not None and doc.teacher.keypoints_3d.shape == (6, 14, 3)
    path = teacher_path(doc.collection)
    assert path.is_file()
    assert window.train_action.isEnabled()
    qtbot.waitUntil(lambda: window.metrics is not None, timeout=20000)
    # no ground truth: the teacher's trust measures (its output reprojection is ~0 by design)
    q = window.metrics["quality"]
    assert np.isfinite(q["set"]["reprojection_network_px"])
    assert "teacher" not in window.metrics["set"]
    # opening the folder again reloads the teacher
    open_and_wait(qtbot, window, small_folder)
    assert window.doc is not doc and window.doc.teacher is not None
    np.testing.assert_allclose(window.doc.teacher.keypoints_3d, doc.teacher.keypoints_3d)


def test_reconstruct_cancel_writes_nothing(qtbot, window, small_folder):
    from poselab.gui.document import teacher_path
    from poselab.nrsfm import NRSfMConfig

    open_and_wait(qtbot, window, small_folder)
    rec = Recorder(window.job)
    config = NRSfMConfig(dict_sizes=(32, 16, 8), steps=100_000, restarts=1, batch_size=8,
                         log_every=5)
    window.start_reconstruct(config)
    qtbot.waitUntil(lambda: len(rec.records) >= 1, timeout=120000)
    with qtbot.waitSignal(window.job.stopped, timeout=30000):
        window.job_panel.cancel_button.click()
    assert rec.cancelled == 1 and rec.results == []
    assert window.doc.teacher is None
    assert not teacher_path(window.doc.collection).exists()
    assert "cancelled" in window.job_panel.title.text()


@pytest.mark.slow
def test_train_progress_and_cancel(qtbot, window, small_folder):
    """Train a tiny student for one epoch from a tiny teacher; then cancel a long run."""
    from poselab.distill import TrainConfig
    from poselab.nrsfm import NRSfMConfig

    open_and_wait(qtbot, window, small_folder)
    with qtbot.waitSignal(window.job.stopped, timeout=120000):
        window.start_reconstruct(NRSfMConfig(dict_sizes=(16, 8), steps=20, restarts=1,
                                             batch_size=6, log_every=5))
    assert window.doc.teacher is not None
    rec = Recorder(window.job)
    config = TrainConfig(epochs=1, batch_size=4, input_size=32, backbone_width=4,
                         deconv_channels=8, heatmap_depth=8, log_every=1, device="cpu")
    with qtbot.waitSignal(window.job.stopped, timeout=240000):
        window.start_training(config)
    assert rec.failed == [], rec.failed
    assert rec.records and window.doc.student_3d is not None
    assert window.doc.student_3d.shape == (6, 14, 3)
    assert window.doc.checkpoint is not None and window.doc.checkpoint.is_file()
    qtbot.waitUntil(lambda: window.metrics is not None
                    and "disagreement_pct" in window.metrics["set"].get("student", {}),
                    timeout=20000)
    # resume from the checkpoint for one more epoch
    first = window.doc.checkpoint
    rec.records.clear()
    with qtbot.waitSignal(window.job.stopped, timeout=240000):
        window.start_training(config.replace(epochs=2), resume=first)
    assert rec.failed == [], rec.failed
    epochs = [r.values.get("epoch") for r in rec.records if r.kind == "epoch"
              and r.stage != "history"]
    assert epochs == [2.0]  # only the second epoch ran
    # ... but the epoch plot shows the whole run: the first epoch came from the checkpoint
    curves = window.job_panel.metric_data()
    assert curves and all(xs == [1.0, 2.0] for xs, _ys in curves.values())
    # a long run, cancelled after its first record, leaves the student untouched
    before = window.doc.student_3d.copy()
    rec.records.clear()
    window.start_training(config.replace(epochs=1000))
    qtbot.waitUntil(lambda: len(rec.records) >= 1, timeout=120000)
    with qtbot.waitSignal(window.job.stopped, timeout=60000):
        window.cancel_action.trigger()
    assert rec.cancelled == 1
    np.testing.assert_array_equal(window.doc.student_3d, before)


def test_qt_binding_reference_leaks_are_neutralised(qtbot):
    """PySide6 6.12 + Python 3.11 leak references of None/True on every call; the app pins
    them (poselab.gui.qtcompat), so a long session cannot deallocate None."""
    import sys

    from poselab.gui.app import create_app
    from poselab.gui.qtcompat import leaked_references, pin_singletons

    create_app()
    if max(leaked_references().values()) > 0:
        assert pin_singletons()
        assert sys.getrefcount(None) > 2**39 and sys.getrefcount(True) > 2**39


def test_no_torch_warm_up_in_the_gui_process_when_jobs_run_in_child_processes(window,
                                                                              monkeypatch):
    # torch's objects made full garbage collections stall the event loop (bench_gui.py part 2)
    import sys

    from poselab.gui import job_functions

    started = []
    monkeypatch.delenv("POSELAB_NO_WARMUP", raising=False)
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.setattr(window.warm_up, "start", lambda *a, **k: started.append(a[0]))
    monkeypatch.setattr(job_functions, "JOBS_IN_PROCESS", True)
    window._on_thumbs_stopped()
    assert started == []
    # jobs in threads: warm torch up once
    monkeypatch.setattr(job_functions, "JOBS_IN_PROCESS", False)
    window._on_thumbs_stopped()
    window._on_thumbs_stopped()
    assert started == ["Warm-up"]
