"""GUI test fixtures. Qt runs offscreen (set here, before anything imports Qt); the one OpenGL
test runs in a subprocess under ``QT_QPA_PLATFORM=xcb`` (test_gl.py), because the platform is
chosen once per process."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("POSELAB_NO_GL", "1")
os.environ.setdefault("POSELAB_NO_WARMUP", "1")  # tests import torch only where they need it

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from gui_helpers import make_folder  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Thumbnails go to a per-session temporary cache, never the user's."""
    monkeypatch.setenv("POSELAB_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def small_folder(tmp_path) -> Path:
    """A folder of 6 annotated images (lsp14)."""
    return make_folder(tmp_path / "data")


@pytest.fixture
def window(qtbot, tmp_path):
    """A shown MainWindow with its own settings file, closed after the test."""
    from PySide6.QtCore import QSettings

    from poselab.gui.app import create_app, create_window

    create_app()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = create_window(settings)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.confirm_quit = lambda: True  # closing at teardown never waits on a question box
    for runner in (w.job, w.loader, w.metrics_runner, w.dataset.thumbs):
        if runner.running:
            runner.cancel()
            qtbot.waitUntil(lambda r=runner: not r.running, timeout=60000)
    if w.doc is not None and w.doc.saving:
        qtbot.waitUntil(lambda: not w.doc.saving, timeout=10000)

