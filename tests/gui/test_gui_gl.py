"""The one OpenGL test: the 3D view draws teacher/student/ground truth under a real X display
(CI runs pytest under ``xvfb-run``). Qt's platform is fixed per process and the other GUI tests
run offscreen, so this test runs its check in a subprocess with ``QT_QPA_PLATFORM=xcb``; the
subprocess first creates a ``QOpenGLContext`` and the test skips, with the reason, when it
cannot. It also imports torch and builds an optimizer *after* the GL context exists — the
torch/triton + Mesa crash of PLATFORM.md — which the app's triton guard must survive.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import os, sys
sys.path.insert(0, {helpers!r})
from poselab.gui.app import create_app, guard_triton
guard_triton()
app = create_app()
from PySide6.QtGui import QOpenGLContext
ctx = QOpenGLContext()
if not ctx.create():
    print("SKIP: Qt could not create an OpenGL context on this display")
    sys.exit(77)
import numpy as np
from pathlib import Path
from gui_helpers import make_folder
from poselab.gui.app import create_window
from poselab.gui.widgets.view3d import SOURCE_COLOURS
from PySide6.QtCore import QSettings
w = create_window(QSettings(sys.argv[1] + "/s.ini", QSettings.Format.IniFormat))
w.resize(1200, 800)
w.show()
folder = make_folder(Path(sys.argv[1]) / "data")
w.open_path(folder)
from PySide6.QtCore import QElapsedTimer
t = QElapsedTimer(); t.start()
while w.doc is None and t.elapsed() < 20000:
    app.processEvents()
doc = w.doc
rng = np.random.default_rng(0)
teacher = rng.normal(size=(6, 14, 3)).astype(np.float32)
student = teacher + 0.2 * rng.normal(size=teacher.shape).astype(np.float32)
doc.set_student(student, None)
class T:  # a stand-in teacher result (only keypoints_3d is drawn)
    keypoints_3d = teacher
doc.set_teacher(T())
w.show_sample(0)
t.restart()
while not w.view3d.has_canvas and t.elapsed() < 20000:
    app.processEvents()
assert w.view3d.has_canvas, w.view3d.gl_failed_reason
for name in ("front", "top", "side"):
    w.view3d.set_view(name)
    img = w.view3d.render_image()
    assert img is not None and img.ndim == 3
    for src in ("teacher", "student"):
        c = np.array(SOURCE_COLOURS[src])
        hits = (np.abs(img[..., :3].astype(int) - c).sum(-1) < 60).sum()
        assert hits > 20, (name, src, hits)
grab = w.grab()
assert not grab.isNull()
# torch after a GL context exists (PLATFORM.md): must not crash with the triton guard
import torch, torchvision
p = torch.zeros(3, requires_grad=True)
opt = torch.optim.Adam([p]); p.sum().backward(); opt.step()
print("GL OK", img.shape)
w.close()
"""


def test_3d_view_draws_skeletons_under_xvfb(tmp_path):
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X display (run pytest under xvfb-run for the OpenGL test)")
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", POSELAB_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("POSELAB_NO_GL", None)
    script = SCRIPT.format(helpers=str(Path(__file__).parent))
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=240)
    if proc.returncode == 77:
        pytest.skip(proc.stdout.strip())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "GL OK" in proc.stdout
