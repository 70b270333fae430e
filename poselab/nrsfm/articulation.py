"""The teacher's 3D on the observed rays, with rigid bones (beyond paper 000).

Deep NRSfM (paper 000 §3) returns a low-rank shape whose projection matches the 2D only up to
the fit's residual, and whose bone lengths drift from sample to sample. Two GT-free steps turn
it into the 3D a user expects:

1. **On the rays.** Every landmark is moved, at the teacher's depth, onto the ray of its observed
   2D (unobserved landmarks keep the teacher's own projection), so ``keypoints_3d`` reprojects
   exactly onto the labels. In the box-unit camera frame of :mod:`poselab.nrsfm.camera`
   (``P = T((t, 1) + σY)``, ``t = r_c + στ``) the landmark j lies on the line

       Y_j(z) = o_j + z u_j,    o_j = (n_j − τ, 0),    u_j = (σ n_j + r_c, 1),

   where z is its depth (weak perspective: σ = 0, r_c = 0, so u = (0, 0, 1)).
2. **Rigid bones** (articulated bodies only). Fixed articulation is one of the classic NRSfM
   constraints that paper 000 §2 lists; Taylor ("Reconstruction of articulated objects from
   point correspondences in a single uncalibrated image", CVIU 2000) solves each bone's depth
   from its known length up to a sign. Here the bone proportions ``p_e`` are estimated from the
   teacher itself (:func:`bone_proportions`), each sample gets the scale ``s`` that best fits its
   bone lengths (median ratio), and the joints are placed along a spanning tree from its centre:
   the child of bone e is the point of its ray at distance ``s p_e`` from its parent, on the side
   (in front of / behind the parent) that the teacher chose. Where the ray passes farther than
   ``s p_e`` from the parent, the closest point of the ray is taken.

Measured (3000-step fits, paper-000 protocol, MPJPE / PA-MPJPE / depth in mm):
h36m17_train35k teacher 96.0 / 70.1 / 81.5 → on the rays 84.8 / 64.2 / 81.2 → rigid bones
56.8 / 44.7 / 55.0; cmu17_train 82.3 / 59.5 / 72.3 → 78.5 / 56.9 / 72.1 → 76.7 / 58.2 / 70.7.
Default fit on h36m17_train35k: 94.6 / 70.6 / 78.2 → 53.9 / 43.0 / 52.3. Classic marker sets
(free bones, the rays only; e3d_akhter): drink 0.0216 → 0.0155, pickup 0.0280 → 0.0263.
With 30 % of the landmarks hidden the teacher's front/back order is wrong more often (17 % of
the clearly out-of-plane bones, against 8 % with all observed) and the gain is small (3000
steps: 123.7 / 89.2 / 99.2 on the rays → 120.6 / 87.8 / 98.0).
"""

from __future__ import annotations

import logging
from collections import deque

import numpy as np

log = logging.getLogger(__name__)

#: Skeleton presets whose edges are rigid bones (human bodies); faces, marker sets and custom
#: skeletons are left free unless asked (``NRSfMConfig.bone_lengths = "rigid"``).
ARTICULATED_SKELETONS = frozenset({"h36m17", "coco17", "lsp14", "mpii16"})

#: Samples per chunk of :func:`refine`, and at most this many samples estimate the proportions.
CHUNK = 16384
PROPORTION_SAMPLES = 50000

#: A bone counts as "seen side-on" when the teacher's depth change along it is below this
#: fraction of its length; such bones give the proportions (their length is mostly 2D).
SIDE_ON = 0.2


