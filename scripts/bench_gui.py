"""GUI performance figures (issue 6): start-up, event-loop gaps under load, opening a big folder.

1. Window shown: seconds from launching ``python -m poselab gui --no-demo`` to the window's first
   paint (the child prints the time; target ≤ 3 s).
2. Event-loop gaps while a student trains in a worker and the 3D view spins at 60 fps: a 5 ms
   QTimer records when it fires; a gap is the time between two firings (target p99 ≤ 50 ms).
3. Opening the 2000-image face folder (1920×1080 JPEGs): seconds until the samples are listed
   and the first image shown (target ≤ 2 s), and until every thumbnail streamed in (cold cache,
   then warm).

    python scripts/bench_gui.py            # all three (re-runs itself under xvfb-run)
    python scripts/bench_gui.py --part 2 --seconds 20

Timings on a shared 2-core machine are noisy; run with ``nice`` and repeat.

Measured (2026-12-01, 2-core machine otherwise idle, Xvfb + llvmpipe, window 1500×900):
    1. window shown 0.76–0.83 s (median 0.78 s).
    2. training child process + 3D view spinning at 60 fps, 20 s: p50 5.9–6.0 ms, p99 38.8 /
       43.2 / 39.0 ms, max 93–100 ms (three runs). Before torch was kept out of the GUI process
       (its objects made each full garbage collection take 200–250 ms): p99 43–58 ms. Spin
       without training (--no-train): p99 16 ms, max 40 ms.
    3. face folder: listed and first image shown 1.08 s cold, 1.73 s warm; all 2000
       thumbnails 4.9 s cold, 5.2 s warm.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FACE = REPO.parent / "shared" / "data" / "real_images" / "face_disguise_14pt"


def bench_startup(repeats: int = 3) -> None:
    times = []
    for _ in range(repeats):
        env = dict(os.environ, POSELAB_BENCH_STARTUP="1", QT_QPA_PLATFORM="xcb")
        t0 = time.time()
        out = subprocess.run([sys.executable, "-m", "poselab", "gui", "--no-demo"], env=env,
                             capture_output=True, text=True, timeout=120)
        line = [ln for ln in out.stdout.splitlines() if ln.startswith("shown_at=")]
        if not line:
            print("startup: no 'shown_at' line;", out.stderr[-500:])
            return
        times.append(float(line[0].split("=")[1]) - t0)
    print(f"1. window shown after launch: {', '.join(f'{t:.2f}' for t in times)} s "
          f"(median {np.median(times):.2f} s; target ≤ 3 s)")


class GapMeter:
    """Records the firing times of a 5 ms timer in the GUI thread."""

    def __init__(self, app) -> None:
        from PySide6.QtCore import QObject, QTimer

        self.times: list[float] = []
        self.holder = QObject()
        self.timer = QTimer(self.holder)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self.on_timeout)

    def on_timeout(self) -> None:
        self.times.append(time.perf_counter())

    def gaps_ms(self) -> np.ndarray:
        return np.diff(np.asarray(self.times)) * 1000


def wait_until(app, cond, timeout: float) -> None:
    t0 = time.perf_counter()
    while not cond():
        app.processEvents()
        time.sleep(0.005)
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("benchmark step timed out")


def bench_gaps(app, window, folder: Path, seconds: float, spin: bool = True,
               train: bool = True) -> None:
    from poselab.distill import TrainConfig
    from poselab.gui.job_functions import JOBS_IN_PROCESS
    from poselab.nrsfm import NRSfMConfig

    window.open_path(folder)
    wait_until(app, lambda: window.doc is not None and not window.loader.running, 600)
    wait_until(app, lambda: not window.dataset.thumbs.running, 600)
    if window.doc.teacher is None:
        window.start_reconstruct(NRSfMConfig(steps=300, restarts=1))
        wait_until(app, lambda: not window.job.running, 1800)
    window.show_sample(0)
    wait_until(app, lambda: window.view3d.has_canvas, 60)
    if train:
        window.start_training(TrainConfig(epochs=1000, device="cpu"))
        # let the worker import torch and build its model before measuring
        wait_until(app, lambda: window.job_panel.last_record is not None, 600)
    window.view3d.spin(1.0 if spin else 0.0, fps=60)
    meter = GapMeter(app)
    meter.timer.start()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        app.processEvents()
        time.sleep(0.001)
    meter.timer.stop()
    window.view3d.spin(0)
    load = "no training"
    if train:
        where = "child process" if JOBS_IN_PROCESS else "worker thread"
        load = f"training to step {window.job_panel.last_record.step} in a {where}"
        window.job.cancel()
        wait_until(app, lambda: not window.job.running, 120)
    g = meter.gaps_ms()
    print(f"2. event-loop gaps over {seconds:.0f} s, {load}, 3D view "
          f"{'spinning at 60 fps' if spin else 'still'}, GIL switch "
          f"{sys.getswitchinterval() * 1000:.0f} ms: p50 {np.percentile(g, 50):.1f} ms, p99 "
          f"{np.percentile(g, 99):.1f} ms, max {g.max():.1f} ms, {len(g)} ticks "
          "(target p99 ≤ 50 ms)")


def bench_open(app, window, face: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="poselab_bench_"))
    copy = tmp / "face"
    shutil.copytree(face, copy)
    os.environ["POSELAB_CACHE_DIR"] = str(tmp / "cache")
    for label in ("cold thumbnail cache", "warm thumbnail cache"):
        before = window.doc
        t0 = time.perf_counter()
        window.open_path(copy)
        wait_until(app, lambda b=before: window.doc is not b and not window.loader.running, 120)
        wait_until(app, lambda: window.current == 0, 60)
        app.processEvents()
        t_open = time.perf_counter() - t0
        wait_until(app, lambda: not window.dataset.thumbs.running, 600)
        t_thumbs = time.perf_counter() - t0
        n = len(window.dataset.model.icons)
        print(f"3. face folder ({len(window.doc.collection)} images), {label}: listed and "
              f"first image shown in {t_open:.2f} s (target ≤ 2 s); all {n} thumbnails in "
              f"{t_thumbs:.1f} s")
    shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", type=int, choices=(1, 2, 3), action="append")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--face", type=Path, default=FACE)
    parser.add_argument("--no-spin", action="store_true", help="part 2 without the 3D spin")
    parser.add_argument("--no-train", action="store_true",
                        help="part 2 without training (rendering cost alone)")
    parser.add_argument("--switch-ms", type=float, help="sys.setswitchinterval for the GUI "
                        "process (Python's GIL hand-over interval; default 5 ms)")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and not os.environ.get("POSELAB_XVFB_CHILD"):
        env = dict(os.environ, POSELAB_XVFB_CHILD="1")
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, *sys.argv]
        return subprocess.call(cmd, env=env)
    parts = args.part or [1, 2, 3]
    if args.switch_ms:
        sys.setswitchinterval(args.switch_ms / 1000)
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    if 1 in parts:
        bench_startup()
    if 2 in parts or 3 in parts:
        from PySide6.QtCore import QSettings

        from poselab.gui.app import create_app, create_window

        app = create_app()
        tmp = Path(tempfile.mkdtemp(prefix="poselab_bench_settings_"))
        window = create_window(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
        window.resize(1500, 900)
        window.show()
        if 3 in parts:
            if args.face.is_dir():
                bench_open(app, window, args.face)
            else:
                print(f"3. skipped: {args.face} not found")
        if 2 in parts:
            from poselab.core.progress import drain
            from poselab.synth.demo import ensure_demo

            folder = drain(ensure_demo())
            bench_gaps(app, window, Path(folder), args.seconds, spin=not args.no_spin,
                       train=not args.no_train)
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
