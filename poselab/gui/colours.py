"""Colours of landmarks and bones (no Qt): by side when the skeleton pairs left and right
joints, else one distinct colour per joint, so a skeleton without pairs (custom parts, a YOLO or
DeepLabCut set without names) never draws as identical dots.
"""

from __future__ import annotations

import colorsys

#: Default colours of the sides (RGB 0-255): left blue, right orange, centre green.
SIDE_COLOURS = {"left": (60, 140, 255), "right": (255, 110, 40), "centre": (60, 210, 90)}


def distinct_colours(n: int) -> list[tuple[int, int, int]]:
    """``n`` well-separated RGB colours (golden-ratio hues, alternating lightness)."""
    out = []
    for k in range(n):
        h = (k * 0.618033988749895) % 1.0
        light = 0.55 if k % 2 == 0 else 0.42
        r, g, b = colorsys.hls_to_rgb(h, light, 0.85)
        out.append((int(255 * r), int(255 * g), int(255 * b)))
    return out


def joint_colours(skeleton, side_colours: dict | None = None) -> list[tuple[int, int, int]]:
    """``(J,)`` RGB colour of each joint: by side (``skeleton.sides``) when it has left/right
    pairs, else distinct per joint. ``side_colours`` overrides :data:`SIDE_COLOURS`."""
    sides = {**SIDE_COLOURS, **(side_colours or {})}
    if skeleton.left_right:
        return [tuple(sides[s]) for s in skeleton.sides]
    return distinct_colours(skeleton.num_joints)


def bone_colours(skeleton, side_colours: dict | None = None) -> list[tuple[int, int, int]]:
    """``(E,)`` RGB colour of each bone: its child joint's colour."""
    joints = joint_colours(skeleton, side_colours)
    return [joints[b] for _a, b in skeleton.bones]
