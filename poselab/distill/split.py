"""Held-out samples of a student run (DeepLabCut/SLEAP style validation split).

Which samples the optimiser never sees, decided once per run and saved with it
(``checkpoint["split"]`` and ``split.json`` next to the checkpoint), in this order:

1. the dataset's own split: samples whose ``metadata["per_sample"]["split"]`` is ``val`` or
   ``test`` (Ultralytics, COCO-style folders) are held out — when there are such samples and
   others to train on;
2. ``val_key``: a per-sample metadata key (subject, sequence, video); whole groups are held out,
   picked in a seeded random order until at least ``val_fraction`` of the samples are out;
3. otherwise ``round(val_fraction · N)`` single samples, seeded by ``seed``.

``val_fraction = 0`` holds nothing out. The held-out set depends only on the sample ids, the
metadata and these settings — not on the landmarks or images — so a run with poisoned held-out
samples trains exactly like one without them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from poselab.core.atomic import atomic_write_bytes
from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError, PoselabError

FILENAME = "split.json"
HELD_OUT_NAMES = ("val", "test")


@dataclass(frozen=True)
class Split:
    """A run's train / held-out partition.

    Attributes:
        held_out: ``(N,)`` bool, True for samples the optimiser never sees.
        method: ``"dataset"`` (the data's own split), ``"key:<name>"`` or ``"random"`` or
            ``"none"``.
        settings: the config values that chose it (``val_fraction``, ``val_key``, ``seed``).
    """

    held_out: np.ndarray
    method: str
    settings: dict = field(default_factory=dict)

    @property
    def train_idx(self) -> np.ndarray:
        """``(M,)`` int indices of the training samples, ascending."""
        return np.flatnonzero(~self.held_out)

    @property
    def val_idx(self) -> np.ndarray:
        """``(V,)`` int indices of the held-out samples, ascending."""
        return np.flatnonzero(self.held_out)

    def to_dict(self, sample_ids) -> dict:
        """JSON-ready record: method, settings and the held-out sample ids."""
        return {"method": self.method, "settings": dict(self.settings),
                "val_ids": [str(sample_ids[i]) for i in self.val_idx],
                "num_samples": int(len(self.held_out))}


def make_split(collection: PoseCollection, val_fraction: float, val_key: str = "",
               seed: int = 0) -> Split:
    """Choose the held-out samples of ``collection`` (module doc for the rules).

    Args:
        collection: N samples; only ``sample_ids`` and ``metadata["per_sample"]`` are read.
        val_fraction: share in [0, 1) of samples (or groups) to hold out.
        val_key: per-sample metadata key whose groups are held out whole; "" for none.
        seed: random seed (TrainConfig.seed).

    Returns:
        :class:`Split` with at least one training sample.

    Raises:
        DataError: ``val_key`` is not a per-sample metadata key of the collection, or it has
            a single group (nothing left to train on).
    """
    n = len(collection)
    settings = {"val_fraction": float(val_fraction), "val_key": val_key, "seed": int(seed)}
    none = np.zeros(n, bool)
    if val_fraction <= 0 or n < 2:
        return Split(none, "none", settings)
    per = collection.metadata.get("per_sample", {})
    if "split" in per:
        names = np.char.lower(np.asarray(per["split"], dtype=str))
        held = np.isin(names, HELD_OUT_NAMES)
        if held.any() and not held.all():
            return Split(held, "dataset", settings)
    rng = np.random.default_rng([int(seed), 7919])
    if val_key:
        if val_key not in per:
            have = ", ".join(sorted(per)) or "none"
            raise DataError(collection.source, f"val_key {val_key!r} is not a per-sample "
                                               f"metadata key of the data (have: {have})")
        groups = np.asarray(per[val_key]).astype(str)
        uniq = np.unique(groups)
        if len(uniq) < 2:
            raise DataError(collection.source, f"val_key {val_key!r} has a single group "
                                               f"({uniq[0]!r}); nothing left to train on")
        held = none.copy()
        for g in uniq[rng.permutation(len(uniq))][:-1]:  # keep at least one group to train
            if held.sum() >= val_fraction * n:
                break
            held |= groups == g
        return Split(held, f"key:{val_key}", settings)
    k = min(max(1, int(round(val_fraction * n))), n - 1)
    held = none.copy()
    held[rng.permutation(n)[:k]] = True
    return Split(held, "random", settings)


def check_same_split(saved: dict | None, split: Split, sample_ids, path) -> None:
    """Raise when a resumed run would be scored on another held-out set than it was trained
    with (other ``val_fraction``/``val_key``/``seed`` or other data).

    Raises:
        PoselabError: the saved split differs (names what differs).
    """
    if not saved:
        return
    now = split.to_dict(sample_ids)
    diff = [k for k in ("val_fraction", "val_key", "seed")
            if saved.get("settings", {}).get(k) != now["settings"][k]]
    if diff or list(saved.get("val_ids", [])) != now["val_ids"]:
        what = ", ".join(diff) if diff else "the held-out samples"
        raise PoselabError(f"cannot resume {path}: it was trained with another held-out split "
                           f"({what} differ); resume with the run's own settings or start a "
                           f"new run")


def save_split(path: str | Path, record: dict) -> Path:
    """Write ``record`` (:meth:`Split.to_dict`) as JSON atomically; returns the path."""
    atomic_write_bytes(path, json.dumps(record, indent=1).encode())
    return Path(path)

