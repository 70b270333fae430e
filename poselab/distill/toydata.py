"""A tiny synthetic image set with a matching teacher, for tests, smoke runs and examples.

Stick figures of the ``h36m17`` skeleton drawn with OpenCV: shapes ``S = D φ`` from a small
nonnegative dictionary around a standing pose, turned by a random yaw (and a little pitch),
drawn far bones first (occlusion and brightness carry a depth cue). The returned teacher is an
exact :class:`poselab.nrsfm.result.NRSfMResult` satisfying its invariant (``shapes_normalized ==
(D φ).reshape(J, 3) @ R.T``), so the distilling loss has a perfect teacher; ground truth 3D is
attached in millimetres (camera frame, 5 m away).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.normalize import bbox_normalization
from poselab.core.skeletons import get_skeleton

# h36m17 standing pose, metres, canonical frame (x right, y down, z forward)
_BASE = np.array([
    [0, 0, 0], [-0.13, 0, 0], [-0.13, 0.45, 0], [-0.13, 0.88, 0.02],  # hip, R leg
    [0.13, 0, 0], [0.13, 0.45, 0], [0.13, 0.88, 0.02],  # L leg
    [0, -0.23, 0], [0, -0.48, 0], [0, -0.58, 0.03], [0, -0.7, 0],  # spine..head
    [0.17, -0.45, 0], [0.2, -0.18, 0], [0.21, 0.06, 0],  # L arm
    [-0.17, -0.45, 0], [-0.2, -0.18, 0], [-0.21, 0.06, 0],  # R arm
], np.float64)


def _rot(yaw: float, pitch: float) -> np.ndarray:
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    Ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    Rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    return Rx @ Ry


def make_toy_dataset(folder: str | Path, n: int = 64, size: int = 96, atoms: int = 12,
                     seed: int = 0):
    """Write ``n`` PNG stick figures to ``folder``; return ``(collection, teacher)``.

    Returns:
        :class:`PoseCollection` (h36m17, images, 2D px, 3D mm camera frame) and its exact
        :class:`NRSfMResult` teacher (K = ``atoms``).
    """
    import cv2

    from poselab.nrsfm.result import NRSfMResult

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    skel = get_skeleton("h36m17")
    J = skel.num_joints
    D = _BASE[None] + rng.normal(scale=0.12, size=(atoms, J, 3)) * (np.arange(J) > 0)[None, :,
                                                                                      None]
    D = D.transpose(1, 2, 0).reshape(3 * J, atoms)  # row 3j + c
    phi = rng.dirichlet(np.full(atoms, 0.3), size=n)
    R = np.stack([_rot(rng.uniform(-1.6, 1.6), rng.uniform(-0.2, 0.2)) for _ in range(n)])
    canon = (phi @ D.T).reshape(n, J, 3)
    cam = np.einsum("nab,njb->nja", R, canon)  # metres, X_cam = R X
    px = rng.uniform(0.5, 0.65, n) * size  # pixels per metre... per body height unit
    offset = size / 2 + rng.uniform(-4, 4, (n, 2))
    kp2 = cam[..., :2] * px[:, None, None] + offset[:, None, :]
    paths, colours = [], {"left": (230, 60, 60), "right": (60, 90, 230), "centre": (60, 200, 60)}
    bones = skel.bones_array
    for i in range(n):
        img = rng.integers(20, 70, (size, size, 3), dtype=np.uint8)
        zb = cam[i, bones, 2].mean(1)
        for e in np.argsort(-zb):  # far first
            a, b = bones[e]
            side = skel.sides[b]
            shade = float(np.clip(1.0 - 0.8 * zb[e], 0.3, 1.6))
            col = tuple(int(min(255, c * shade)) for c in colours[side])
            pa = tuple(int(round(v * 16)) for v in kp2[i, a])
            pb = tuple(int(round(v * 16)) for v in kp2[i, b])
            cv2.line(img, pa, pb, col, 3, cv2.LINE_AA, shift=4)
        p = folder / f"toy_{i:04d}.png"
        cv2.imwrite(str(p), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        paths.append(p)
    gt = cam * 1000.0 + np.array([0, 0, 5000.0])
    coll = PoseCollection(skeleton=skel, keypoints_2d=kp2.astype(np.float32), image_paths=paths,
                          keypoints_3d=gt.astype(np.float32), units_3d="mm",
                          image_sizes=np.array([size, size]), source=folder)
    centre, scale = bbox_normalization(coll.keypoints_2d, coll.visibility)
    k = px / scale  # metres → normalised units, per sample
    codes = phi * k[:, None]
    shapes = cam * k[:, None, None]
    kp3 = shapes * scale[:, None, None]
    kp3[..., :2] += centre[:, None, :]
    teacher = NRSfMResult(skeleton=skel, sample_ids=list(coll.sample_ids),
                          keypoints_3d=kp3.astype(np.float32),
                          shapes_normalized=shapes.astype(np.float32),
                          rotations=R.astype(np.float32), codes=codes.astype(np.float32),
                          dictionary=D.astype(np.float32), centre=centre, scale=scale)
    return coll, teacher
