"""``poselab synth``: render a pose file with cameras into an image collection (issue 4)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from poselab.cli.numbers import int_in


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "synth", help="render mannequin images from 3D poses with cameras",
        description="Render every pose of FILE.npz (keypoints_3d in mm, camera frame, with "
                    "intrinsics K; e.g. a mocap17 file) as a person crop: JPEG images, COCO "
                    "keypoints JSON and a 3D sidecar, readable by 'poselab info DIR'.")
    p.add_argument("--poses", type=Path, required=True, metavar="FILE.npz",
                   help="pose file with 3D poses and cameras")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to create")
    p.add_argument("--n", type=int_in(1, 10**8), default=None,
                   help="render N poses evenly spread (default all)")
    p.add_argument("--size", type=int_in(16, 4096), default=256, metavar="PX",
                   help="image side (default 256)")
    p.add_argument("--seed", type=int_in(0, 2**31 - 1), default=0,
                   help="appearance seed (default 0)")
    p.add_argument("--workers", type=int_in(1, 256), default=None,
                   help="rendering processes (default: up to 2 for 200 or more images)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing non-empty DIR")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from poselab.core.lock import output_lock
    from poselab.core.outputs import check_output

    check_output(args.out, folder=True, inputs=(args.poses,), replaced=True)
    with output_lock(args.out):
        return _render(args)


def _render(args: argparse.Namespace) -> int:
    from poselab.cli.progressbar import run_with_bar
    from poselab.core.errors import DataError
    from poselab.io import read_annotation
    from poselab.synth.collection import render_collection, subsample_evenly

    coll = read_annotation(args.poses)
    if not coll.has_3d or coll.intrinsics is None:
        raise DataError(args.poses, "has no 3D poses with camera intrinsics to render")
    if coll.units_3d != "mm":
        raise DataError(args.poses, f"3D poses are in {coll.units_3d!r}; rendering needs mm")
    coll = coll.subset(subsample_evenly(len(coll), args.n))
    workers = args.workers
    if workers is None:
        workers = max(1, min(2, os.cpu_count() or 1)) if len(coll) >= 200 else 1
    per = {k: v for k, v in coll.metadata.get("per_sample", {}).items()
           if k in ("subject", "action", "camera", "sequence", "frame")}
    result = run_with_bar(render_collection(
        coll.keypoints_3d, coll.intrinsics, coll.skeleton, args.out, size=args.size,
        seed=args.seed, workers=workers, overwrite=args.overwrite,
        metadata={"rendered_from": str(args.poses), "per_sample": per}))
    print(f"wrote {len(result)} images to {args.out}")
    return 0
