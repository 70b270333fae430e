#!/usr/bin/env python
"""Renderer throughput: images/s at 128 and 256 px on one core (plus the JPEG encode).

Renders --n demo poses per size in this process (one core) and prints images/s, by the wall
clock and per CPU-second of this process (the latter is steadier on a busy machine).
"""

from __future__ import annotations

import argparse
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="images per size")
    ap.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    args = ap.parse_args(argv)
    import cv2

    from poselab.synth.collection import sample_rng
    from poselab.synth.demo import load_demo_poses
    from poselab.synth.render import render_pose

    cv2.setNumThreads(1)
    poses = load_demo_poses(args.n)
    X, K, sk = poses.keypoints_3d, poses.intrinsics, poses.skeleton
    render_pose(X[0], K[0], sk, 64, seed=0)  # warm-up
    for size in args.sizes:
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(len(poses)):
            img = render_pose(X[i], K[i], sk, size, rng=sample_rng(0, i)).image
            cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        n = len(poses)
        print(f"{size:4d} px: {n / wall:6.1f} images/s wall clock, {n / cpu:6.1f} images/s per "
              f"CPU-second (render + JPEG encode, {n} images, one process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
