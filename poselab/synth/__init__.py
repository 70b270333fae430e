"""Mannequin renderer: image collections with known 3D from mocap poses (issue 4).

- :func:`render_pose`: one person from 3D joints (mm, camera frame) and intrinsics, cropped
  around the person (DESIGN.md §3), with visibility from the occlusion test.
- :func:`render_collection`: a generator writing an ordinary image collection (JPEG + COCO
  keypoints JSON + ``.3d.npz`` sidecar) that :func:`poselab.io.open_folder` reads.
- :func:`ensure_demo` / :func:`demo_2d_only` / :func:`ensure_demo_2d`: the bundled demo.

Depth reaches the images only through physics (shading, occlusion, perspective size), never
through colour. No Qt, no torch.
"""

from poselab.synth.collection import render_collection
from poselab.synth.demo import demo_2d_only, ensure_demo, ensure_demo_2d
from poselab.synth.render import RenderedPose, crop_intrinsics, render_pose

__all__ = ["RenderedPose", "crop_intrinsics", "demo_2d_only", "ensure_demo", "ensure_demo_2d",
           "render_collection", "render_pose"]
