"""``poselab demo``: build (once) and locate the bundled demo collection (issue 4)."""

from __future__ import annotations

import argparse
from pathlib import Path

from poselab.cli.numbers import int_in


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo", help="build the bundled demo collection (first use) and print its folder",
        description="Render the bundled CMU-mocap demo poses (about 2000 images) into the user "
                    "data folder on first use, reuse it afterwards, and print the folder.")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="demo folder (default: the user data folder's 'demo')")
    p.add_argument("--n", type=int_in(1, 10**7), default=None,
                   help="number of images (default all)")
    p.add_argument("--size", type=int_in(16, 4096), default=None, metavar="PX",
                   help="image side")
    p.add_argument("--force", action="store_true", help="rebuild even when current")
    p.add_argument("--two-d", type=Path, default=None, metavar="FILE.npz",
                   help="also write the 2D-only demo (no images) to FILE.npz")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from poselab.cli.progressbar import run_with_bar
    from poselab.core.lock import output_lock
    from poselab.core.outputs import check_output
    from poselab.synth.demo import DEMO_SIZE, default_demo_dir, demo_2d_only, ensure_demo

    out = args.out if args.out is not None else default_demo_dir()
    check_output(out, folder=True, replaced=True)
    if args.two_d is not None:
        check_output(args.two_d, inputs=(out,), suffixes=(".npz",))
    with output_lock(out, args.two_d):
        folder = run_with_bar(ensure_demo(out, n=args.n, size=args.size or DEMO_SIZE,
                                          force=args.force))
        if args.two_d is not None:
            coll = demo_2d_only(args.n, write_to=args.two_d)
            print(f"wrote the 2D-only demo ({len(coll)} samples) to {args.two_d}")
    print(folder)
    return 0
