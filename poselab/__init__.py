"""poselab: 2D landmarks to 3D poses with a Deep NRSfM teacher and distilled image students."""

__version__ = "0.1.0"
