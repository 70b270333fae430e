"""Data model shared by every poselab package (no Qt, no torch)."""

from poselab.core.collection import PoseCollection
from poselab.core.errors import Cancelled, DataError, PoselabError
from poselab.core.progress import CancelToken, EtaClock, Progress, drain
from poselab.core.skeleton import Skeleton
from poselab.core.skeletons import BUILTIN, get_skeleton

__all__ = [
    "BUILTIN", "CancelToken", "Cancelled", "DataError", "EtaClock", "PoseCollection",
    "PoselabError", "Progress", "Skeleton", "drain", "get_skeleton",
]
