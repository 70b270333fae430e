"""GUI edits files (``<stem>.poselab.json``) are used only when they belong to the original.

An edits file is found by name beside an annotation file (:func:`poselab.io.edits_path`), so a
stale or foreign one (copied from another dataset, left behind after the annotation file was
replaced) would silently replace the user's data. :func:`edits_or_original` reads both and
keeps the edits only when they have the original's skeleton (same joint names, in order) and
the same sample ids; otherwise it logs a warning naming both files and returns the original.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError

log = logging.getLogger(__name__)


def edits_mismatch(edits: PoseCollection, original: PoseCollection) -> str | None:
    """Why ``edits`` are not edits of ``original`` (one clause), or None when they match:
    same joint names in the same order and the same set of sample ids."""
    if list(edits.skeleton.joint_names) != list(original.skeleton.joint_names):
        return (f"its skeleton {edits.skeleton.name!r} ({edits.num_joints} joints) is not the "
                f"original's {original.skeleton.name!r} ({original.num_joints} joints)")
    ids_e, ids_o = set(edits.sample_ids), set(original.sample_ids)
    if ids_e != ids_o:
        extra, missing = len(ids_e - ids_o), len(ids_o - ids_e)
        return (f"its {len(ids_e)} samples are not the original's {len(ids_o)} ({extra} not "
                f"in the original, {missing} of the original missing)")
    return None


def edits_or_original(edits_file: Path, original_file: Path,
                      read_original: Callable[[], PoseCollection]) -> PoseCollection:
    """The edits collection when it matches the original, else the original (with a warning).

    Args:
        edits_file: the ``*.poselab.json`` found beside ``original_file``.
        original_file: the annotation file the edits claim to be of (for messages).
        read_original: reads the original (its errors are DataErrors).

    Returns:
        The collection read from ``edits_file`` (``source`` is the edits file), or the
        original when the edits are unreadable or do not match. When the original cannot be
        read (missing, broken), the edits are all there is and are returned.

    Raises:
        DataError: neither can be read (the original's error).
    """
    from poselab.io.coco import read_coco

    try:
        edits = read_coco(edits_file)
    except DataError as err:
        log.warning("ignoring the edits file %s (%s); the original %s is loaded", edits_file,
                    err.problem, original_file)
        return read_original()
    try:
        original = read_original()
    except DataError as err:
        log.warning("cannot read %s to check its edits against it (%s); the edits %s are "
                    "loaded", original_file, err.problem, edits_file)
        return edits
    problem = edits_mismatch(edits, original)
    if problem is not None:
        log.warning("the edits file %s does not belong to %s: %s. The original is loaded; "
                    "move or delete the edits file to silence this", edits_file,
                    original_file, problem)
        return original
    return edits
