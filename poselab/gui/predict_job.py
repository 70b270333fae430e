"""File ▸ Predict 3D as a job (no Qt): open new data, run a trained student, save the result.

Mirrors ``poselab predict CHECKPOINT INPUT --out``: the input is a folder of unlabelled images
(:func:`poselab.io.unlabelled.open_unlabelled_images`), every k-th frame of a video
(:func:`poselab.io.unlabelled.open_video_frames`) or a 2D file from another tool (DeepLabCut,
SLEAP, COCO…: :func:`poselab.io.open_folder`, the only input a 2D lifter accepts). The output
folder gets ``predicted.json`` (COCO: the samples, with the student's 2D as landmarks for
image students, the input's 2D for a lifter) and ``predicted.student_predictions.npz`` (the
student's ``keypoints_3d`` (N, J, 3) float32, camera frame, pixels, depth relative; the keys
of every poselab result file), so opening ``predicted.json`` shows the 3D again. Video frames
go to ``frames/`` in that folder.

Everything here runs in a child process (:func:`poselab.core.process_job.run_in_process`), so
torch never loads into the GUI process; the functions are module-level generators.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.progress import CancelToken, Progress

log = logging.getLogger(__name__)

#: Input kinds of the Predict dialog.
INPUT_KINDS = {"images": "folder of unlabelled images", "video": "video file (every k-th frame)",
               "file": "2D landmarks file or folder (DeepLabCut, SLEAP, COCO…)"}
#: Students that see images (crop the image; the whole image when a sample has no 2D).
IMAGE_STUDENTS = ("integral", "heatmap-lifter")
COLLECTION_FILE = "predicted.json"
PREDICTIONS_FILE = "predicted.student_predictions.npz"  # loading.student_path of the above


def accepted_inputs(student: str) -> tuple[str, ...]:
    """The input kinds (keys of :data:`INPUT_KINDS`) a student of type ``student`` accepts."""
    return ("images", "video", "file") if student in IMAGE_STUDENTS else ("file",)


@dataclass(frozen=True)
class RunInfo:
    """What the Predict dialog shows of a trained run.

    Attributes:
        checkpoint: the ``checkpoint.pt`` file.
        student: ``"integral"``, ``"heatmap-lifter"`` or ``"lifter2d"``.
        epochs: epochs trained. skeleton: its name. num_joints: J.
        held_out: the held-out score as text (e.g. ``"held-out MPJPE 61.2 mm (n=20)"``), or
            ``""`` when the run has none (older runs were scored on seen samples only).
    """

    checkpoint: Path
    student: str
    epochs: int
    skeleton: str = ""
    num_joints: int = 0
    held_out: str = ""

    def describe(self) -> str:
        """One line: student, epochs, skeleton, held-out score."""
        text = f"{self.student}, {self.epochs} epochs, {self.skeleton} ({self.num_joints} joints)"
        return f"{text}, {self.held_out}" if self.held_out else f"{text}, no held-out score"

    def to_dict(self) -> dict:
        return {"checkpoint": str(self.checkpoint), "student": self.student,
                "epochs": self.epochs, "skeleton": self.skeleton,
                "num_joints": self.num_joints, "held_out": self.held_out}

    @classmethod
    def from_dict(cls, d: dict) -> RunInfo:
        return cls(Path(d["checkpoint"]), str(d["student"]), int(d["epochs"]),
                   str(d.get("skeleton", "")), int(d.get("num_joints", 0)),
                   str(d.get("held_out", "")))


def held_out_text(metrics: dict | None) -> str:
    """The held-out score of a run's last epoch (``val_*`` keys of the engine), or ``""``."""
    m = metrics or {}
    n = m.get("val_count")
    suffix = f" (n={int(n)})" if n else ""
    for key, name, unit in (("val_student_mpjpe", "MPJPE", "mm"),
                            ("val_err2d_px", "2D error", "px"),
                            ("val_teacher_agreement_px", "teacher agreement", "px")):
        v = m.get(key)
        if v is not None and np.isfinite(float(v)):
            return f"held-out {name} {float(v):.3g} {unit}{suffix}"
    return ""


def run_info_from(checkpoint: Path, state: dict) -> RunInfo:
    """:class:`RunInfo` of a loaded checkpoint dict (or of a finished TrainResult's parts)."""
    sk = state.get("skeleton") or {}
    history = state.get("history") or []
    metrics = state.get("metrics") or (history[-1] if history else {})
    return RunInfo(Path(checkpoint), str(state.get("student", "?")),
                   int(state.get("epoch", len(history))), str(sk.get("name", "")),
                   len(sk.get("joint_names", ())), held_out_text(metrics))


