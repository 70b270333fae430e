"""Drive the real poselab window under a virtual X display and save PNGs of each state.

open → reconstruct (NRSfM, running and done) → least certain first (the teacher's GT-free
uncertainty, joints coloured by it) → state a known length and export CSV in mm → train a
student (short; running and done) → compare in 3D → export CSV and JSON (read back with
poselab.io), for the demo and the face folder; then label a folder of unlabelled face images.
For the README's GUI tour.

    python scripts/screenshot.py                       # demo + the face folder of ../shared/data
    python scripts/screenshot.py --only demo --quick   # fewer steps (a smoke run)

Re-runs itself under ``xvfb-run`` when there is no ``$DISPLAY``. The face folder is copied to
a temporary folder first, so the shared data gets no result files. PNGs go to
``resources/screenshots/<dataset>_<NN>_<state>.png``.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FACE = REPO.parent / "shared" / "data" / "real_images" / "face_disguise_14pt"
#: The length each tour states (joint names, mm): the outer eye corners of an adult are about
#: 90 mm apart (biocular breadth); an adult's shoulders about 330 mm (acromion to acromion is
#: ~ 400 mm, the skeleton's shoulder joints sit inside it).
KNOWN = {"face": (("right_eye_outer", "left_eye_outer"), 90.0),
         "demo": (("RShoulder", "LShoulder"), 330.0)}


def wait_until(app, cond, timeout: float, what: str) -> None:
    """Process Qt events until ``cond()`` is true; raise after ``timeout`` seconds."""
    t0 = time.perf_counter()
    while not cond():
        app.processEvents()
        time.sleep(0.01)
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def pump(app, seconds: float) -> None:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        app.processEvents()
        time.sleep(0.01)


def shoot(app, window, out: Path, name: str, screen: bool = False) -> Path:
    """Save the window (``screen``: the whole virtual screen, to include an open dialog)."""
    pump(app, 0.6)  # let plots and the 3D view repaint
    path = out / f"{name}.png"
    if screen:
        app.primaryScreen().grabWindow(0).save(str(path))
    else:
        window.grab().save(str(path))
    print(f"  saved {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return path


def clean_results(folder: Path) -> None:
    """Remove the 3D results and edits the app saved in ``folder`` earlier."""
    for pattern in ("*nrsfm.npz", "*student_predictions.npz", "*.poselab.json"):
        for p in folder.glob(pattern):
            p.unlink()
    for d in folder.glob("*student"):
        if d.is_dir():
            shutil.rmtree(d)


def tour(app, window, label: str, open_fn, out: Path, quick: bool, sample: int) -> None:
    from poselab.core.metric_scale import KnownLength
    from poselab.distill import TrainConfig
    from poselab.io import read_export
    from poselab.nrsfm import NRSfMConfig

    print(f"[{label}]")
    t0 = time.perf_counter()
    open_fn()
    wait_until(app, lambda: window.doc is not None and not window.loader.running, 900,
               "the data to open")
    print(f"  opened {len(window.doc.collection)} samples in {time.perf_counter() - t0:.1f} s")
    wait_until(app, lambda: not window.dataset.thumbs.running, 300, "thumbnails")
    window.dataset.select(sample)
    window.view3d.set_view("side")
    shoot(app, window, out, f"{label}_01_open")

    steps = 300 if quick else 2500
    config = NRSfMConfig(steps=steps, restarts=1 if quick else 2, log_every=25)
    window.start_reconstruct(config)
    wait_until(app, lambda: window.job_panel.bar.value() > 350 or not window.job.running, 1800,
               "NRSfM progress")
    shoot(app, window, out, f"{label}_02_reconstructing")
    wait_until(app, lambda: not window.job.running, 3600, "NRSfM to finish")
    if window.doc.teacher is None:
        raise RuntimeError(f"reconstruction failed: {window.last_error}")
    wait_until(app, lambda: window.metrics is not None and not window.metrics_runner.running, 120,
               "metrics")
    window.dataset.select(sample)
    window.show_sample(sample)
    shoot(app, window, out, f"{label}_03_reconstructed")

    # least certain first, the 3D joints coloured by the teacher's uncertainty
    window.dataset.filter_box.setCurrentText("Least certain first")
    pump(app, 0.2)
    window.dataset.view.setCurrentIndex(window.dataset.model.index(0))
    window.view3d.uncertainty_box.setChecked(True)
    q = window.metrics.get("quality") or {}
    print(f"  least certain first by {q.get('rank_by')}: set {q.get('set')}")
    shoot(app, window, out, f"{label}_04_least_certain")
    window.view3d.uncertainty_box.setChecked(False)
    window.dataset.filter_box.setCurrentText("All")

    # a known length: 3D in mm on screen and in the export
    joints, mm = KNOWN[label]
    if all(n in window.doc.collection.skeleton.joint_names for n in joints):
        window.known_length_action.trigger()
        window.known_length_dialog.set_choice(mm, joints)
        shoot(app, window, out, f"{label}_05_known_length", screen=True)
        window.known_length_dialog._on_buttons_accepted()
        wait_until(app, lambda: not window.metrics_runner.running and window.metrics is not None
                   and window.metrics.get("mm_per_unit") is not None, 120, "metrics in mm")
        assert window.doc.known_length == KnownLength(mm, joints)
        window.dataset.select(sample)
        window.show_sample(sample)
        path = window.export(("teacher",), "csv", False,
                             Path(tempfile.mkdtemp(prefix="poselab_mm_")) / "teacher_mm.csv")
        back = read_export(path)
        print(f"  exported CSV in {back['units']['teacher']} ({back['frame']['teacher']}): {path}")
        shoot(app, window, out, f"{label}_06_metric_mm")

    tc = TrainConfig(epochs=1 if quick else 6, device="cpu", log_every=5,
                     eval_max_samples=300)
    window.start_training(tc)
    wait_until(app, lambda: bool(window.job_panel.metric_data())
               or not window.job.running, 3600, "a training epoch")
    shoot(app, window, out, f"{label}_07_training")
    wait_until(app, lambda: not window.job.running, 7200, "training to finish")
    if window.doc.student_3d is None:
        raise RuntimeError(f"training failed: {window.last_error}")
    wait_until(app, lambda: not window.metrics_runner.running
               and "student" in (window.metrics or {}).get("set", {}), 120, "student metrics")
    window.dataset.select(sample)
    window.show_sample(sample)
    window.view3d.set_view("side")
    shoot(app, window, out, f"{label}_08_compare_side")
    window.view3d.set_view("front")
    shoot(app, window, out, f"{label}_09_compare_front")
    window.view3d.set_view("side")

    export_dir = Path(tempfile.mkdtemp(prefix=f"poselab_export_{label}_"))
    for fmt in ("csv", "json"):
        path = window.export(("teacher", "student"), fmt, False, export_dir / f"poses.{fmt}")
        back = read_export(path)
        shapes = {k: v.shape for k, v in back["sources"].items()}
        print(f"  exported {fmt.upper()}: {path} → read back {shapes}")
    window.dataset.filter_box.setCurrentText("Largest disagreement")
    pump(app, 0.3)
    shoot(app, window, out, f"{label}_10_largest_disagreement")
    window.dataset.filter_box.setCurrentText("All")


def annotate_tour(app, window, face: Path, tmp: Path, out: Path) -> None:
    """Label a folder of unlabelled images: skeleton dialog, then clicks in order."""
    import numpy as np
    import scipy.io

    print("[annotate]")
    folder = tmp / "unlabelled"
    folder.mkdir()
    for k in (1, 2, 3):
        shutil.copy(face / "images" / f"{k}.jpg", folder / f"{k}.jpg")
    truth = scipy.io.loadmat(face / "joints.mat")["joints"][:, :, 0].astype(float)  # (14, 2)
    window.open_path(folder)
    wait_until(app, lambda: getattr(window, "skeleton_dialog", None) is not None
               and window.skeleton_dialog.isVisible(), 60, "the skeleton dialog")
    dialog = window.skeleton_dialog
    dialog.combo.setCurrentIndex(dialog.combo.findData("face14"))
    shoot(app, window, out, "annotate_01_choose_skeleton")
    dialog._on_buttons_accepted()
    wait_until(app, lambda: window.doc is not None and not window.loader.running
               and window.doc.collection.skeleton.name == "face14", 60, "the folder")
    rng = np.random.default_rng(0)
    for j in range(9):  # the first nine landmarks, clicked in order (slightly off)
        x, y = truth[j] + rng.normal(0, 2, 2)
        window.image_view.place_requested.emit(float(x), float(y))
    window.image_view.viewbox.setRange(xRange=(truth[:, 0].min() - 150, truth[:, 0].max() + 150),
                                       yRange=(truth[:, 1].min() - 150, truth[:, 1].max() + 150))
    wait_until(app, lambda: not window.doc.saving, 30, "autosave")
    shoot(app, window, out, "annotate_02_labelling")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "resources" / "screenshots")
    parser.add_argument("--only", choices=("demo", "face", "annotate"), help="one part only")
    parser.add_argument("--face", type=Path, default=FACE, help="the face folder to copy")
    parser.add_argument("--quick", action="store_true", help="few steps (smoke run)")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and not os.environ.get("POSELAB_XVFB_CHILD"):
        env = dict(os.environ, POSELAB_XVFB_CHILD="1")
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, *sys.argv]
        return subprocess.call(cmd, env=env)
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from poselab.gui.app import create_app, create_window

    app = create_app()
    from PySide6.QtCore import QSettings

    tmp = Path(tempfile.mkdtemp(prefix="poselab_shots_"))
    window = create_window(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    window.resize(1560, 960)
    window.show()
    pump(app, 0.5)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "demo"):
        from poselab.core.progress import drain
        from poselab.synth.demo import ensure_demo

        demo = drain(ensure_demo())
        clean_results(Path(demo))  # the tour starts from the data alone
        tour(app, window, "demo", window.open_demo, args.out, args.quick, sample=7)
    if args.only in (None, "face"):
        if not args.face.is_dir():
            print(f"face folder not found: {args.face}; skipped")
        else:
            copy = tmp / "face_disguise_14pt"
            print(f"copying {args.face} to {copy}")
            shutil.copytree(args.face, copy)
            tour(app, window, "face", lambda: window.open_path(copy), args.out, args.quick,
                 sample=3)
    if args.only in (None, "annotate") and args.face.is_dir():
        annotate_tour(app, window, args.face, tmp, args.out)
    window.close()
    pump(app, 0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
