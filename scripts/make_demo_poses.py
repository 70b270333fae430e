#!/usr/bin/env python
"""Make ``resources/demo_poses.npz``: ~2000 diverse CMU-mocap poses and their cameras.

Source: ONLY ``../shared/data/mocap17/cmu17_train.npz`` (CMU Graphics Lab motion capture, free to
use; every sample's subject is checked to be "CMU"). Human3.6M data must never be shipped, so
this script refuses any other input.

Selection: farthest-point sampling over the root-centred camera-frame poses (pose and view
together), started from the first sample, so the set covers the actions and the four views
evenly instead of repeating the most common frames. The output keeps the mocap17 layout
(``keypoints_2d`` px, ``keypoints_3d_cam`` mm camera frame, ``K``, ``joint_names``,
``parents`` and per-sample ``subject``/``action``/``sequence``/``camera``/``frame``), so
``poselab.io.read_npz`` and ``poselab synth --poses`` read it directly. Coordinates stay
float32: float16 would round millimetre depths near 5 m to 4 mm and pixels to 0.5 px.

Usage: scripts/make_demo_poses.py [--source PATH] [--n 2000] [--out resources/demo_poses.npz]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "mocap17" / "cmu17_train.npz"


def farthest_points(features: np.ndarray, n: int) -> np.ndarray:
    """Indices of ``n`` rows of ``features`` (M, D) chosen by farthest-point sampling."""
    chosen = [0]
    dist = np.linalg.norm(features - features[0], axis=1)
    for _ in range(n - 1):
        i = int(np.argmax(dist))
        chosen.append(i)
        dist = np.minimum(dist, np.linalg.norm(features - features[i], axis=1))
    return np.sort(np.asarray(chosen))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=REPO / "resources" / "demo_poses.npz")
    args = ap.parse_args(argv)
    if args.source.name != "cmu17_train.npz":
        print("refusing: the demo poses may only come from cmu17_train.npz (CMU mocap)",
              file=sys.stderr)
        return 2
    z = np.load(args.source)
    subjects = set(np.asarray(z["subject"]).tolist())
    if subjects != {"CMU"}:
        print(f"refusing: subjects {sorted(subjects)} are not all CMU", file=sys.stderr)
        return 2
    X = np.asarray(z["keypoints_3d_cam"], np.float32)
    ok = np.asarray(z["in_image"], bool) & (X[..., 2] > 0).all(axis=1)
    cand = np.flatnonzero(ok)
    feats = (X[cand] - X[cand, :1]).reshape(len(cand), -1)
    pick = cand[farthest_points(feats, min(args.n, len(cand)))]
    out = {
        "keypoints_3d_cam": X[pick],
        "keypoints_2d": np.asarray(z["keypoints_2d"], np.float32)[pick],
        "K": np.asarray(z["K"], np.float32)[pick],
        "joint_names": np.asarray(z["joint_names"]),
        "parents": np.asarray(z["parents"]),
        "image_size": np.asarray(z["image_size"]),
        "licence": np.array("CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu): free "
                            "to use, not to resell as data. No Human3.6M data."),
    }
    for key in ("subject", "action", "sequence", "camera", "frame"):
        out[key] = np.asarray(z[key])[pick]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **out)
    actions, counts = np.unique(out["action"], return_counts=True)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB): {len(pick)} poses; "
          + ", ".join(f"{a} {c}" for a, c in zip(actions, counts, strict=True))
          + f"; cameras {np.bincount(out['camera']).tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
