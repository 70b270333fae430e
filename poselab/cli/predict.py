"""``poselab predict CHECKPOINT INPUT --out predictions.npz``: run a trained student.

Writes ``keypoints_3d`` (N, J, 3) in the camera frame and input pixels (depth relative), with
``sample_ids``, the skeleton, ``units="px"``, ``frame="camera"`` and ``kind="prediction"``
(the keys of every poselab result file; ``poselab export`` and ``poselab eval`` read it).
Crops come from each sample's 2D landmark box, so INPUT needs 2D landmarks.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "predict", help="3D poses from a trained student checkpoint",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path, help="checkpoint.pt or its run folder")
    p.add_argument("input", type=Path, help="folder or annotation file")
    p.add_argument("--out", type=Path, default=Path("predictions.npz"))
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda ...")
    p.add_argument("--skeleton", metavar="NAME|JSON",
                   help="skeleton for formats without one (default: the checkpoint's)")
    p.add_argument("--split", metavar="NAME",
                   help="only this split of the dataset (train, val, test); default: all")
    p.add_argument("--force", action="store_true",
                   help="overwrite --out even when it is an annotation file or image")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from poselab.core.lock import output_lock
    from poselab.core.outputs import check_output
    from poselab.core.skeleton import Skeleton
    from poselab.distill.checkpoint import FILENAME, load_checkpoint
    from poselab.distill.predict import predict, save_predictions
    from poselab.io import open_folder

    ckpt_file = args.checkpoint / FILENAME if args.checkpoint.is_dir() else args.checkpoint
    check_output(args.out, inputs=(ckpt_file, args.input), force=args.force,
                 suffixes=(".npz",))
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    with output_lock(args.out):
        ckpt = load_checkpoint(args.checkpoint)
        skeleton = args.skeleton or Skeleton.from_dict(ckpt["skeleton"], ckpt["path"])
        collection = open_folder(args.input, skeleton=skeleton, check_images=False,
                                 split=args.split)
        check_output(args.out, inputs=(collection.source,), force=args.force)
        pred = predict(ckpt, collection, device=args.device)
        save_predictions(args.out, pred, collection,
                         extra={"checkpoint": str(ckpt["path"]), "student": ckpt["student"],
                                "epoch": int(ckpt["epoch"])})
    print(f"wrote {args.out}: {len(collection)} 3D poses ({ckpt['student']} student, "
          f"epoch {ckpt['epoch']})")
    return 0
