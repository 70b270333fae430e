"""scripts/bench_noise_floor.py: its two oracles on synthetic bodies with a known answer."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import bench_noise_floor as nf  # noqa: E402


def _bodies(n: int = 200, seed: int = 0):
    """Random 17-joint bodies (mm, camera frame, ~4 m away) and their exact 2D (px)."""
    rng = np.random.default_rng(seed)
    gt = rng.normal(0, 300, (n, 17, 3)) + [0, 0, 4000]
    K = np.tile(np.array([[1100.0, 0, 500], [0, 1100.0, 500], [0, 0, 1]]), (n, 1, 1))
    kp = gt[..., :2] / gt[..., 2:] * 1100.0 + 500
    return kp, K, gt


def test_exact_labels_give_the_true_3d_to_both_oracles():
    kp, K, gt = _bodies()
    for oracle in (nf.floor, nf.foreshortening):
        e = oracle(kp, K, gt, 0.0)
        assert e["mpjpe"] < 1e-2 and e["depth_error"] < 1e-2


def test_noise_puts_more_error_into_depth_through_the_bones_than_onto_the_rays():
    kp, K, gt = _bodies()
    rays = [nf.floor(kp, K, gt, s) for s in (2.0, 5.0)]
    bones = [nf.foreshortening(kp, K, gt, s) for s in (2.0, 5.0)]
    # on the rays at the true depth only x, y move: a few mm of depth from the rescaling
    assert all(r["depth_error"] < b["depth_error"] for r, b in zip(rays, bones, strict=True))
    assert bones[0]["mpjpe"] < bones[1]["mpjpe"] and rays[0]["mpjpe"] < rays[1]["mpjpe"]
