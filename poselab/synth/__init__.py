"""Mannequin renderer: image collections with known 3D from mocap poses (issue 4).

``render_pose`` renders one person from 3D joints and a camera; ``render_collection`` writes an
ordinary image collection (JPEG + COCO keypoints JSON + 3D sidecar); :mod:`poselab.synth.demo`
builds the bundled demo collection. Depth reaches the images only through physics (shading,
occlusion, perspective size). No Qt, no torch.
"""

from poselab.synth.render import RenderedPose, crop_intrinsics, render_pose

__all__ = ["RenderedPose", "crop_intrinsics", "render_pose"]
