"""The building blocks of issue 14: output checks, locks, atomic temporaries, content hashes,
numeric config ranges, and the GUI's confirmation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from poselab.core.errors import PoselabError

REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ recognised files
def _files(tmp_path: Path) -> dict[str, Path]:
    from poselab.core import PoseCollection, get_skeleton
    from poselab.io import write_npz
    from poselab.io.coco import write_coco

    sk = get_skeleton("face14")
    c = PoseCollection(skeleton=sk, keypoints_2d=np.ones((2, 14, 2), np.float32),
                       visibility=np.full((2, 14), 2, np.uint8))
    f = {"coco": write_coco(c, tmp_path / "a.json"),
         "npz": write_npz(c, tmp_path / "c.npz"),
         "dlc": tmp_path / "CollectedData.csv", "long": tmp_path / "long.csv",
         "export_csv": tmp_path / "e.csv", "export_json": tmp_path / "e.json",
         "result": tmp_path / "r.npz", "edits": tmp_path / "a.poselab.json",
         "image": tmp_path / "x.png", "yaml": tmp_path / "data.yaml",
         "label": tmp_path / "labels" / "0.txt", "other_txt": tmp_path / "notes.txt"}
    f["dlc"].write_text("scorer,me,me\nbodyparts,a,a\ncoords,x,y\n")
    f["long"].write_text("image,joint,x,y\na.png,nose,1,2\n")
    f["export_csv"].write_text("image,instance,joint,source,x,y,z,units,frame\n")
    f["export_json"].write_text('{"format":"poselab-export","samples":[]}')
    np.savez(f["result"], kind=np.array("nrsfm"), keypoints_3d=np.zeros((1, 2, 3)))
    f["edits"].write_text("{}")
    f["image"].write_bytes(b"\x89PNG")
    f["yaml"].write_text("kpt_shape: [3, 3]\n")
    f["label"].parent.mkdir()
    f["label"].write_text("0 0.5 0.5 1 1\n")
    f["other_txt"].write_text("hello")
    f["skeleton"] = tmp_path / "my_skeleton.json"
    f["skeleton"].write_text(json.dumps(sk.to_dict()))
    return f


def test_recognised_kind_protects_annotations_but_not_poselab_outputs(tmp_path):
    from poselab.core.outputs import recognised_kind

    f = _files(tmp_path)
    kinds = {k: recognised_kind(p) for k, p in f.items()}
    assert kinds == {
        "coco": "a COCO or Label Studio annotation file", "skeleton": "a skeleton file",
        "npz": "a landmark .npz file",
        "dlc": "a DeepLabCut annotation file", "long": "a landmark CSV file",
        "export_csv": None, "export_json": None, "result": None,
        "edits": "a poselab edits file", "image": "an image",
        "yaml": "a YOLO dataset or config file", "label": "a YOLO label file",
        "other_txt": None}
    assert recognised_kind(tmp_path / "missing.csv") is None


def test_check_output_rules(tmp_path):
    from poselab.core.outputs import OutputError, check_output

    f = _files(tmp_path)
    assert check_output(tmp_path / "new" / "deep" / "o.npz") == tmp_path / "new" / "deep" / "o.npz"
    assert not (tmp_path / "new").exists()  # checking creates nothing
    check_output(f["result"], inputs=[f["npz"]])  # overwriting our own result is fine
    with pytest.raises(OutputError, match="is also an input") as e:
        check_output(tmp_path / "." / "c.npz", inputs=[f["npz"]])
    assert not e.value.forceable
    with pytest.raises(OutputError, match="DeepLabCut") as e:
        check_output(f["dlc"])
    assert e.value.forceable
    check_output(f["dlc"], force=True)
    with pytest.raises(OutputError, match="must end in .csv or .json"):
        check_output(tmp_path / "o.txt", suffixes=(".csv", ".json"))
    with pytest.raises(OutputError, match="is a folder"):
        check_output(tmp_path / "labels")
    # folders: a file is not a run folder; the files written inside must not be inputs;
    # a replaced folder must not hold an input
    with pytest.raises(OutputError, match="run folder is expected"):
        check_output(f["dlc"], folder=True)
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"x")
    with pytest.raises(OutputError, match="checkpoint.pt: is an input"):
        check_output(run, folder=True, inputs=[run / "checkpoint.pt"], writes=["checkpoint.pt"])
    with pytest.raises(OutputError, match="holds"):
        check_output(tmp_path, folder=True, inputs=[f["npz"]], replaced=True)
    check_output(tmp_path / "elsewhere", folder=True, inputs=[f["npz"]], replaced=True)


# ------------------------------------------------------------------ locks
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_lock_is_exclusive_released_and_stale_ones_are_taken_over(tmp_path, caplog):
    import socket

    from poselab.core.lock import OutputBusy, OutputLock, lock_path, output_lock

    target = tmp_path / "sub" / "o.npz"
    with output_lock(target, None) as locks:
        assert len(locks) == 1 and lock_path(target).is_file()
        owner = json.loads(lock_path(target).read_text())
        assert owner["pid"] == os.getpid() and owner["host"] == socket.gethostname()
        with pytest.raises(OutputBusy, match=f"another poselab job is writing {target}"):
            OutputLock(target).acquire()
    assert not lock_path(target).exists()
    with pytest.raises(RuntimeError), output_lock(target):
        raise RuntimeError("the job failed")
    assert not lock_path(target).exists()  # released on exceptions too
    lock_path(target).write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname()}))
    with OutputLock(target):
        assert "taking over the stale lock" in caplog.text
    lock_path(target).write_text(json.dumps({"pid": _dead_pid(), "host": "another-machine"}))
    with pytest.raises(OutputBusy, match="on another-machine"):
        OutputLock(target).acquire()  # pids of other hosts mean nothing here
    lock_path(target).write_text("")  # a writer that is creating it right now
    with pytest.raises(OutputBusy, match="being created"):
        OutputLock(target).acquire()


# ------------------------------------------------------------------ atomic temporaries
def test_atomic_write_removes_only_stale_temporaries(tmp_path):
    from poselab.core import atomic

    target = tmp_path / "a.json"
    host = atomic._host_tag()
    dead = tmp_path / f".a.json.{host}.{_dead_pid()}.zzzzzzzz.tmp"
    other_host = tmp_path / f".a.json.ffffff.{_dead_pid()}.zzzzzzzz.tmp"
    mine_idle = tmp_path / f".a.json.{host}.{os.getpid()}.yyyyyyyy.tmp"
    legacy_old = tmp_path / ".a.json.k2j3h4g5.tmp"
    legacy_new = tmp_path / ".a.json.abcdefgh.tmp"
    other_target = tmp_path / f".a.json.bak.{host}.{_dead_pid()}.zzzzzzzz.tmp"
    for p in (dead, other_host, mine_idle, legacy_old, legacy_new, other_target):
        p.write_text("partial")
    os.utime(legacy_old, (1, 1))
    with atomic.atomic_open(target) as fh:
        fh.write("{}")
        active = [p for p in tmp_path.iterdir() if p.name.startswith(f".a.json.{host}.")
                  and p not in (dead, mine_idle)]
        assert len(active) == 1
        atomic.remove_stale_temporaries(target)  # another write meanwhile keeps ours
        assert active[0].exists()
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["a.json", other_host.name, legacy_new.name, other_target.name])


# ------------------------------------------------------------------ numeric configs
def test_numeric_config_fields_are_checked():
    from poselab.distill import TrainConfig
    from poselab.nrsfm import NRSfMConfig

    assert NRSfMConfig.from_dict({"steps": 1000.0}).steps == 1000  # JSON 1e3
    assert isinstance(NRSfMConfig.from_dict({"steps": 1000.0}).steps, int)
    assert isinstance(NRSfMConfig(lr=1).lr, float)
    for bad, match in (({"steps": 10.5}, "whole number"), ({"steps": True}, "a number"),
                       ({"sparsity": "0.1"}, "a number"), ({"lr": float("inf")}, "finite"),
                       ({"landmark_dropout": 0.95}, "out of range"),
                       ({"dict_sizes": [10**6]}, "dict_sizes")):
        with pytest.raises(PoselabError, match=match):
            NRSfMConfig.from_dict(bad)
    with pytest.raises(PoselabError, match="TrainConfig.lr must be a finite number"):
        TrainConfig(lr=float("nan"))
    with pytest.raises(PoselabError, match=r"TrainConfig.epochs = 1e\+09 is out of range"):
        TrainConfig(epochs=10**9)


# ------------------------------------------------------------------ content hashes
def test_content_digest_and_checkpoint_verification(tmp_path):
    import torch

    from poselab.core.digest import content_digest
    from poselab.core.errors import DataError
    from poselab.distill.checkpoint import load_checkpoint, save_checkpoint

    a, b = np.arange(6, dtype=np.float32), np.array(["x", "yz"])
    assert content_digest({"a": a, "b": b}) == content_digest([("b", b), ("a", a)])
    assert content_digest({"a": a}) != content_digest({"a": a.astype(np.float64)})
    assert content_digest({"a": a}) != content_digest({"a": a.reshape(2, 3)})
    state = {"student": "lifter2d", "epoch": 1, "step": 2, "config": {}, "skeleton": {},
             "sample_ids": ["0"], "model": {"w": torch.ones(3, 2), "n": torch.tensor(3)}}
    path = save_checkpoint(tmp_path / "c.pt", state)
    assert load_checkpoint(path)["content_sha256"]
    state["model"]["w"][0, 0] = float("nan")
    torch.save({"kind": "poselab-student", "format": 1, **state}, tmp_path / "nan.pt")
    with pytest.raises(DataError, match="'w' holds NaN"):
        load_checkpoint(tmp_path / "nan.pt")
    state["model"]["w"][0, 0] = 2.0
    loaded = torch.load(path, weights_only=True)
    loaded["model"] = state["model"]  # other weights, old hash
    torch.save(loaded, tmp_path / "edited.pt")
    with pytest.raises(DataError, match="damaged"):
        load_checkpoint(tmp_path / "edited.pt")
    del loaded["content_sha256"]  # written by an older poselab: accepted
    torch.save(loaded, tmp_path / "old.pt")
    assert load_checkpoint(tmp_path / "old.pt")["epoch"] == 1


# ------------------------------------------------------------------ benchmark script smoke
def test_bench_export_smoke(tmp_path):
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_export.py"), "--samples",
                        "40", "--out", str(tmp_path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "json: poselab export of 40 samples" in r.stdout and "csv:" in r.stdout


# ------------------------------------------------------------------ GUI confirmation
def test_gui_asks_before_replacing_a_protected_file(tmp_path, qtbot):
    pytest.importorskip("PySide6")
    from PySide6.QtWidgets import QMessageBox, QWidget

    from poselab.gui.output_check import outputs_ok

    class Window(QWidget):
        errors: list = []

        def show_error(self, title, message):
            self.errors.append((title, message))

    window = Window()
    qtbot.addWidget(window)
    f = _files(tmp_path)
    retried = []
    assert outputs_ok(window, "Reconstruct", [(f["npz"], False, ())], [], False,
                      lambda: retried.append(True)) is False
    box = window.confirm_box
    assert "landmark .npz file" in box.text() and not window.errors
    replace = next(b for b in box.buttons()
                   if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole)
    replace.click()
    assert retried == [True]
    assert outputs_ok(window, "Reconstruct", [(f["npz"], False, ())], [], True, list) is True
    assert outputs_ok(window, "Train", [(f["dlc"], True, ("checkpoint.pt",))], [], False,
                      list) is False
    assert window.errors and "run folder is expected" in window.errors[-1][1]


def test_unwritable_folder_is_reported_even_when_running_as_root(tmp_path, monkeypatch):
    """As root every folder is writable, so the permission answer is simulated here (the CLI
    test with a chmod-ed folder runs for ordinary users)."""
    import poselab.core.outputs as outputs

    real_access = os.access
    monkeypatch.setattr(outputs.os, "access",
                        lambda p, mode: False if Path(p) == tmp_path else real_access(p, mode))
    with pytest.raises(outputs.OutputError, match="folder is not writable"):
        outputs.check_output(tmp_path / "o.npz")
    with pytest.raises(outputs.OutputError, match="cannot be created"):
        outputs.check_output(tmp_path / "new" / "o.npz")
    with pytest.raises(outputs.OutputError, match="not writable"):
        outputs.check_output(tmp_path, folder=True)
