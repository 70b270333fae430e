"""File ▸ Predict 3D: a trained student on new unlabelled images and on a 2D-only file; the
result opens as a collection whose 3D view shows the student; export; cancel; recent runs."""

from __future__ import annotations

import csv
import shutil
import time

import numpy as np
import pytest
from gui_helpers import open_and_wait

from poselab.core.progress import drain


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A tiny integral (image) student and a tiny lifter2d student, one epoch each, trained
    on 16 rendered stick figures with their exact teacher; plus the images without labels."""
    import torch

    from poselab.distill import TrainConfig, train
    from poselab.distill.toydata import make_toy_dataset

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("predict")
    coll, teacher = make_toy_dataset(root / "toy", n=16, size=64, seed=3)
    common = dict(epochs=1, batch_size=8, log_every=1, num_threads=1, device="cpu",
                  eval_max_samples=16)
    integral = drain(train(coll, teacher, TrainConfig.from_preset(
        "cpu", student="integral", input_size=32, backbone_width=4, deconv_channels=8,
        heatmap_depth=8, **common), root / "integral_run"))
    lifter = drain(train(coll, teacher, TrainConfig.from_preset(
        "cpu", student="lifter2d", **common), root / "lifter_run"))
    photos = root / "photos"  # the same renders as new, unlabelled photos
    photos.mkdir()
    for p in coll.image_paths[:5]:
        shutil.copy(p, photos / p.name)
    return {"integral": integral.checkpoint, "lifter2d": lifter.checkpoint, "photos": photos,
            "collection": coll, "root": root}


@pytest.fixture
def threaded(monkeypatch):
    """Jobs in a worker thread of the test process (a child process costs a torch import)."""
    from poselab.gui import job_functions

    monkeypatch.setattr(job_functions, "JOBS_IN_PROCESS", False)


def _predict(qtbot, window, req):
    with qtbot.waitSignal(window.job.stopped, timeout=240000):
        window.start_predict(req)
    assert window.last_error == "", window.last_error
    qtbot.waitUntil(lambda: window.doc is not None and window.doc.student_3d is not None
                    and not window.loader.running, timeout=30000)


def test_predict_unlabelled_images_opens_3d_and_exports(qtbot, window, runs, threaded,
                                                        tmp_path):
    from poselab.distill.predict import predict_iter
    from poselab.gui.predict_job import PredictRequest
    from poselab.io import read_result
    from poselab.io.unlabelled import open_unlabelled_images

    photos = shutil.copytree(runs["photos"], tmp_path / "photos")
    good = next(photos.iterdir()).read_bytes()
    (photos / "zz_truncated.png").write_bytes(good[: len(good) // 2])  # flagged, not predicted
    req = PredictRequest(runs["integral"], photos, "images", tmp_path / "out", device="cpu")
    _predict(qtbot, window, req)
    doc = window.doc
    c = doc.collection
    assert len(c) == 6 and c.sample_ids[-1] == "zz_truncated.png"
    assert np.isnan(doc.student_3d[5]).all()  # left out: its image is unreadable
    window.show_sample(5)
    assert window.view3d.poses == {}
    c, full = c.subset(slice(0, 5)), c
    student = doc.student_3d[:5]
    # the student's own 2D became the landmarks, its 3D the "student" source of the 3D view
    assert (c.visibility == 2).all() and not full.visibility[5].any()
    window.show_sample(2)
    shown = window.view3d.poses
    assert set(shown) == {"student"}
    np.testing.assert_allclose(shown["student"], student[2], atol=1e-5)
    # the file holds what the engine predicts for the unlabelled images (whole-image crops)
    res = read_result(tmp_path / "out" / "predicted.student_predictions.npz")
    assert list(res.sample_ids) == list(c.sample_ids)
    unlabelled = open_unlabelled_images(runs["photos"], c.skeleton)
    expected = drain(predict_iter(runs["integral"], unlabelled, device="cpu"))
    np.testing.assert_allclose(res.keypoints_3d, expected.keypoints_3d, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(student, expected.keypoints_3d, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(c.keypoints_2d, expected.keypoints_2d, atol=1e-3)
    # exported CSV values equal the prediction
    out = window.export(("student",), "csv", False, tmp_path / "student.csv")
    rows = [r for r in csv.DictReader(out.open()) if r["source"] == "student"]
    assert len(rows) == 5 * c.num_joints  # the unreadable image has no 3D: not exported
    z = np.array([float(r["z"]) for r in rows[:c.num_joints]])
    np.testing.assert_allclose(z, student[0, :, 2], rtol=1e-4, atol=1e-3)
    # the run used is first in the recent runs, with its student type and epochs
    recent = window.recent_runs()
    assert recent[0].checkpoint == runs["integral"].resolve() and recent[0].student == "integral"
    assert recent[0].epochs == 1


def test_predict_2d_file_with_a_lifter(qtbot, window, runs, tmp_path):
    # in a child process, as the app runs it (torch stays out of the GUI process)
    from poselab.gui.predict_job import PredictRequest
    from poselab.io import write_coco

    coll = runs["collection"].subset(slice(0, 6))
    coll.keypoints_3d = None  # a 2D-only file from another tool
    two_d = tmp_path / "tracks" / "labels.json"
    two_d.parent.mkdir()
    write_coco(coll, two_d)
    _predict(qtbot, window, PredictRequest(runs["lifter2d"], two_d, "file", tmp_path / "o",
                                           device="cpu"))
    c = window.doc.collection
    assert len(c) == 6 and not c.has_3d
    np.testing.assert_allclose(c.keypoints_2d, coll.keypoints_2d, atol=1e-3)  # input 2D kept
    window.show_sample(0)
    assert set(window.view3d.poses) == {"student"}
    assert np.isfinite(window.doc.student_3d).all()
    # a lifter cannot use images: refused before anything is written
    bad = PredictRequest(runs["lifter2d"], runs["photos"], "images", tmp_path / "o2")
    with qtbot.waitSignal(window.job.stopped, timeout=120000):
        window.start_predict(bad)
    assert "2D landmarks" in window.last_error
    assert not (tmp_path / "o2" / "predicted.json").exists()


def test_predict_cancel_and_output_never_over_input(qtbot, window, runs, threaded, tmp_path,
                                                    monkeypatch):
    from poselab.core.progress import Progress
    from poselab.gui import predict_job
    from poselab.gui.predict_job import PredictRequest

    real = predict_job.open_input

    def slow_open(req, skeleton, image_student, cancel):  # many small steps, each cancellable
        for k in range(10000):
            cancel.check()
            yield Progress("frames", k, 10000)
            time.sleep(0.01)
        return (yield from real(req, skeleton, image_student, cancel))

    monkeypatch.setattr(predict_job, "open_input", slow_open)
    req = PredictRequest(runs["integral"], runs["photos"], "images", tmp_path / "c")
    seen = []
    window.job.progressed.connect(seen.append)
    window.start_predict(req)
    qtbot.waitUntil(lambda: len(seen) >= 2, timeout=60000)
    with qtbot.waitSignal(window.job.cancelled, timeout=30000):
        window.cancel_action.trigger()
    qtbot.waitUntil(lambda: not window.job.running, timeout=30000)
    assert not (tmp_path / "c" / "predicted.json").exists() and window.doc is None
    assert "no result was written" in window.job_panel.title.text()
    # the checkpoint file as the output folder: refused, the job does not start
    monkeypatch.setattr(predict_job, "open_input", real)
    window.start_predict(PredictRequest(runs["integral"], runs["photos"], "images",
                                        runs["integral"]))
    assert not window.job.running and "run folder is expected" in window.last_error


def test_predict_dialog_lists_runs_and_restricts_inputs(qtbot, window, runs, tmp_path):
    from poselab.gui.predict_job import RunInfo

    window.add_recent_run(RunInfo(runs["lifter2d"], "lifter2d", 1, "h36m17", 17,
                                  "held-out 2D error 3.1 px (n=2)"))
    window.add_recent_run(RunInfo(runs["integral"], "integral", 1, "h36m17", 17, ""))
    window.add_recent_run(RunInfo(tmp_path / "gone" / "checkpoint.pt", "integral", 3))
    window._on_predict_triggered()
    d = window.predict_dialog
    assert d.runs.count() == 2  # the missing run is dropped; newest first
    assert d.current_run().student == "integral"
    assert "video" in d.accepts.text()
    d.runs.setCurrentRow(1)  # the lifter: 2D files only
    assert d.current_run().student == "lifter2d" and d.kind.currentData() == "file"
    assert "held-out 2D error" in d.runs.item(1).text()
    model = d.kind.model()
    enabled = {d.kind.itemData(i): model.item(i).isEnabled() for i in range(d.kind.count())}
    assert enabled == {"images": False, "video": False, "file": True}
    d.set_input("file", tmp_path / "missing.csv")
    d._on_buttons_accepted()
    assert "not found" in d.error.text() and d.request() is None
    d.set_input("file", runs["root"] / "toy")
    assert d.out_edit.text().endswith("toy_predict_lifter2d")
    d.accepted.disconnect()  # check the request; do not start the job
    d._on_buttons_accepted()
    req = d.request()
    assert req is not None and req.kind == "file" and req.checkpoint == runs["lifter2d"]


def test_browsed_run_is_read_and_listed(qtbot, window, runs, threaded):
    window._on_predict_triggered()
    window.predict_dialog.runs.clear()
    window.read_run(str(runs["lifter2d"].parent))  # a run folder
    qtbot.waitUntil(lambda: window.predict_dialog.runs.count() == 1, timeout=60000)
    info = window.predict_dialog.current_run()
    assert info.student == "lifter2d" and info.epochs == 1 and info.num_joints == 17
    assert window.recent_runs()[0].checkpoint == runs["lifter2d"]


def test_run_of_the_open_data_is_listed(qtbot, window, runs, small_folder, threaded):
    open_and_wait(qtbot, window, small_folder)
    window.doc.checkpoint = runs["integral"]  # as when reopened with its student's results
    window._on_predict_triggered()
    qtbot.waitUntil(lambda: window.predict_dialog.runs.count() == 1, timeout=60000)
    assert window.predict_dialog.current_run().checkpoint == runs["integral"]
    window.predict_dialog.reject()


def test_trained_run_joins_recent_runs(qtbot, window, small_folder):
    from types import SimpleNamespace

    open_and_wait(qtbot, window, small_folder)
    ck = small_folder / "student" / "checkpoint.pt"
    ck.parent.mkdir()
    ck.write_bytes(b"x")
    result = SimpleNamespace(checkpoint=ck, history=[{"epoch": 1.0}, {"epoch": 2.0}],
                             metrics={"val_student_mpjpe": 51.234, "val_count": 2})
    window._add_trained_run(result, "integral")
    run = window.recent_runs()[0]
    assert (run.student, run.epochs, run.num_joints) == ("integral", 2, 14)
    assert run.held_out == "held-out MPJPE 51.2 mm (n=2)"


def test_predict_video_every_second_frame(runs, tmp_path):
    """The job without the window: every 2nd frame of a video → frames/ + 3D per frame."""
    iio = pytest.importorskip("imageio.v2", reason="no video writer (imageio) installed")
    pytest.importorskip("imageio_ffmpeg", reason="no video writer (imageio-ffmpeg) installed")
    from PIL import Image

    from poselab.gui.predict_job import PredictRequest, predict_to_folder
    from poselab.io import read_result

    video = tmp_path / "clip.mp4"
    writer = iio.get_writer(str(video), fps=5, codec="libx264", macro_block_size=16)
    for p in sorted(runs["photos"].iterdir()):
        writer.append_data(np.asarray(Image.open(p).convert("RGB")))
    writer.close()
    req = PredictRequest(runs["integral"], video, "video", tmp_path / "out", every=2,
                         device="cpu")
    out_json, info = drain(predict_to_folder(req))
    assert info.student == "integral" and out_json == tmp_path / "out" / "predicted.json"
    res = read_result(tmp_path / "out" / "predicted.student_predictions.npz")
    assert list(res.sample_ids) == ["clip.mp4#0", "clip.mp4#2", "clip.mp4#4"]
    assert np.isfinite(res.keypoints_3d).all() and res.keypoints_3d.shape == (3, 17, 3)
    assert len(list((tmp_path / "out" / "frames").glob("*.png"))) == 3
