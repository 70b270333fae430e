"""``poselab train INPUT --teacher nrsfm.npz --out DIR``: train a student from the teacher.

INPUT is anything :func:`poselab.io.open_folder` reads (with images for the integral and
heatmap-lifter students; 2D only for lifter2d). The lifter students (paper 001) take their 3D
target from ``--lifter-target``: the teacher's 3D, the distilling loss, or ground truth (``gt``,
the supervised setting, needs no teacher).
The teacher must have been fitted on the same samples (``poselab nrsfm INPUT``). Writes
``DIR/checkpoint.pt`` after every epoch; ``--resume`` continues from it (same step, optimiser
and RNG state; the run's saved settings are kept, flags given here override them).
``--val-fraction``/``--val-key`` hold samples out (saved in ``DIR/split.json``): the student
never trains on them and each epoch prints scores on both (``train_*``, ``val_*``).
Several GPUs or machines: ``torchrun --nproc_per_node=N -m poselab train ...`` (rank 0 prints
and writes). Ground-truth 3D in INPUT is used only for the printed metrics, except with
``--depth-loss supervised``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

#: flag name → TrainConfig field
_FLAGS = {"student": "student", "preset": "preset", "epochs": "epochs", "device": "device",
          "depth_loss": "depth_loss", "batch_size": "batch_size", "lr": "lr",
          "threads": "num_threads", "seed": "seed", "l1_weight": "l1_weight",
          "input_size": "input_size", "backbone": "backbone",
          "lifter_target": "lifter_target", "softargmax_beta": "softargmax_beta",
          "pretrain_epochs": "heatmap_pretrain_epochs", "loss_alpha": "loss_alpha",
          "loss_beta": "loss_beta", "loss_gamma": "loss_gamma", "loss_delta": "loss_delta",
          "val_fraction": "val_fraction", "val_key": "val_key"}


def register(subparsers) -> None:
    from poselab.distill.config import (
        BACKBONES,
        DEPTH_LOSSES,
        LIFTER_TARGETS,
        PRESETS,
        STUDENTS,
    )

    p = subparsers.add_parser(
        "train", help="train an image → 3D student distilled from the NRSfM teacher",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", type=Path, help="folder or annotation file (with images)")
    p.add_argument("--teacher", type=Path, help="nrsfm.npz fitted on INPUT")
    p.add_argument("--out", type=Path, required=True, help="run folder (checkpoint.pt)")
    p.add_argument("--student", choices=STUDENTS)
    p.add_argument("--preset", choices=PRESETS, help="network size (default cpu)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:1 ...")
    p.add_argument("--depth-loss", choices=DEPTH_LOSSES,
                   help="distill (paper 000, default), weaksup or supervised")
    p.add_argument("--backbone", choices=BACKBONES)
    p.add_argument("--input-size", type=int, help="crop size in pixels")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--l1-weight", type=float, help="L1 weight of the distilling loss (0.3)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default 1)")
    p.add_argument("--seed", type=int)
    p.add_argument("--pretrained", action="store_true",
                   help="ImageNet backbone weights from the local torch hub cache")
    p.add_argument("--no-augment", action="store_true", help="no scale/rotation/colour/flip")
    p.add_argument("--val-fraction", type=float,
                   help="share of samples held out, never trained on and scored as val_* "
                        "(default 0.1; 0 = none; the dataset's own val/test split wins)")
    p.add_argument("--val-key", metavar="KEY",
                   help="hold out whole groups of this per-sample metadata key (subject, "
                        "sequence, video)")
    lift = p.add_argument_group("lifter students (heatmap-lifter, lifter2d; paper 001)")
    lift.add_argument("--lifter-target", choices=LIFTER_TARGETS,
                      help="3D target: teacher3d (teacher's 3D, default), distill (paper 000 "
                           "loss on the lifter's depth) or gt (ground truth, supervised)")
    lift.add_argument("--softargmax-beta", type=float,
                      help="soft-argmax temperature β (Eq. 2; default 50)")
    lift.add_argument("--pretrain-epochs", type=int,
                      help="heatmap-only epochs before end-to-end training (default 1)")
    for name, what in (("alpha", "2D heatmap"), ("beta", "3D"), ("gamma", "2D reprojection"),
                       ("delta", "bone symmetry")):
        lift.add_argument(f"--loss-{name}", type=float,
                          help=f"weight {name} of the {what} term of Eq. 9")
    lift.add_argument("--no-skip", action="store_true",
                      help="no skip connection from the 2D input to the decoder output")
    p.add_argument("--config", type=Path, help="TrainConfig JSON (flags override it)")
    p.add_argument("--resume", nargs="?", const=True, default=None, metavar="CHECKPOINT",
                   help="continue from CHECKPOINT (default: OUT/checkpoint.pt)")
    p.add_argument("--force", action="store_true",
                   help="start over in an OUT that already holds a run (its checkpoint is "
                        "replaced after the first epoch)")
    p.add_argument("--skeleton", metavar="NAME|JSON", help="skeleton for formats without one")
    p.add_argument("--split", metavar="NAME",
                   help="only this split of the dataset (train, val, test); default: all")
    p.set_defaults(func=run)


def _config(args, resume_state):
    import json

    from poselab.core.errors import DataError
    from poselab.distill.config import TrainConfig

    if resume_state is not None:
        base = dict(resume_state["config"])
    elif args.config is not None:
        try:
            base = json.loads(args.config.read_text())
        except (OSError, ValueError) as err:
            raise DataError(args.config, f"cannot read config ({err})") from None
        base.pop("poselab_version", None)
    else:
        base = {}
    preset = args.preset or base.get("preset") or "cpu"
    if args.preset is not None or not base:
        base = {**base, **TrainConfig.preset_defaults(preset)}
    for flag, name in _FLAGS.items():
        value = getattr(args, flag)
        if value is not None and flag != "preset":
            base[name] = value
    if args.pretrained:
        base["pretrained"] = True
    if args.no_skip:
        base["lifter_skip"] = False
    if args.no_augment:
        base["augment"] = False
        base["flip_augment"] = False
    return TrainConfig.from_dict(base)


def _needs_teacher(config) -> bool:
    """True when the run's 3D target comes from the teacher (not from ground truth)."""
    if config.student == "integral":
        return config.depth_loss != "supervised"
    return config.lifter_target != "gt"


