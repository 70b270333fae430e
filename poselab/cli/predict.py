"""``poselab predict CHECKPOINT INPUT --out predictions.npz``: run a trained student.

Writes ``keypoints_3d`` (N, J, 3) in the camera frame and input pixels (depth relative), with
``sample_ids``, the skeleton, ``units="px"``, ``frame="camera"`` and ``kind="prediction"``
(the keys of every poselab result file; ``poselab export`` and ``poselab eval`` read it).
INPUT is anything ``poselab train`` reads; for the image students (integral, heatmap-lifter)
it may also be a folder of unlabelled images or a video file (every ``--every``-th frame,
cached as PNGs beside it): a sample without 2D landmarks is cropped as the whole image.
Samples whose image is unreadable get NaN rows (listed in the file's ``excluded_ids``).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "predict", help="3D poses from a trained student checkpoint",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path, help="checkpoint.pt or its run folder")
    p.add_argument("input", type=Path,
                   help="folder or annotation file; for image students also a folder of "
                        "unlabelled images or a video file")
    p.add_argument("--out", type=Path, default=Path("predictions.npz"))
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda ...")
    p.add_argument("--batch-size", type=int, help="samples per forward pass (default 256)")
    p.add_argument("--every", type=int, default=1, metavar="K",
                   help="video input: every K-th frame (default 1)")
    p.add_argument("--skeleton", metavar="NAME|JSON",
                   help="skeleton for formats without one (default: the checkpoint's)")
    p.add_argument("--split", metavar="NAME",
                   help="only this split of the dataset (train, val, test); default: all")
    p.add_argument("--force", action="store_true",
                   help="overwrite --out even when it is an annotation file or image")
    p.set_defaults(func=run)


def _open_input(args, skeleton):
    """The collection INPUT holds: a video's frames, an annotated dataset, or a folder of
    unlabelled images (when it holds no annotations)."""
    from poselab.core.errors import DataError
    from poselab.core.progress import drain
    from poselab.io import open_folder
    from poselab.io.unlabelled import is_video, open_unlabelled_images, open_video_frames

    if is_video(args.input):
        return drain(open_video_frames(args.input, skeleton, every=args.every))
    try:
        return open_folder(args.input, skeleton=skeleton, check_images=False, split=args.split)
    except DataError as err:
        if not args.input.is_dir():
            raise
        try:
            return open_unlabelled_images(args.input, skeleton)
        except DataError:
            raise err from None


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from poselab.core.errors import DataError
    from poselab.core.lock import output_lock
    from poselab.core.outputs import check_output
    from poselab.core.skeleton import Skeleton
    from poselab.distill.checkpoint import FILENAME, load_checkpoint
    from poselab.distill.predict import predict, save_predictions

    ckpt_file = args.checkpoint / FILENAME if args.checkpoint.is_dir() else args.checkpoint
    check_output(args.out, inputs=(ckpt_file, args.input), force=args.force,
                 suffixes=(".npz",))
    if args.batch_size is not None and args.batch_size < 1:
        raise DataError(None, f"--batch-size must be ≥ 1, got {args.batch_size}")
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    with output_lock(args.out):
        ckpt = load_checkpoint(args.checkpoint)
        skeleton = args.skeleton or Skeleton.from_dict(ckpt["skeleton"], ckpt["path"])
        collection = _open_input(args, skeleton)
        check_output(args.out, inputs=(collection.source,), force=args.force)
        kw = {} if args.batch_size is None else {"batch_size": args.batch_size}
        pred = predict(ckpt, collection, device=args.device, **kw)
        excluded = None
        if ckpt["student"] != "lifter2d":
            from poselab.io.images import image_problems

            excluded = image_problems(collection) != ""
        save_predictions(args.out, pred, collection, excluded=excluded,
                         extra={"checkpoint": str(ckpt["path"]), "student": ckpt["student"],
                                "epoch": int(ckpt["epoch"])})
    n_bad = 0 if excluded is None else int(np.sum(excluded))
    print(f"wrote {args.out}: {len(collection) - n_bad} 3D poses ({ckpt['student']} student, "
          f"epoch {ckpt['epoch']})" + (f"; {n_bad} samples left out (unreadable images)"
                                       if n_bad else ""))
    return 0
