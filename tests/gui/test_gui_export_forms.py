"""Export dialog → files poselab.io reads back; forms built from config field metadata;
the demo opens through ensure_demo; scripts parse their arguments."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import open_and_wait

REPO = Path(__file__).resolve().parents[2]


class FakeTeacher:
    """Stands in for an NRSfMResult: the window only reads ``keypoints_3d``."""

    def __init__(self, k3):
        self.keypoints_3d = k3


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_dialog_writes_files_io_reads_back(qtbot, window, small_folder, tmp_path, fmt):
    from poselab.gui.dialogs.export_dialog import ExportDialog
    from poselab.io import read_export

    open_and_wait(qtbot, window, small_folder)
    rng = np.random.default_rng(1)
    teacher = rng.normal(size=(6, 14, 3)).astype(np.float32)
    student = teacher + 1.0
    window.doc.teacher = FakeTeacher(teacher)
    window.doc.set_student(student, None)
    assert window.export_action.isEnabled()

    dialog = ExportDialog(list(window.doc.sources_3d()), tmp_path, window)
    window.export_dialog = dialog
    dialog.accepted.connect(window._on_export_dialog_accepted)
    out = tmp_path / f"both.{fmt}"
    dialog.set_choice(source=2, fmt=fmt, selected_only=False, path=out)  # 2 = "Both"
    dialog._on_buttons_accepted()
    assert out.is_file()
    back = read_export(out)
    np.testing.assert_allclose(back["sources"]["teacher"], teacher, atol=1e-3)
    np.testing.assert_allclose(back["sources"]["student"], student, atol=1e-3)
    assert back["units"]["teacher"] == "relative"  # no known length: says so plainly

    # only the selected sample
    window.show_sample(4)
    one = tmp_path / f"one.{fmt}"
    window.export(("student",), fmt, True, one)
    back = read_export(one)
    assert list(back["sources"]) == ["student"]
    np.testing.assert_allclose(back["sources"]["student"], student[4:5], atol=1e-3)


def test_forms_built_from_config_metadata(qtbot):
    from poselab.core.errors import PoselabError
    from poselab.distill.config import PRESET_VALUES, TrainConfig
    from poselab.gui.app import create_app
    from poselab.gui.dialogs.job_dialog import JobDialog
    from poselab.gui.jobs import NRSFM_MAIN, TRAIN_MAIN
    from poselab.gui.widgets.config_form import ConfigForm
    from poselab.nrsfm import NRSfMConfig

    create_app()
    dialog = JobDialog("Train", TrainConfig, None, TRAIN_MAIN, resume=True)
    qtbot.addWidget(dialog)
    form = dialog.form
    assert form.config() == TrainConfig()  # editors start from the defaults, round trip
    assert form.editors["student"].count() == 3  # choices from the hint
    assert form.labels["epochs"] == "Epochs" and form.labels["lr"] == "Learning rate"
    form.editors["epochs"].setValue(7)
    form.editors["preset"].setCurrentText("paper")  # a preset sets its fields
    cfg = form.config()
    assert cfg.epochs == 7 and cfg.input_size == PRESET_VALUES["paper"]["input_size"]
    form.editors["input_size"].setValue(100)  # not a multiple of 32: validation error shown
    dialog._on_buttons_accepted()
    assert "multiple of 32" in dialog.error.text() and dialog.result() == 0
    with pytest.raises(PoselabError):
        form.config()

    nform = ConfigForm(NRSfMConfig, None, NRSFM_MAIN)
    qtbot.addWidget(nform)
    assert nform.config() == NRSfMConfig()
    nform.set_values({"steps": 123, "dict_sizes": (16, 8)})
    assert nform.config().steps == 123 and nform.config().dict_sizes == (16, 8)


def test_open_demo_uses_ensure_demo(qtbot, window, small_folder, monkeypatch):
    """With no path the app opens what ensure_demo returns (stubbed: the demo build is slow)."""
    import poselab.synth.demo as demo
    from poselab.core.progress import Progress

    def fake_ensure_demo(out=None, cancel=None, **kwargs):
        yield Progress("demo", 1, 1, message="ready", kind="info")
        return small_folder

    monkeypatch.setattr(demo, "ensure_demo", fake_ensure_demo)
    with qtbot.waitSignal(window.loader.stopped, timeout=30000):
        window.open_demo()
    assert window.doc is not None and len(window.doc.collection) == 6


@pytest.mark.parametrize("script", ["screenshot.py", "bench_gui.py", "bench_trust.py"])
def test_scripts_parse_arguments(script):
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / script), "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "usage" in proc.stdout
