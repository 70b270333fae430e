"""Issue 14: one test per row of its table, run through the command line as a user would.

Each failing case must exit with code 2 and one line on stderr (no traceback, checked by
:func:`run_cli`), before any work, and leave every input file byte-identical.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from reliability_helpers import digests, flip_weight_bytes, run_cli

TINY_FIT = {"dict_sizes": [8, 4], "steps": 5, "restarts": 1, "batch_size": 8, "log_every": 5,
            "self_training": 0, "num_threads": 1, "device": "cpu"}


def _tiny_config(folder):
    path = folder / "tiny.json"
    path.write_text(json.dumps(TINY_FIT))
    return path


# ---------------------------------------------------------------- row 1: nrsfm --out = input
@pytest.mark.parametrize("out", ["in.npz", "sub/../in.npz", "link.npz"])
def test_nrsfm_out_is_the_input(workdir, capsys, no_work, out):
    (workdir / "sub").mkdir()
    os.symlink(workdir / "in.npz", workdir / "link.npz")
    before = digests(workdir)
    rc, _, err = run_cli(["nrsfm", workdir / "in.npz", "--out", workdir / out], capsys)
    assert rc == 2 and "is also an input" in err
    assert digests(workdir) == before


def test_nrsfm_out_is_the_annotation_inside_the_input_folder(workdir, capsys, no_work):
    """The input is a folder; the output would replace the annotation file read from it."""
    (workdir / "data" / "poses.npz").write_bytes((workdir / "in.npz").read_bytes())
    (workdir / "data" / "annotations.json").unlink()
    before = digests(workdir)
    rc, _, err = run_cli(["nrsfm", workdir / "data", "--out", workdir / "data" / "poses.npz"],
                         capsys)
    assert rc == 2 and "landmark .npz file" in err and "--force" in err
    assert digests(workdir) == before


# ------------------------------------------------------ row 2: export over DeepLabCut labels
@pytest.mark.parametrize("target,kind", [("labeled/CollectedData.csv", "DeepLabCut"),
                                         ("data/annotations.json", "COCO or Label Studio")])
def test_export_over_annotations_needs_force(workdir, capsys, target, kind):
    before = digests(workdir)
    rc, _, err = run_cli(["export", workdir / "t.npz", "--out", workdir / target], capsys)
    assert rc == 2 and kind in err and "--force" in err
    assert digests(workdir) == before
    rc, out, _ = run_cli(["export", workdir / "t.npz", "--out", workdir / target, "--force"],
                         capsys)
    assert rc == 0 and "wrote 24 samples" in out


# ------------------------------------- rows 3-4: outputs that are folders / files / unwritable
@pytest.mark.parametrize("case", [
    "nrsfm-out-folder", "nrsfm-parent-is-file", "export-out-folder", "export-parent-is-file",
    "train-out-file", "predict-out-folder", "predict-parent-is-file", "synth-out-file",
    "nrsfm-unwritable", "export-unwritable", "synth-out-holds-poses", "eval-per-sample-dlc"])
def test_unusable_output_fails_before_any_work(workdir, capsys, no_work, case):
    w = workdir
    (w / "afolder").mkdir()
    (w / "afile.txt").write_text("x")
    ro = w / "readonly"
    ro.mkdir()
    if case.endswith("unwritable"):
        if os.geteuid() == 0:
            pytest.skip("root can write into read-only folders")
        ro.chmod(0o500)
    args, expect = {
        "nrsfm-out-folder": (["nrsfm", w / "in.npz", "--out", w / "afolder"], "is a folder"),
        "nrsfm-parent-is-file": (["nrsfm", w / "in.npz", "--out", w / "afile.txt" / "o.npz"],
                                 "is a file"),
        "export-out-folder": (["export", w / "t.npz", "--out", w / "afolder"], "is a folder"),
        "export-parent-is-file": (["export", w / "t.npz", "--out", w / "afile.txt" / "x.csv"],
                                  "is a file"),
        "train-out-file": (["train", w / "data", "--teacher", w / "t.npz", "--out",
                            w / "afile.txt", "--epochs", "1"], "run folder is expected"),
        "predict-out-folder": (["predict", w / "run", w / "data", "--out", w / "afolder"],
                               "is a folder"),
        "predict-parent-is-file": (["predict", w / "run", w / "data", "--out",
                                    w / "afile.txt" / "p.npz"], "is a file"),
        "synth-out-file": (["synth", "--poses", w / "in.npz", "--out", w / "afile.txt"],
                           "run folder is expected"),
        "synth-out-holds-poses": (["synth", "--poses", w / "in.npz", "--out", w, "--overwrite"],
                                  "replacing the folder would destroy it"),
        "eval-per-sample-dlc": (["eval", w / "t.npz", "--gt", w / "data", "--per-sample",
                                 w / "labeled" / "CollectedData.csv"], "DeepLabCut"),
        "nrsfm-unwritable": (["nrsfm", w / "in.npz", "--out", ro / "o.npz"], "not writable"),
        "export-unwritable": (["export", w / "t.npz", "--out", ro / "o.csv"], "not writable"),
    }[case]
    before = digests(w)
    try:
        rc, _, err = run_cli(args, capsys)
    finally:
        ro.chmod(0o700)
    assert rc == 2 and expect in err
    assert digests(w) == before


# ------------------------------------------- rows 5-6: two writers of the same output / run
@pytest.mark.parametrize("command", ["nrsfm", "train", "export"])
def test_second_writer_fails_while_the_first_holds_the_output(workdir, capsys, caplog,
                                                              command):
    out = workdir / ("out" if command == "train" else "out.csv" if command == "export"
                     else "out.npz")
    tiny = _tiny_config(workdir)
    args = {"nrsfm": ["nrsfm", workdir / "in.npz", "--out", out, "--config", tiny],
            "train": ["train", workdir / "data", "--teacher", workdir / "t.npz", "--out", out,
                      "--student", "lifter2d", "--epochs", "1"],
            "export": ["export", workdir / "t.npz", "--out", out]}[command]
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import time
            from poselab.core.lock import OutputLock
            OutputLock({str(out)!r}).acquire()
            print('locked', flush=True)
            time.sleep(120)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = digests(workdir)
        rc, _, err = run_cli(args, capsys)
        assert rc == 2 and f"another poselab job is writing {out}" in err
        assert digests(workdir) == before and not out.exists()
        holder.send_signal(signal.SIGKILL)  # dies without releasing: its lock is now stale
        holder.wait()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    if command == "export":  # the next job takes the stale lock over and runs
        rc, text, _ = run_cli(args, capsys)
        assert rc == 0 and "wrote 24 samples" in text
    else:
        from poselab.core.lock import OutputLock

        with OutputLock(out):
            pass
    assert "taking over the stale lock" in caplog.text
    assert not (workdir / f".{out.name}.poselab-lock").exists()


def test_nrsfm_same_out_twice_second_fails_first_result_kept(workdir, capsys):
    """The lock is held for the whole fit; after it the file is a valid result and the lock
    is gone."""
    from poselab.core.lock import OutputLock
    from poselab.nrsfm.result import NRSfMResult

    out = workdir / "n.npz"
    with OutputLock(out):  # "the first job" (this process) is writing
        rc, _, err = run_cli(["nrsfm", workdir / "in.npz", "--out", out, "--config",
                              _tiny_config(workdir)], capsys)
        assert rc == 2 and "another poselab job is writing" in err and not out.exists()
    rc, out_text, _ = run_cli(["nrsfm", workdir / "in.npz", "--out", out, "--config",
                               _tiny_config(workdir)], capsys)
    assert rc == 0 and "wrote" in out_text
    assert NRSfMResult.load(out).num_samples == 24
    assert not (workdir / ".n.npz.poselab-lock").exists()


# ------------------------------------------------------ row 7: damaged checkpoint weights
def test_predict_with_flipped_checkpoint_bytes_is_an_error(workdir, capsys):
    flip_weight_bytes(workdir / "run" / "checkpoint.pt")
    before = digests(workdir)
    rc, _, err = run_cli(["predict", workdir / "run", workdir / "data", "--out",
                          workdir / "p.npz"], capsys)
    assert rc == 2 and ("damaged" in err or "NaN" in err)
    assert not (workdir / "p.npz").exists() and digests(workdir) == before


def test_predictions_with_non_finite_values_are_not_written(workdir, capsys, monkeypatch):
    import importlib

    predict_mod = importlib.import_module("poselab.distill.predict")
    monkeypatch.setattr(predict_mod, "predict",
                        lambda ckpt, coll, device="auto": np.full((len(coll), 17, 3), np.nan))
    rc, _, err = run_cli(["predict", workdir / "run", workdir / "data", "--out",
                          workdir / "p.npz"], capsys)
    assert rc == 2 and "NaN or infinite" in err and not (workdir / "p.npz").exists()


def test_damaged_teacher_is_an_error(workdir, capsys):
    with np.load(workdir / "t.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["keypoints_3d"] = arrays["keypoints_3d"] + 1  # edited by hand, stored hash kept
    np.savez(workdir / "t.npz", **arrays)
    rc, _, err = run_cli(["train", workdir / "data", "--teacher", workdir / "t.npz",
                          "--out", workdir / "r", "--student", "lifter2d"], capsys)
    assert rc == 2 and "damaged" in err and not (workdir / "r" / "checkpoint.pt").exists()


def test_export_of_a_result_with_flipped_bytes_is_an_error(workdir, capsys):
    """A bad copy of a result .npz: the member's zip CRC fails — one line, no traceback."""
    import zipfile

    path = workdir / "t.npz"
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("keypoints_3d.npy")
    raw = bytearray(path.read_bytes())
    raw[info.header_offset + 30 + len(info.filename) + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    rc, _, err = run_cli(["export", path, "--out", workdir / "e.json"], capsys)
    assert rc == 2 and "damaged" in err and not (workdir / "e.json").exists()


# ------------------------------------------- row 8: kill -9 during a write leaves a temporary
def test_temporary_of_a_killed_write_is_removed_by_the_next_write(workdir, capsys):
    target = workdir / "e.csv"
    killed = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import os, signal
        from poselab.core.atomic import atomic_open
        with atomic_open({str(target)!r}, "w") as fh:
            fh.write("x" * 100000)
            fh.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    """)])
    assert killed.returncode == -signal.SIGKILL
    left = [p for p in workdir.iterdir() if p.name.startswith(".e.csv.")]
    assert len(left) == 1 and not target.exists()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:  # a temporary of a process that still runs is not touched
        from poselab.core.atomic import _host_tag

        busy = workdir / f".e.csv.{_host_tag()}.{live.pid}.abcdefgh.tmp"
        busy.write_text("writing")
        rc, _, _ = run_cli(["export", workdir / "t.npz", "--out", target], capsys)
        assert rc == 0 and target.is_file()
        assert sorted(p.name for p in workdir.iterdir() if p.name.startswith(".e.csv.")) == [
            busy.name]
    finally:
        live.kill()
        live.wait()


# ------------------------------------------- row 9: export memory independent of samples
def test_export_memory_does_not_grow_with_the_number_of_samples(monkeypatch, tmp_path):
    """tracemalloc peak of a streamed export: 8000 samples cost what 800 do (chunks of 200);
    scripts/bench_export.py measures the 300k case."""
    import tracemalloc

    import poselab.io.export as export
    from poselab.core import PoseCollection, get_skeleton

    monkeypatch.setattr(export, "CHUNK", 200)
    sk = get_skeleton("h36m17")
    rng = np.random.default_rng(0)
    peaks = {}
    for n in (800, 8000):
        coll = PoseCollection(skeleton=sk, keypoints_2d=rng.random((n, 17, 2), np.float32),
                              visibility=np.full((n, 17), 2, np.uint8))
        src = {"teacher": rng.normal(size=(n, 17, 3)).astype(np.float32)}
        for fmt in ("json", "csv"):
            tracemalloc.start()
            getattr(export, f"export_{fmt}")(tmp_path / f"e.{fmt}", coll, src, "px", "camera")
            peaks[n, fmt] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    for fmt in ("json", "csv"):
        assert peaks[8000, fmt] < 1.3 * peaks[800, fmt] + 200_000, peaks
    doc = json.loads((tmp_path / "e.json").read_text())
    assert doc["num_samples"] == 8000 and len(doc["samples"]) == 8000


# ------------------------------------------------- row 10: an edits file of another dataset
def test_edits_file_of_another_dataset_is_ignored(workdir, capsys, caplog):
    from poselab.core import PoseCollection, get_skeleton
    from poselab.io.coco import write_coco

    sk = get_skeleton("face14")
    other = PoseCollection(skeleton=sk, keypoints_2d=np.zeros((10, 14, 2), np.float32),
                           visibility=np.full((10, 14), 2, np.uint8))
    write_coco(other, workdir / "in.poselab.json")
    before = digests(workdir)
    rc, out, _ = run_cli(["info", workdir / "in.npz"], capsys)
    assert rc == 0 and "samples:   24" in out and "h36m17" in out
    assert "does not belong to" in caplog.text
    assert digests(workdir) == before


def test_matching_edits_file_is_used(workdir, capsys):
    from poselab.io import open_folder
    from poselab.io.coco import write_coco

    coll = open_folder(workdir / "in.npz")
    coll.keypoints_2d[0, 0] = (1.25, 2.5)
    write_coco(coll, workdir / "in.poselab.json")
    rc, out, _ = run_cli(["info", workdir / "in.npz"], capsys)
    assert rc == 0 and "edits of:" in out
    assert tuple(open_folder(workdir / "in.npz").keypoints_2d[0, 0]) == (1.25, 2.5)


# ------------------------------------------------------- row 11: absurd numbers
@pytest.mark.parametrize("args,expect", [
    (["nrsfm", "{w}/in.npz", "--out", "{w}/o.npz", "--bone-prior", "nan"], "finite"),
    (["nrsfm", "{w}/in.npz", "--out", "{w}/o.npz", "--bone-prior", "inf"], "finite"),
    (["nrsfm", "{w}/in.npz", "--out", "{w}/o.npz", "--steps", "1e20"], "invalid int"),
    (["nrsfm", "{w}/in.npz", "--out", "{w}/o.npz", "--steps", "100000000"], "out of range"),
    (["nrsfm", "{w}/in.npz", "--out", "{w}/o.npz", "--restarts", "0"], "out of range"),
    (["nrsfm", "{w}/in.npz", "--out", "{w}/o.npz", "--config", "{w}/nan.json"], "finite"),
    (["train", "{w}/data", "--teacher", "{w}/t.npz", "--out", "{w}/r", "--lr", "nan"],
     "finite"),
    (["train", "{w}/data", "--teacher", "{w}/t.npz", "--out", "{w}/r", "--epochs", "1e9"],
     "invalid int"),
    (["train", "{w}/data", "--teacher", "{w}/t.npz", "--out", "{w}/r", "--epochs",
      "100000000"], "out of range"),
    (["synth", "--poses", "{w}/in.npz", "--out", "{w}/s", "--size", "nan"], "whole number"),
    (["synth", "--poses", "{w}/in.npz", "--out", "{w}/s", "--n", "-3"], "out of range"),
])
def test_absurd_numbers_are_rejected_before_any_work(workdir, capsys, no_work, args, expect):
    (workdir / "nan.json").write_text('{"bone_consistency": NaN}')
    before = digests(workdir)
    rc, _, err = run_cli([a.format(w=workdir) for a in args], capsys)
    assert rc == 2 and expect in err
    assert digests(workdir) == before


def test_absurd_but_legal_number_warns(caplog):
    from poselab.nrsfm import NRSfMConfig

    NRSfMConfig(steps=5_000_000)
    assert "NRSfMConfig.steps = 5e+06 is unusual" in caplog.text


def test_yolo_coordinate_outside_the_image_is_an_error(tmp_path, capsys):
    """YOLO keypoints are normalised to [0, 1]; 7.5 is a broken label file (issue 13 reader)."""
    from PIL import Image

    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    for i in range(2):
        Image.new("RGB", (32, 32)).save(tmp_path / "images" / f"{i}.jpg")
        x = "7.5" if i == 1 else "0.25"
        (tmp_path / "labels" / f"{i}.txt").write_text(
            f"0 0.5 0.5 0.5 0.5 {x} 0.25 2 0.5 0.5 2 0.75 0.75 2\n")
    (tmp_path / "data.yaml").write_text("kpt_shape: [3, 3]\ntrain: images\n")
    before = digests(tmp_path)
    rc, _, err = run_cli(["info", tmp_path], capsys)
    assert rc == 2 and "1.txt" in err
    assert digests(tmp_path) == before
