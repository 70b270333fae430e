"""Start the desktop app: guard against the torch/triton + Mesa crash, show the window fast.

Start-up order (PLATFORM.md):

1. :func:`guard_triton` — ``sys.modules["triton"] = None`` before torch can be imported, unless
   torch is already loaded or ``POSELAB_ALLOW_TRITON=1``. torch's bundled ``triton`` carries its
   own LLVM, which collides with Mesa's when a GL context exists (a segfault on Mesa laptops
   when ``torch._dynamo`` loads triton after the 3D view opened). CPU torch and torchvision
   work without triton; CUDA users lose only ``torch.compile``'s GPU kernels.
2. Create the QApplication and the window (pyqtgraph only; vispy/OpenGL and torch are imported
   when first needed) and show it.
3. Open the path given, or the demo (``poselab.synth.demo.ensure_demo`` in a worker, with a
   progress dialog when it has to be built).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)


def guard_triton() -> bool:
    """Block ``import triton`` for this process (see module doc); returns whether it did."""
    if os.environ.get("POSELAB_ALLOW_TRITON") == "1" or "torch" in sys.modules:
        return False
    if "triton" not in sys.modules:
        sys.modules["triton"] = None  # type: ignore[assignment]
    return sys.modules.get("triton") is None


def create_app(argv: list[str] | None = None):
    """The QApplication (created once), with poselab's names and a 4-thread pool."""
    guard_triton()
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    from poselab.gui.qtcompat import collect_in_gui_thread, pin_singletons

    pin_singletons()  # PySide6 6.12 leaks references of None/True (see qtcompat)
    collect_in_gui_thread()  # never in a worker thread, where it can free Qt objects
    app.setApplicationName("poselab")
    app.setOrganizationName("poselab")
    # thumbnails + a job + metrics + autosave may overlap; the default is the core count (2)
    QThreadPool.globalInstance().setMaxThreadCount(max(4, QThreadPool.globalInstance()
                                                       .maxThreadCount()))
    return app


def create_window(settings=None):
    """The :class:`~poselab.gui.main_window.MainWindow`."""
    from poselab.gui.main_window import MainWindow

    return MainWindow(settings)


def run(path: str | Path | None = None, demo: bool = True) -> int:
    """Run the app until the window closes; opens ``path`` or (``demo``) the demo."""
    t0 = time.perf_counter()
    app = create_app()
    window = create_window()
    window.show()
    log.info("window shown %.2f s after start of poselab.gui.app.run", time.perf_counter() - t0)
    if os.environ.get("POSELAB_BENCH_STARTUP"):  # scripts/bench_gui.py: time to first paint
        from PySide6.QtCore import QTimer

        def shown() -> None:
            print(f"shown_at={time.time():.4f}", flush=True)
            app.quit()

        QTimer.singleShot(0, shown)
        return app.exec()
    if path is not None:
        window.open_path(Path(path))
    elif demo:
        window.open_demo()
    return app.exec()
