"""The students distilled from the NRSfM teacher, behind one interface
(:class:`~poselab.distill.students.base.Student`): ``integral`` (paper 000 §4.4),
``heatmap-lifter`` and ``lifter2d`` (paper 001).
"""

from __future__ import annotations

from poselab.core.errors import DataError
from poselab.distill.students.base import Student
from poselab.distill.students.integral import IntegralStudent
from poselab.distill.students.lifters import HeatmapLifterStudent, Lifter2dStudent

STUDENT_CLASSES: dict[str, type[Student]] = {
    c.name: c for c in (IntegralStudent, HeatmapLifterStudent, Lifter2dStudent)}


def make_student(config, num_joints: int) -> Student:
    """The :class:`Student` for ``config.student``.

    Raises:
        DataError: an unknown student name.
    """
    cls = STUDENT_CLASSES.get(config.student)
    if cls is None:
        raise DataError(None, f"unknown student {config.student!r}; choose one of "
                              f"{tuple(STUDENT_CLASSES)}")
    return cls(config, num_joints)


def student_from_checkpoint(ckpt: dict) -> tuple[Student, dict]:
    """The student a loaded checkpoint describes and its architecture (``extra["arch"]``, or
    for checkpoints written before the engine, ``extra["model_kwargs"]`` / the config).

    Raises:
        DataError: the checkpoint's config is unreadable or names an unknown student.
    """
    from poselab.distill.config import TrainConfig

    try:
        config = TrainConfig.from_dict({**ckpt["config"], "pretrained": False})
    except Exception as err:  # a config of another version: say so, naming the file
        raise DataError(ckpt.get("path"), f"cannot read the run's settings ({err})") from None
    student = make_student(config, len(ckpt["skeleton"]["joint_names"]))
    extra = ckpt.get("extra") or {}
    arch = extra.get("arch") or extra.get("model_kwargs") or student.arch()
    return student, dict(arch)


def build_from_checkpoint(ckpt: dict, device: str = "cpu"):
    """``(student, model)``: the checkpoint's network with its weights, in eval mode, on
    ``device``.

    Raises:
        DataError: weights that do not fit the described network.
    """
    import torch

    student, arch = student_from_checkpoint(ckpt)
    torch.manual_seed(0)
    if student.name == "integral":
        model = student.build()
    else:
        from poselab.distill.lifter_predict import build_model

        model = build_model(arch)
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as err:
        raise DataError(ckpt.get("path"), f"the weights do not fit the network ({err})"
                        ) from None
    return student, model.to(device).eval()


__all__ = ["STUDENT_CLASSES", "HeatmapLifterStudent", "IntegralStudent", "Lifter2dStudent",
           "Student", "build_from_checkpoint", "make_student", "student_from_checkpoint"]
