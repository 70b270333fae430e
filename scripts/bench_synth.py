#!/usr/bin/env python
"""Renderer throughput: images/s at 128 and 256 px on one core (plus the JPEG encode).

Renders --n demo poses per size in this process (one core) and prints images/s. Timings on a
shared machine are noisy; run it with nothing else busy for numbers to compare.
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
        t0 = time.perf_counter()
        t_render = 0.0
        for i in range(len(poses)):
            t1 = time.perf_counter()
            img = render_pose(X[i], K[i], sk, size, rng=sample_rng(0, i)).image
            t_render += time.perf_counter() - t1
            cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        total = time.perf_counter() - t0
        n = len(poses)
        print(f"{size:4d} px: {n / total:6.1f} images/s with JPEG encode, "
              f"{n / t_render:6.1f} images/s render only ({n} images, one core)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