def describe_run(path: str | Path, cancel: CancelToken | None = None):
    """Read a run (``checkpoint.pt`` or its folder) and return its :class:`RunInfo`.

    Raises:
        DataError: not a readable poselab student checkpoint.
    """
    from poselab.distill.checkpoint import load_checkpoint

    yield Progress("describe", 0, 0, message=f"reading {Path(path).name}", kind="info")
    state = load_checkpoint(path)
    return run_info_from(Path(state["path"]), state)


@dataclass(frozen=True)
class PredictRequest:
    """One Predict 3D job: which run, which input, where the result goes."""

    checkpoint: Path
    input: Path
    kind: str  # a key of INPUT_KINDS
    out_dir: Path
    every: int = 1
    device: str = "auto"
    batch_size: int | None = None
    extra: dict = field(default_factory=dict)


def open_input(req: PredictRequest, skeleton, image_student: bool,
               cancel: CancelToken) -> PoseCollection:
    """The collection of ``req.input`` (a generator returning it; frames are extracted).

    Raises:
        DataError: an input kind the student cannot use, or the reader's error.
    """
    from poselab.io import open_folder
    from poselab.io.unlabelled import open_unlabelled_images, open_video_frames

    if req.kind == "images":
        return open_unlabelled_images(req.input, skeleton)
    if req.kind == "video":
        return (yield from open_video_frames(req.input, skeleton, req.every,
                                             req.out_dir / "frames", cancel))
    if req.kind == "file":
        return open_folder(req.input, skeleton=skeleton, check_images=image_student)
    raise DataError(req.input, f"unknown input kind {req.kind!r}")


def predict_to_folder(req: PredictRequest, cancel: CancelToken | None = None):
    """Run the whole Predict 3D job (module docstring) and return the COCO file to open.

    Yields:
        :class:`Progress` of frame extraction and prediction.

    Returns:
        ``(collection file, RunInfo)``: ``req.out_dir / predicted.json`` and the run used.

    Raises:
        DataError: an unreadable checkpoint or input, an input the student cannot use (a
            lifter needs 2D), a skeleton mismatch, no usable sample.
        Cancelled: nothing is written after the cancel (extracted frames stay).
    """
    from poselab.core.skeleton import Skeleton
    from poselab.distill.checkpoint import load_checkpoint
    from poselab.distill.predict import predict_iter, save_predictions
    from poselab.io import write_coco

    cancel = cancel or CancelToken()
    yield Progress("load", 0, 0, message=f"reading {req.checkpoint}", kind="info")
    state = load_checkpoint(req.checkpoint)
    info = run_info_from(Path(state["path"]), state)
    if req.kind not in accepted_inputs(info.student):
        raise DataError(req.input, f"a {info.student} student predicts from 2D landmarks; "
                                   f"a {INPUT_KINDS.get(req.kind, req.kind)} has none")
    image_student = info.student in IMAGE_STUDENTS
    skeleton = Skeleton.from_dict(state["skeleton"], state["path"])
    req.out_dir.mkdir(parents=True, exist_ok=True)
    coll = yield from open_input(req, skeleton, image_student, cancel)
    cancel.check()
    pred = yield from predict_iter(state, coll, device=req.device, batch_size=req.batch_size,
                                   cancel=cancel)
    cancel.check()
    kp3 = np.asarray(pred.keypoints_3d, np.float32)  # NaN rows: unreadable images
    finite = np.isfinite(kp3).all((1, 2))
    if not finite.any():
        raise DataError(req.input, "the student predicted no finite 3D for any sample")
    if pred.keypoints_2d is not None:  # the image student's 2D becomes the landmarks
        kp2 = np.asarray(pred.keypoints_2d, np.float32)
        ok = finite & np.isfinite(kp2).all((1, 2))
        coll.keypoints_2d[ok] = kp2[ok]
        coll.visibility[ok] = 2
        coll.metadata["predicted_2d"] = True
    part = coll.subset(np.flatnonzero(finite)) if not finite.all() else coll
    out_json = req.out_dir / COLLECTION_FILE
    coll.source = out_json
    write_coco(coll, out_json)
    save_predictions(req.out_dir / PREDICTIONS_FILE, kp3[finite], part,
                     extra={"checkpoint": str(state["path"]), "student": info.student,
                            "epoch": info.epochs, "input": str(req.input), **req.extra})
    log.info("predicted %d of %d samples of %s with %s into %s", int(finite.sum()), len(coll),
             req.input, info.checkpoint, req.out_dir)
    return out_json, info
