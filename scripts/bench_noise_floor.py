"""How much error Gaussian label noise alone puts into 3D on h36m17_train35k (issue 15).

An oracle that knows every joint's true depth but takes x, y from the noisy labels (each
joint on its noisy ray, at its true depth) is scored with the paper-000 protocol of
``bench_nrsfm.py`` (bone-length scaling, MPJPE / PA-MPJPE / depth). No method that puts the
joints on the labelled rays can beat it; one that does must denoise the 2D itself (a pose
prior: :mod:`poselab.nrsfm.denoise`, or the teacher's least-squares output). The ground truth
is used by the oracle, so this is an analysis of the benchmark, not a method.

A second oracle asks how much depth the noisy 2D itself tells through the bones' foreshortening
(articulation's rule, Taylor 2000): starting from the skeleton's centre joint at its true
position, each joint is put on its noisy ray at its true bone length from its placed parent, at
whichever of the two crossings lies nearer its true depth (the true front/back order; the
crossing of :func:`poselab.nrsfm.articulation.rigid_bones`); a ray that misses the sphere gives
its point nearest the parent. True lengths, true order, true start: what is
left is the noise alone. Any method whose depth comes from the 2D bone lengths scores worse;
depth better than this must come from a learnt shape prior.

    .venv/bin/python scripts/bench_noise_floor.py [--sigmas 2,5,10]

Measured 2026-12-04 (one Gaussian draw, seed 2, as ``bench_nrsfm.py --noise`` draws it):
    S7/S8 σ = 5 px: 40.5 / 28.3 / 2.6 mm; σ = 10 px: 80.0 / 56.1 / 7.2 (the issue's σ = 10
    target, 60 / 45 / 55, is below it: met only by denoising the 2D by a quarter or more).
    S1/S5/S6: 40.6 / 28.3 / 2.8 and 80.2 / 56.1 / 7.5. About 4.9 mm per pixel at the root.
Foreshortening oracle (2026-12-07, session 31): S7/S8 σ = 2 / 5 / 10 px 43.6 / 31.6 / 37.6,
    81.5 / 59.5 / 64.2, 128.3 / 93.5 / 88.5 mm; S1/S5/S6 42.9 / 31.5 / 36.9, 81.1 / 59.7 /
    63.7, 128.0 / 93.6 / 88.3 — the teacher's σ = 5 output (63.2 / 44.6 / 51.4) is below it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from poselab.core import get_skeleton  # noqa: E402
from poselab.metrics.pose import paper000_errors  # noqa: E402
from poselab.nrsfm.articulation import ray_crossings, spanning_tree  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "mocap17" / "h36m17_train35k.npz"


def label_noise(shape: tuple, sigma: float, seed: int = 2) -> np.ndarray:
    """The Gaussian noise ``bench_nrsfm.py --noise`` adds: ``shape`` pixels, σ per coordinate."""
    return np.random.default_rng(seed).normal(0, sigma, shape)


def floor(kp: np.ndarray, K: np.ndarray, gt: np.ndarray, sigma: float, seed: int = 2) -> dict:
    """paper-000 errors of the true 3D moved onto the noisy rays at the true depth.

    Args:
        kp: ``(N, J, 2)`` exact 2D, pixels; K ``(N, 3, 3)``; gt ``(N, J, 3)`` mm, camera frame.
        sigma: label noise, pixels per coordinate (the noise of ``bench_nrsfm.py``).
    """
    d = label_noise(kp.shape, sigma, seed)
    p = gt.astype(np.float64).copy()
    p[..., 0] += d[..., 0] * p[..., 2] / K[:, None, 0, 0]
    p[..., 1] += d[..., 1] * p[..., 2] / K[:, None, 1, 1]
    return paper000_errors(p.astype(np.float32), gt.astype(np.float32), get_skeleton("h36m17"))


def foreshortening(kp: np.ndarray, K: np.ndarray, gt: np.ndarray, sigma: float,
                   seed: int = 2) -> dict:
    """paper-000 errors of the 3D the noisy 2D's foreshortening gives (the second oracle).

    Args:
        kp: ``(N, J, 2)`` exact 2D, pixels; K ``(N, 3, 3)``; gt ``(N, J, 3)`` mm, camera frame
            (true bone lengths, front/back order and start joint are read from it).
        sigma: label noise, pixels per coordinate.
    """
    skeleton = get_skeleton("h36m17")
    noisy = kp.astype(np.float64) + label_noise(kp.shape, sigma, seed)
    f, c = K[:, None, [0, 1], [0, 1]], K[:, None, :2, 2]
    u = np.concatenate([(noisy - c) / f, np.ones(noisy.shape[:2] + (1,))], -1)  # o + z u, o = 0
    g = gt.astype(np.float64)
    tree = spanning_tree(skeleton.num_joints, skeleton.bones_array)
    out = np.zeros_like(g)
    out[:, tree[0][0]] = g[:, tree[0][0]]
    for parent, child, _ in tree:
        length = np.linalg.norm(g[:, child] - g[:, parent], axis=-1)
        z1, z2 = ray_crossings(out[:, parent], np.zeros_like(u[:, child]), u[:, child], length)
        z = np.where(np.abs(z1 - g[:, child, 2]) <= np.abs(z2 - g[:, child, 2]), z1, z2)
        out[:, child] = z[:, None] * u[:, child]  # the crossing on the true side
    return paper000_errors(out.astype(np.float32), gt.astype(np.float32), skeleton)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sigmas", default="2,5,10")
    args = ap.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} not found (../shared/data)")
    z = np.load(DATA)
    for name, subjects in (("S7/S8", ["S7", "S8"]), ("S1/S5/S6", ["S1", "S5", "S6"])):
        idx = np.flatnonzero(np.isin(z["subject"], subjects))
        kp, K, gt = z["keypoints_2d"][idx], z["K"][idx], z["keypoints_3d_cam"][idx]
        for s in (float(v) for v in args.sigmas.split(",")):
            e, o = floor(kp, K, gt, s), foreshortening(kp, K, gt, s)
            print(f"{name} σ = {s:g} px: true depth, x/y on the noisy rays: "
                  f"{e['mpjpe']:.1f} / {e['pa_mpjpe']:.1f} / {e['depth_error']:.1f} mm; "
                  f"depth from the noisy 2D's foreshortening (true lengths, order, start): "
                  f"{o['mpjpe']:.1f} / {o['pa_mpjpe']:.1f} / {o['depth_error']:.1f} mm")


if __name__ == "__main__":
    main()