def run(args: argparse.Namespace) -> int:
    from poselab.core.lock import output_lock
    from poselab.core.outputs import check_output
    from poselab.distill.checkpoint import FILENAME

    resume = None
    if args.resume is not None:
        resume = args.out / FILENAME if args.resume is True else Path(args.resume)
    rank = int(os.environ.get("RANK", "0"))
    check_output(args.out, folder=True, inputs=(args.input, args.teacher, args.config),
                 writes=(FILENAME,))
    if resume is None and (args.out / FILENAME).exists() and not args.force:
        from poselab.core.errors import DataError

        raise DataError(args.out / FILENAME, "this folder already holds a training run; "
                        "continue it with --resume, choose another --out, or start over with "
                        "--force (its checkpoint is then replaced)")
    if rank != 0:  # only rank 0 writes (and locks) the run folder
        return _run(args, resume, rank)
    with output_lock(args.out):
        return _run(args, resume, rank)


def _run(args: argparse.Namespace, resume: Path | None, rank: int) -> int:
    from poselab.cli.progressbar import run_with_bar
    from poselab.core.errors import DataError
    from poselab.core.progress import drain
    from poselab.distill.checkpoint import load_checkpoint
    from poselab.distill.train import train
    from poselab.io import open_folder
    from poselab.nrsfm.result import NRSfMResult

    state = load_checkpoint(resume) if resume is not None else None
    config = _config(args, state)
    collection = open_folder(args.input, skeleton=args.skeleton, check_images=False,
                             split=args.split)
    teacher = None
    if args.teacher is not None:
        teacher = NRSfMResult.load(args.teacher)
    elif _needs_teacher(config):
        raise DataError(args.input, "--teacher nrsfm.npz is needed (fit it with "
                                    "`poselab nrsfm INPUT --out nrsfm.npz`)")
    if rank == 0:
        print(f"{collection.num_samples} samples × {collection.num_joints} landmarks from "
              f"{collection.source}; student {config.student} ({config.preset} preset, "
              f"{config.backbone} w{config.backbone_width} @ {config.input_size} px), depth loss "
              f"{config.depth_loss}, {config.epochs} epochs")
    job = train(collection, teacher, config, args.out, resume=resume)
    result = run_with_bar(job) if rank == 0 else drain(job)
    if rank == 0:
        keys = ("student_mpjpe", "student_pa_mpjpe", "student_depth_error", "teacher_mpjpe",
                "teacher_pa_mpjpe", "teacher_depth_error", "err2d_px", "teacher_agreement_px")
        m = result.metrics
        shown = [k for k in (*keys, "samples_per_s") if k in m]
        print("final: " + " ".join(f"{k}={m[k]:.4g}" for k in shown))
        for prefix in ("train_", "val_"):
            part = [k for k in keys if prefix + k in m]
            if part:
                print(f"{prefix[:-1]} ({int(m.get(prefix + 'count', 0))} samples): "
                      + " ".join(f"{k}={m[prefix + k]:.4g}" for k in part))
        print(f"wrote {result.checkpoint}")
    return 0