def spanning_tree(num_joints: int, bones: np.ndarray) -> list[tuple[int, int, int]]:
    """Bones ordered for placement from the skeleton's centre outwards.

    Args:
        num_joints: J. bones: ``(E, 2)`` joint index pairs (any direction, cycles allowed).

    Returns:
        ``(parent, child, bone index)`` in breadth-first order from the joint that minimises the
        tree depth of its component; bones closing a cycle are left out; one tree per connected
        component.
    """
    adj: list[list[tuple[int, int]]] = [[] for _ in range(num_joints)]
    for e, (a, b) in enumerate(np.asarray(bones, int).tolist()):
        adj[a].append((b, e))
        adj[b].append((a, e))

    def bfs(root: int) -> tuple[list[tuple[int, int, int]], int]:
        seen, order, depth, q = {root}, [], {root: 0}, deque([root])
        while q:
            j = q.popleft()
            for k, e in adj[j]:
                if k not in seen:
                    seen.add(k)
                    depth[k] = depth[j] + 1
                    order.append((j, k, e))
                    q.append(k)
        return order, max(depth.values())

    done: set[int] = set()
    tree: list[tuple[int, int, int]] = []
    for j in range(num_joints):
        if j in done or not adj[j]:
            continue
        members = {j} | {c for _, c, _ in bfs(j)[0]}
        root = min(sorted(members), key=lambda r: bfs(r)[1])
        tree += bfs(root)[0]
        done |= members
    return tree


def on_rays(X: np.ndarray, n: np.ndarray, mask: np.ndarray, tau: np.ndarray,
            sigma: np.ndarray, ray_centre: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Move the teacher's shapes onto the observed rays at their own depth.

    Args:
        X: ``(N, J, 3)`` teacher shapes, camera frame, box units (DESIGN §3), centred.
        n: ``(N, J, 2)`` observed normalised 2D; mask ``(N, J)`` 1 where observed.
        tau: ``(N, 2)`` the fit's 2D offset; sigma ``(N,)`` box side / focal length (0: weak
            perspective); ray_centre ``(N, 2)`` (0: weak perspective) — :func:`camera.project`.

    Returns:
        ``Y (N, J, 3)`` on the rays (same frame and units, ``Y_z = X_z``), and the rays' origins
        ``o (N, J, 3)`` and directions ``u (N, J, 3)`` with ``Y = o + Y_z u``.
    """
    X, n = np.asarray(X, np.float64), np.asarray(n, np.float64)
    sig = np.asarray(sigma, np.float64)[:, None, None]
    rc = np.asarray(ray_centre, np.float64)[:, None, :]
    tau = np.asarray(tau, np.float64)[:, None, :]
    z = X[..., 2:]
    own = (tau + X[..., :2] - rc * z) / np.maximum(1 + sig * z, 0.2)  # the teacher's projection
    n = np.where(np.asarray(mask)[..., None] > 0, n, own)
    o = np.concatenate([n - tau, np.zeros_like(z)], -1)
    u = np.concatenate([sig * n + rc, np.ones_like(z)], -1)
    return o + z * u, o, u


def bone_lengths(Y: np.ndarray, bones: np.ndarray) -> np.ndarray:
    """``(N, E)`` Euclidean bone lengths of shapes ``Y (N, J, 3)``."""
    b = np.asarray(bones, int)
    return np.linalg.norm(Y[:, b[:, 0]] - Y[:, b[:, 1]], axis=-1)


def bone_proportions(Y: np.ndarray, bones: np.ndarray, mirror_pairs: np.ndarray | None = None,
                     iterations: int = 2) -> np.ndarray:
    """The set's bone proportions, estimated from the teacher's own 3D (no ground truth).

    Start from the median over samples of ``L_e / mean_e L_e``; then, with each sample's scale
    ``s`` fitted to those proportions, re-estimate bone e as the median of ``L_e / s`` over the
    samples where the teacher sees it side-on (depth change below :data:`SIDE_ON` of its
    length: its length is then mostly observed 2D, not inferred depth). Mirror bones (left /
    right) share the mean of their two estimates.

    Args:
        Y: ``(N, J, 3)`` shapes on the rays (:func:`on_rays`). bones: ``(E, 2)``.
        mirror_pairs: ``(P, 2)`` indices into ``bones`` of left/right pairs, or None.

    Returns:
        ``(E,)`` float64 proportions with mean 1.
    """
    b = np.asarray(bones, int)
    L = bone_lengths(Y, b)
    dz = np.abs(Y[:, b[:, 0], 2] - Y[:, b[:, 1], 2])
    p = np.median(L / np.maximum(L.mean(1, keepdims=True), 1e-9), 0)
    side_on = dz < SIDE_ON * np.maximum(L, 1e-9)
    for _ in range(iterations):
        s = np.maximum(fit_scale(L, p), 1e-9)
        q = L / s[:, None]
        p = np.array([np.median(q[side_on[:, e], e]) if side_on[:, e].sum() >= 5
                      else np.median(q[:, e]) for e in range(len(b))])
        p = p / max(p.mean(), 1e-9)
    if mirror_pairs is not None and len(mirror_pairs):
        for a, c in np.asarray(mirror_pairs, int):
            p[a] = p[c] = (p[a] + p[c]) / 2
    return p / max(p.mean(), 1e-9)


def fit_scale(L: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Per-sample scale ``s = median_e L_e / p_e`` of lengths ``L (N, E)`` for proportions p.

    The median, not least squares: a few bones whose depth the teacher got wrong would pull
    a least-squares scale (h36m17_train35k, MPJPE / PA-MPJPE / depth after the rigid bones:
    least squares 59.3 / 45.2 / 56.5 mm, median 56.8 / 44.7 / 55.0; cmu17_train 78.3 / 58.8 /
    72.3 and 76.7 / 58.2 / 70.7; the smallest scale every bone's 2D allows: 77.9 / 59.0 / 75.2).
    """
    return np.median(L / np.maximum(np.asarray(p, np.float64), 1e-12), axis=1)


