"""Skeletons: joint names, bones, left/right pairs (DESIGN.md §2).

A :class:`Skeleton` is immutable and knows how to flip itself (the joint permutation that swaps
left and right) and which bones mirror each other (for the bone-symmetry loss of paper 001,
Eq. 8). Built-ins live in :mod:`poselab.core.skeletons`; any skeleton round-trips through JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from poselab.core.errors import DataError


@dataclass(frozen=True)
class Skeleton:
    """A landmark skeleton.

    Attributes:
        name: identifier, e.g. ``"h36m17"``.
        joint_names: ``(J,)`` joint names.
        bones: ``(E,)`` pairs ``(parent, child)`` of 0-based joint indices.
        left_right: pairs ``(left, right)`` of joint indices that mirror each other.
        colors: optional ``(J,)`` side labels ``"left" | "right" | "centre"`` derived from
            ``left_right`` (used to colour landmarks).

    Raises:
        DataError: on duplicate names, out-of-range or self-loop bones, or a joint paired twice.
    """

    name: str
    joint_names: tuple[str, ...]
    bones: tuple[tuple[int, int], ...] = ()
    left_right: tuple[tuple[int, int], ...] = ()
    sides: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = tuple(str(n) for n in self.joint_names)
        bones = tuple((int(a), int(b)) for a, b in self.bones)
        pairs = tuple((int(a), int(b)) for a, b in self.left_right)
        object.__setattr__(self, "joint_names", names)
        object.__setattr__(self, "bones", bones)
        object.__setattr__(self, "left_right", pairs)
        J = len(names)
        if J == 0:
            raise DataError(None, f"skeleton {self.name!r} has no joints")
        if len(set(names)) != J:
            dup = sorted({n for n in names if names.count(n) > 1})
            raise DataError(None, f"skeleton {self.name!r} repeats joint names {dup}")
        for a, b in bones:
            if not (0 <= a < J and 0 <= b < J) or a == b:
                raise DataError(None, f"skeleton {self.name!r}: bone ({a}, {b}) is not "
                                      f"valid for {J} joints")
        seen: set[int] = set()
        for a, b in pairs:
            if not (0 <= a < J and 0 <= b < J) or a == b or a in seen or b in seen:
                raise DataError(None, f"skeleton {self.name!r}: left/right pair "
                                      f"({a}, {b}) is not valid")
            seen.update((a, b))
        sides = ["centre"] * J
        for a, b in pairs:
            sides[a], sides[b] = "left", "right"
        object.__setattr__(self, "sides", tuple(sides))

    # ------------------------------------------------------------------ properties
    @property
    def num_joints(self) -> int:
        """J, the number of joints."""
        return len(self.joint_names)

    @property
    def bones_array(self) -> np.ndarray:
        """``(E, 2)`` int64 array of ``(parent, child)`` joint indices."""
        return np.asarray(self.bones, dtype=np.int64).reshape(-1, 2)

    @property
    def flip_permutation(self) -> np.ndarray:
        """``(J,)`` int64 permutation: joint ``i`` of a mirrored image is joint ``perm[i]``.

        Apply as ``keypoints[..., perm, :]`` after negating x to mirror a pose.
        """
        perm = np.arange(self.num_joints)
        for a, b in self.left_right:
            perm[a], perm[b] = b, a
        return perm

    @property
    def symmetric_bone_pairs(self) -> np.ndarray:
        """``(P, 2)`` int64 pairs of bone indices that mirror each other (paper 001, Eq. 8).

        Bone ``e`` pairs with the bone joining the mirrored joints; self-symmetric bones
        (e.g. spine) are left out.
        """
        perm = self.flip_permutation
        index = {frozenset(b): e for e, b in enumerate(self.bones)}
        pairs = []
        for e, (a, b) in enumerate(self.bones):
            m = index.get(frozenset((int(perm[a]), int(perm[b]))))
            if m is not None and m > e:
                pairs.append((e, m))
        return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)

    def index(self, joint: str) -> int:
        """Index of a joint by name.

        Raises:
            KeyError: when the skeleton has no joint of that name.
        """
        try:
            return self.joint_names.index(joint)
        except ValueError:
            raise KeyError(f"skeleton {self.name!r} has no joint {joint!r}") from None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_edges(
        cls,
        edges: Iterable[Sequence[int]],
        num_joints: int | None = None,
        joint_names: Sequence[str] | None = None,
        name: str = "generic",
        left_right: Iterable[Sequence[int]] = (),
    ) -> Skeleton:
        """A generic skeleton from an edge list (e.g. the ``edges`` of a classic NRSfM file).

        Args:
            edges: ``(E, 2)`` 0-based joint index pairs.
            num_joints: J; defaults to ``max(edges) + 1`` or ``len(joint_names)``.
            joint_names: names; defaults to ``"joint_0" … "joint_{J-1}"``.
        """
        edge_list = [(int(a), int(b)) for a, b in edges]
        if num_joints is None:
            if joint_names is not None:
                num_joints = len(joint_names)
            else:
                num_joints = 1 + max((max(e) for e in edge_list), default=-1)
        names = tuple(joint_names) if joint_names is not None else tuple(
            f"joint_{i}" for i in range(num_joints)
        )
        return cls(name, names, tuple(edge_list), tuple(tuple(p) for p in left_right))

    @classmethod
    def from_parents(cls, parents: Sequence[int], joint_names: Sequence[str], name: str,
                     left_right: Iterable[Sequence[int]] = ()) -> Skeleton:
        """A skeleton from a parent list (``-1`` for the root), as in the mocap17 files."""
        bones = tuple((int(p), i) for i, p in enumerate(parents) if int(p) >= 0)
        return cls(name, tuple(joint_names), bones, tuple(tuple(p) for p in left_right))

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        """JSON-ready dict: ``name``, ``joint_names``, ``bones``, ``left_right``."""
        return {
            "name": self.name,
            "joint_names": list(self.joint_names),
            "bones": [list(b) for b in self.bones],
            "left_right": [list(p) for p in self.left_right],
        }

    @classmethod
    def from_dict(cls, data: dict, path: str | Path | None = None) -> Skeleton:
        """Inverse of :meth:`to_dict`.

        Raises:
            DataError: when a key is missing or has the wrong type (names ``path``).
        """
        try:
            return cls(
                str(data.get("name", "custom")),
                tuple(data["joint_names"]),
                tuple(tuple(b) for b in data.get("bones", [])),
                tuple(tuple(p) for p in data.get("left_right", [])),
            )
        except DataError as err:
            raise DataError(path, err.problem) from None
        except (KeyError, TypeError, ValueError) as err:
            raise DataError(path, f"not a skeleton description ({err!r})") from None

    def save(self, path: str | Path) -> None:
        """Write the skeleton as JSON, atomically."""
        from poselab.core.atomic import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, path: str | Path) -> Skeleton:
        """Read a skeleton JSON file.

        Raises:
            DataError: unreadable file or not a skeleton description.
        """
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise DataError(path, f"cannot read skeleton JSON ({err})") from None
        if not isinstance(data, dict):
            raise DataError(path, "a skeleton JSON must be an object with 'joint_names'")
        return cls.from_dict(data, path)
