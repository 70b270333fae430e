"""The mannequin: body parts as round cones built from 3D joints.

For the H3.6M 17-joint skeleton (``h36m17``) the body has tapered limbs, hands and feet, a solid
torso (pelvis, waist, chest and shoulder cones), a neck and a head. Any other skeleton with bones
gets one tapered capsule per bone and a sphere per joint, sized from its median bone length, so
it renders in any unit.

Each part carries a *material*: skin, top (shirt), bottom (trousers), shoes or head. Materials
are the same on both sides of the body: nothing in the appearance codes left/right or depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from poselab.core.skeleton import Skeleton

SKIN, TOP, BOTTOM, SHOES, HEAD = range(5)
MATERIALS = ("skin", "top", "bottom", "shoes", "head")

# Reference median bone length of h36m17 (S1 bone lengths, as in the mocap17 data), mm.
_H36M_REF_BONE = 203.0


@dataclass(frozen=True)
class Body:
    """Round-cone parts of one posed body, camera frame.

    Attributes:
        a, b: ``(P, 3)`` float64 end-sphere centres (same unit as the joints, e.g. mm).
        ra, rb: ``(P,)`` float64 end-sphere radii.
        material: ``(P,)`` int material index (:data:`MATERIALS`).
        joint_radius: ``(J,)`` float64 radius of the thickest part that ends at each joint
            (the visibility tolerance).
        forward: ``(3,)`` unit vector the body faces (for hair vs face on the head), or zeros.
        up: ``(3,)`` unit vector from the face to the top of the head, or zeros.
    """

    a: np.ndarray
    b: np.ndarray
    ra: np.ndarray
    rb: np.ndarray
    material: np.ndarray
    joint_radius: np.ndarray
    forward: np.ndarray
    up: np.ndarray

    @property
    def parts(self) -> list[tuple[np.ndarray, np.ndarray, float, float]]:
        """The parts as ``(a, b, ra, rb)`` tuples for :func:`poselab.synth.raster.raycast`."""
        return [(self.a[i], self.b[i], float(self.ra[i]), float(self.rb[i]))
                for i in range(len(self.ra))]


@dataclass(frozen=True)
class Build:
    """Per-sample body proportions: limb thickness, torso width, sleeves and trouser length.

    Attributes:
        thickness: multiplies every radius (about 0.85–1.2).
        torso: extra multiplier of the torso radii.
        long_sleeves: forearms wear the top's material (else skin).
        long_trousers: shins wear the bottom's material (else skin).
    """

    thickness: float = 1.0
    torso: float = 1.0
    long_sleeves: bool = True
    long_trousers: bool = True

    @classmethod
    def random(cls, rng: np.random.Generator) -> Build:
        return cls(float(rng.uniform(0.85, 1.2)), float(rng.uniform(0.9, 1.15)),
                   bool(rng.random() < 0.6), bool(rng.random() < 0.8))


def _unit(v: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else fallback


def _h36m_body(X: np.ndarray, build: Build) -> Body:
    """Parts of an h36m17 pose ``X`` ``(17, 3)`` (radii in mm scaled by the pose's size)."""
    bones = H36M_BONES
    med = float(np.median(np.linalg.norm(X[bones[:, 1]] - X[bones[:, 0]], axis=1)))
    s = (med / _H36M_REF_BONE if med > 0 else 1.0) * build.thickness
    st = s * build.torso
    (hip, rhip, rknee, rfoot, lhip, lknee, lfoot, spine, thorax, nose, head,
     lsho, lelb, lwri, rsho, relb, rwri) = X
    up = _unit(thorax - hip, np.array([0.0, -1.0, 0.0]))
    left = _unit(lsho - rsho, np.array([1.0, 0.0, 0.0]))
    fwd = _unit(np.cross(left, up), np.array([0.0, 0.0, -1.0]))
    parts: list[tuple] = []

    def add(a, b, ra, rb, mat):
        parts.append((np.asarray(a, float), np.asarray(b, float), ra, rb, mat))

    sleeve = TOP if build.long_sleeves else SKIN
    trouser = BOTTOM if build.long_trousers else SKIN
    # Torso: pelvis, belly, chest, waist sides, shoulders.
    chest_l = thorax + 0.5 * (lsho - thorax) - 15 * s * up
    chest_r = thorax + 0.5 * (rsho - thorax) - 15 * s * up
    waist_l = spine + 0.45 * (lhip - hip)
    waist_r = spine + 0.45 * (rhip - hip)
    add(lhip, rhip, 88 * st, 88 * st, BOTTOM)
    add(hip, spine, 100 * st, 100 * st, TOP)
    add(spine, thorax, 100 * st, 95 * st, TOP)
    add(chest_l, chest_r, 92 * st, 92 * st, TOP)
    add(waist_l, chest_l, 80 * st, 88 * st, TOP)
    add(waist_r, chest_r, 80 * st, 88 * st, TOP)
    add(lhip, waist_l, 85 * st, 80 * st, BOTTOM)
    add(rhip, waist_r, 85 * st, 80 * st, BOTTOM)
    add(lsho, chest_l, 58 * s, 80 * st, TOP)
    add(rsho, chest_r, 58 * s, 80 * st, TOP)
    # Neck and head (the h36m "Neck/Nose" joint is the nose, "Head" the top of the head).
    hu = _unit(head - nose, up)
    head_c = 0.5 * (nose + head) - 38 * s * fwd - 10 * s * hu
    add(thorax, head_c - 40 * s * hu, 52 * s, 48 * s, SKIN)
    add(head_c - 45 * s * hu, head_c + 20 * s * hu, 72 * s, 86 * s, HEAD)
    # Arms and hands.
    for sho, elb, wri in ((lsho, lelb, lwri), (rsho, relb, rwri)):
        add(sho, elb, 50 * s, 40 * s, TOP)
        add(elb, wri, 40 * s, 29 * s, sleeve)
        hand_dir = _unit(wri - elb, up)
        add(wri, wri + 70 * s * hand_dir, 31 * s, 34 * s, SKIN)
    # Legs and feet.
    for hp, kn, ft in ((lhip, lknee, lfoot), (rhip, rknee, rfoot)):
        add(hp, kn, 82 * s, 56 * s, BOTTOM)
        add(kn, ft, 55 * s, 40 * s, trouser)
        shin = _unit(ft - kn, -up)
        toe_dir = _unit(fwd - (fwd @ shin) * shin, fwd)
        add(ft, ft + 150 * s * toe_dir + 25 * s * shin, 42 * s, 36 * s, SHOES)
    a, b, ra, rb, mat = (np.array(c) for c in zip(*parts, strict=True))
    joint_radius = np.zeros(17)
    for i in range(len(ra)):
        for end, r in ((a[i], ra[i]), (b[i], rb[i])):
            hitj = np.linalg.norm(X - end, axis=1) < 1e-6
            joint_radius[hitj] = np.maximum(joint_radius[hitj], r)
    return Body(a, b, ra.astype(float), rb.astype(float), mat.astype(int), joint_radius, fwd, hu)


def _generic_body(X: np.ndarray, skeleton: Skeleton, build: Build) -> Body:
    """One tapered capsule per bone and a sphere per joint, sized from the median bone."""
    bones = skeleton.bones_array
    J = skeleton.num_joints
    if len(bones):
        med = float(np.median(np.linalg.norm(X[bones[:, 1]] - X[bones[:, 0]], axis=1)))
    else:
        med = 0.0
    if med <= 0:
        span = np.ptp(X, axis=0).max() if J > 1 else 1.0
        med = float(span) / 4 if span > 0 else 1.0
    r = 0.14 * med * build.thickness
    a = [X[p] for p, _ in bones] + [X[j] for j in range(J)]
    b = [X[c] for _, c in bones] + [X[j] for j in range(J)]
    ra = [r] * len(bones) + [1.05 * r] * J
    rb = [0.8 * r] * len(bones) + [1.05 * r] * J
    mat = [TOP] * len(bones) + [SKIN] * J
    return Body(np.array(a, float).reshape(-1, 3), np.array(b, float).reshape(-1, 3),
                np.array(ra, float), np.array(rb, float), np.array(mat, int),
                np.full(J, 1.05 * r), np.zeros(3), np.zeros(3))


H36M_BONES = np.array([(0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6), (0, 7), (7, 8), (8, 9),
                       (9, 10), (8, 11), (11, 12), (12, 13), (8, 14), (14, 15), (15, 16)])


def build_body(keypoints_3d: np.ndarray, skeleton: Skeleton, build: Build | None = None) -> Body:
    """The mannequin's parts for one pose.

    Args:
        keypoints_3d: ``(J, 3)`` joints, camera frame (x right, y down, z forward), any length
            unit (mm for mocap); the part sizes follow the pose's median bone length.
        skeleton: the joints' skeleton; ``h36m17`` gets the full body, others capsules.
        build: proportions and clothing cut; default :class:`Build()`.

    Returns:
        :class:`Body` in the same frame and unit.
    """
    X = np.asarray(keypoints_3d, np.float64)
    build = build or Build()
    if skeleton.name == "h36m17" and X.shape == (17, 3):
        return _h36m_body(X, build)
    return _generic_body(X, skeleton, build)