def ray_crossings(P: np.ndarray, o: np.ndarray, u: np.ndarray, length: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Where rays ``o + z u`` meet the spheres of radius ``length`` around ``P``.

    Args:
        P: ``(N, 3)`` sphere centres (a parent joint); o, u: ``(N, 3)`` ray origins and
            directions (:func:`on_rays`); length: ``(N,)`` radii (the bone), same units.

    Returns:
        ``(z_far, z_near)`` ``(N,)`` the ray parameter (the depth, for :func:`on_rays`'s rays)
        of the two crossings; where a ray misses its sphere, both are its point nearest ``P``.
    """
    a = (u * u).sum(1)
    d = P - o
    b = (u * d).sum(1)
    c = (d * d).sum(1) - length ** 2
    root = np.sqrt(np.maximum(b * b - a * c, 0.0))
    return (b + root) / a, (b - root) / a


def rigid_bones(Y: np.ndarray, o: np.ndarray, u: np.ndarray, teacher_z: np.ndarray,
                observed: np.ndarray, bones: np.ndarray, proportions: np.ndarray,
                num_joints: int) -> np.ndarray:
    """Place every joint on its ray so bone e has length ``s · p_e`` (Taylor 2000).

    Args:
        Y: ``(N, J, 3)`` shapes on the rays; o, u: their rays (:func:`on_rays`).
        teacher_z: ``(N, J)`` the teacher's depths (front/back order of each bone).
        observed: ``(N, J)`` 1 where the 2D is observed; an unobserved joint is placed at the
            bone's length from its parent in the direction the teacher gives it (30 % hidden on
            h36m17: 124.7 / 91.3 / 102.5 mm when it was put on its guessed ray, 120.6 / 87.8 /
            98.0 this way).
        bones: ``(E, 2)``; proportions: ``(E,)`` (:func:`bone_proportions`).

    Returns:
        ``(N, J, 3)`` shapes on the same rays (box units, camera frame); joints outside the
        skeleton's trees and tree roots keep their place (so the shape is no longer exactly
        centred: moving it would take it off the perspective rays).
    """
    tree = spanning_tree(num_joints, bones)
    if not tree:
        return Y.copy()
    used = np.array([e for _, _, e in tree])
    s = fit_scale(bone_lengths(Y, np.asarray(bones)[used]), proportions[used])
    out = Y.copy()
    for parent, child, e in tree:
        P, oc, uc = out[:, parent], o[:, child], u[:, child]
        length = s * proportions[e]
        z1, z2 = ray_crossings(P, oc, uc, length)
        want = teacher_z[:, child] - teacher_z[:, parent] + P[:, 2]  # teacher's side
        z = np.where(np.abs(z1 - want) <= np.abs(z2 - want), z1, z2)
        # an unobserved joint has no ray of its own: it keeps the bone's direction in Y
        v = Y[:, child] - Y[:, parent]
        v = v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)
        out[:, child] = np.where(observed[:, child, None] > 0, oc + z[:, None] * uc,
                                 P + length[:, None] * v)
    return out


def rigid_wanted(mode: str, skeleton, warn: bool = True) -> bool:
    """Whether ``NRSfMConfig.bone_lengths`` = ``mode`` makes the bones of ``skeleton`` rigid
    (``"rigid"`` on a skeleton without bones logs a warning, unless ``warn`` is False, and
    leaves the 3D free)."""
    has_bones = len(skeleton.bones_array) > 0
    if warn and mode == "rigid" and not has_bones:
        log.warning("bone_lengths='rigid' but skeleton %r has no bones: the 3D is left free "
                    "(give the skeleton its edges)", skeleton.name)
    if mode == "auto":
        return skeleton.name in ARTICULATED_SKELETONS and has_bones
    return mode == "rigid" and has_bones


def refine(X: np.ndarray, inputs, tau: np.ndarray, skeleton, exact_2d: bool = True,
           bone_mode: str = "auto", proportions: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray | None]:
    """The teacher's output 3D: on the observed rays, then with rigid bones when asked.

    Works in chunks of :data:`CHUNK` samples (float64 work arrays stay small on large sets);
    proportions are estimated from at most :data:`PROPORTION_SAMPLES` evenly spaced samples.

    Args:
        X: ``(N, J, 3)`` teacher shapes, camera frame, box units. inputs:
            :class:`poselab.nrsfm.data.NRSfMInputs`. tau: ``(N, 2)`` the fit's 2D offsets.
        skeleton: the landmarks' skeleton. exact_2d / bone_mode: ``NRSfMConfig.exact_2d`` /
            ``bone_lengths``. proportions: ``(E,)`` bone proportions to impose (e.g. those of
            the fitted set when reconstructing new samples); None = estimate them from X.

    Returns:
        ``(N, J, 3)`` float32 shapes (camera frame, box units) and the ``(E,)`` proportions
        used (None when the bones were left free).
    """
    mask = inputs.mask if exact_2d else np.zeros_like(inputs.mask)
    rigid = rigid_wanted(bone_mode, skeleton)
    bones = skeleton.bones_array

    def rays(sel):
        return on_rays(X[sel], inputs.n[sel], mask[sel], tau[sel], inputs.sigma[sel],
                       inputs.ray_centre[sel])

    N = len(X)
    if rigid and (proportions is None or len(proportions) != len(bones)):
        sub = np.unique(np.linspace(0, N - 1, min(N, PROPORTION_SAMPLES)).astype(int))
        proportions = bone_proportions(rays(sub)[0], bones, skeleton.symmetric_bone_pairs)
    out = np.empty(np.shape(X), np.float32)
    for start in range(0, N, CHUNK):
        sel = slice(start, start + CHUNK)
        Y, o, u = rays(sel)
        if rigid:
            Y = rigid_bones(Y, o, u, np.asarray(X[sel], np.float64)[..., 2], mask[sel], bones,
                            proportions, skeleton.num_joints)
        out[sel] = Y
    return out, (np.asarray(proportions, np.float64) if rigid else None)
