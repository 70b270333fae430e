"""Render one person from 3D joints and a camera: the mannequin renderer of ``poselab.synth``.

Pipeline for one sample:

1. Project the joints with the given intrinsics ``K`` (pinhole, ``u = K X / z``) and take the
   square crop of DESIGN.md §3 (side = 1.2 × the larger side of the 2D joint box, centred on
   it), resized to ``size`` pixels. The crop is folded into the intrinsics, ``K_crop = A K``
   with ``A`` the crop's affine map, so projecting ``keypoints_3d`` with ``K_crop`` gives the
   stored 2D landmarks exactly, and the image is rendered directly at ``size`` pixels.
2. Build the mannequin (:mod:`poselab.synth.body`) and ray-cast it per pixel
   (:mod:`poselab.synth.raster`): exact depth, normals and a z-buffer.
3. Shade (Lambert + ambient, light fixed relative to the camera), composite over a random
   background, blur mildly and add noise (:mod:`poselab.synth.appearance`).
4. Visibility by the occlusion test: a joint is 1 (occluded) when a body part other than the
   joint's own surface is hit, along the ray through the joint's projection, nearer than the
   joint's depth minus the joint's limb radius; otherwise 2 (visible).

Depth reaches the image only through physics — shading, occlusion and perspective size. No
colour codes depth, and no colour codes left or right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from poselab.core.camera import project_perspective
from poselab.core.errors import DataError
from poselab.core.normalize import CROP_MARGIN
from poselab.core.skeleton import Skeleton
from poselab.synth.appearance import Palette, camera_effects, random_background, shade
from poselab.synth.body import HEAD, Build, build_body
from poselab.synth.raster import nearest_hits, raycast, round_cone_sdf


@dataclass(frozen=True)
class RenderedPose:
    """One rendered sample.

    Attributes:
        image: ``(size, size, 3)`` uint8 RGB.
        keypoints_2d: ``(J, 2)`` float32 pixels in the image (= projection of the 3D joints
            with ``intrinsics``).
        visibility: ``(J,)`` uint8, 1 occluded by a nearer body part, 2 visible (COCO).
        intrinsics: ``(3, 3)`` float32 pixel intrinsics of the crop.
    """

    image: np.ndarray
    keypoints_2d: np.ndarray
    visibility: np.ndarray
    intrinsics: np.ndarray


def crop_intrinsics(keypoints_3d: np.ndarray, K: np.ndarray, size: int,
                    margin: float = CROP_MARGIN) -> np.ndarray:
    """Intrinsics of the square person crop (DESIGN.md §3), resized to ``size`` pixels.

    Args:
        keypoints_3d: ``(J, 3)`` camera frame, z > 0. K: ``(3, 3)`` pixel intrinsics.

    Returns:
        ``(3, 3)`` float32 ``A @ K`` with ``A`` mapping original pixels to crop pixels:
        ``u' = (u − x0) · size / side``, side = ``margin`` × larger side of the joint box.

    Raises:
        DataError: a joint at or behind the camera plane, or all joints projecting to one point.
    """
    X = np.asarray(keypoints_3d, np.float64)
    if not np.isfinite(X).all() or (X[:, 2] <= 1e-6).any():
        raise DataError(None, "every joint must be finite and in front of the camera (z > 0)")
    uv = project_perspective(X, np.asarray(K, np.float64))
    lo, hi = uv.min(0), uv.max(0)
    side = margin * float((hi - lo).max())
    if side <= 1e-9:
        raise DataError(None, "all joints project to one point; cannot crop")
    centre = (lo + hi) / 2
    s = size / side
    x0, y0 = centre - side / 2
    A = np.array([[s, 0, -x0 * s], [0, s, -y0 * s], [0, 0, 1]])
    return (A @ np.asarray(K, np.float64)).astype(np.float32)


def occlusion_visibility(keypoints_3d: np.ndarray, keypoints_2d: np.ndarray, K: np.ndarray,
                         body) -> np.ndarray:
    """COCO visibility from the occlusion test.

    Casts the ray through each joint's projection against every body part farther than
    ``r_joint`` from the joint (``r_joint`` = the radius of the joint's own limb; nearer parts
    are the joint's own surface); the joint is occluded (1) when such a part is hit at a depth
    smaller than ``z_joint − r_joint``, else visible (2).

    Args:
        keypoints_3d: ``(J, 3)`` camera frame. keypoints_2d: ``(J, 2)`` pixels. K: ``(3, 3)``.
        body: the :class:`poselab.synth.body.Body` of the pose.

    Returns:
        ``(J,)`` uint8 in {1, 2}.
    """
    X = np.asarray(keypoints_3d, np.float64)
    J = X.shape[0]
    pix = np.concatenate([np.asarray(keypoints_2d, np.float64), np.ones((J, 1))], axis=1)
    rays = pix @ np.linalg.inv(np.asarray(K, np.float64)).T
    rays /= np.linalg.norm(rays, axis=1, keepdims=True)
    parts = body.parts
    # Parts within one limb radius of the joint are its own surface (the limb, or the torso
    # around a hip or shoulder), never an occluder.
    sdf = round_cone_sdf(X, body.a, body.b, body.ra, body.rb)
    own = sdf <= body.joint_radius[:, None]
    z_hit = nearest_hits(rays, parts, exclude=own)
    occluded = z_hit < X[:, 2] - body.joint_radius
    return np.where(occluded, 1, 2).astype(np.uint8)


def render_pose(keypoints_3d: np.ndarray, K: np.ndarray, skeleton: Skeleton, size: int = 256,
                rng: np.random.Generator | None = None, seed: int | None = None) -> RenderedPose:
    """Render a person in the pose ``keypoints_3d`` seen by camera ``K``, cropped around it.

    Depth reaches the image only through physics (Lambert shading with a light fixed
    relative to the camera, z-buffered occlusion, perspective size); no colour codes depth or
    left/right. The same ``seed`` (or generator state) gives the same image.

    Args:
        keypoints_3d: ``(J, 3)`` joints, camera frame (x right, y down, z forward), mm for
            h36m17 poses (part sizes follow the median bone length, so any unit renders).
        K: ``(3, 3)`` intrinsics of the original camera, pixels.
        skeleton: the joints' skeleton (``h36m17`` gets the full mannequin).
        size: output side in pixels.
        rng: random generator for appearance; else ``numpy.random.default_rng(seed)``.

    Returns:
        :class:`RenderedPose` with the image, 2D landmarks, visibility and crop intrinsics.

    Raises:
        DataError: wrong shapes, a joint behind the camera, or a degenerate pose.
    """
    X32 = np.asarray(keypoints_3d, np.float32)
    J = skeleton.num_joints
    if X32.shape != (J, 3):
        raise DataError(None, f"keypoints_3d must have shape ({J}, 3), got {X32.shape}")
    if np.asarray(K).shape != (3, 3):
        raise DataError(None, f"intrinsics must have shape (3, 3), got {np.asarray(K).shape}")
    if size < 8:
        raise DataError(None, f"image size must be at least 8 px, got {size}")
    rng = rng if rng is not None else np.random.default_rng(seed)
    X = X32.astype(np.float64)
    Kc = crop_intrinsics(X, K, size)
    kp2d = project_perspective(X, Kc.astype(np.float64)).astype(np.float32)
    body = build_body(X, skeleton, Build.random(rng))
    palette = Palette.random(rng)
    background = random_background(rng, size)
    depth, normal, index = raycast(body.parts, Kc.astype(np.float64), size, size)
    colour = shade(normal, index, body.material, palette, body.forward, body.up, HEAD)
    fg = (index >= 0)[..., None]
    img = np.where(fg, colour, background.astype(np.float32))
    image = camera_effects(img, rng)
    vis = occlusion_visibility(X, kp2d, Kc, body)
    return RenderedPose(image, kp2d, vis, Kc)
