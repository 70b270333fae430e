"""Skeletons for files that only name their landmarks: built-in when the names match.

Annotation files carry joint names (COCO ``keypoints``, DeepLabCut ``bodyparts``, mocap17
``joint_names``) and sometimes edges. When the names equal a built-in skeleton's (same order,
case and ``-``/``_``/space ignored) the built-in is used, so left/right pairs come for free;
otherwise a generic skeleton is built and left/right pairs are guessed from the names
(``left_*``/``right_*``, ``L*``/``R*``, ``*_l``/``*_r``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from poselab.core.skeleton import Skeleton
from poselab.core.skeletons import BUILTIN


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-/]+", "", name.lower())


def builtin_for(names: Sequence[str]) -> Skeleton | None:
    """The built-in skeleton whose joint names equal ``names`` (same order), or None."""
    key = [_norm(n) for n in names]
    for sk in BUILTIN.values():
        if len(sk.joint_names) == len(key) and [_norm(n) for n in sk.joint_names] == key:
            return sk
    return None


def _mirror_candidates(name: str) -> list[str]:
    out = []
    low = name.lower()
    for a, b in (("left", "right"), ("right", "left")):
        if a in low:
            i = low.index(a)
            repl = b if name[i].islower() else (b.capitalize() if name[i].isupper() and
                                                 not name[i + 1:i + 2].isupper() else b.upper())
            out.append(name[:i] + repl + name[i + len(a):])
    if len(name) > 1 and name[0] in "LR" and (name[1].isupper() or name[1] in "_-"):
        out.append(("R" if name[0] == "L" else "L") + name[1:])
    if len(name) > 1 and name[0] in "lr" and name[1] in "_-":
        out.append(("r" if name[0] == "l" else "l") + name[1:])
    m = re.match(r"^(.*[_\-])([lrLR])$", name)
    if m:
        flip = {"l": "r", "r": "l", "L": "R", "R": "L"}[m.group(2)]
        out.append(m.group(1) + flip)
    return out


def _is_left(name: str) -> bool:
    low = name.lower()
    if "left" in low:
        return True
    if "right" in low:
        return False
    if re.search(r"[_\-][lLrR]$", name):
        return name[-1] in "lL"
    return name[0] in "lL"


def guess_left_right(names: Sequence[str]) -> tuple[tuple[int, int], ...]:
    """Pairs ``(left, right)`` of joints whose names mirror each other.

    Examples: ``left_knee``/``right_knee``, ``LShoulder``/``RShoulder``, ``hip_l``/``hip_r``.
    Each joint is used at most once; unmatched names are centre joints.
    """
    index = {n: i for i, n in enumerate(names)}
    used: set[int] = set()
    pairs = []
    for i, n in enumerate(names):
        if i in used:
            continue
        for cand in _mirror_candidates(n):
            j = index.get(cand)
            if j is not None and j != i and j not in used:
                pairs.append((i, j) if _is_left(n) else (j, i))
                used.update((i, j))
                break
    return tuple(pairs)


def skeleton_from_names(names: Sequence[str], edges: Iterable[Sequence[int]] = (),
                        name: str = "generic") -> Skeleton:
    """A built-in skeleton when ``names`` match one, else a generic one.

    Args:
        names: ``(J,)`` landmark names in file order.
        edges: ``(E, 2)`` 0-based joint index pairs (used only for a generic skeleton).
        name: the generic skeleton's name.

    Raises:
        DataError: repeated names or invalid edges.
    """
    sk = builtin_for(names)
    if sk is not None:
        return sk
    return Skeleton(name, tuple(str(n) for n in names), tuple(tuple(e) for e in edges),
                    guess_left_right([str(n) for n in names]))
