"""Where the parts of an Ultralytics YOLO pose dataset are: its yaml, root, splits, images and
label files (read by :mod:`poselab.io.yolo`).

Layouts (Ultralytics docs, "Pose estimation datasets"):

* a dataset yaml (any name, e.g. ``coco8-pose.yaml``) with ``kpt_shape: [J, 2|3]``, optional
  ``kpt_names`` (a list, or ``{class: list}``; sleap-io writes ``node_names``), ``flip_idx``
  (left/right pairs) and ``skeleton`` (bones as index pairs, written by sleap-io), ``path``
  (the dataset root, relative to the yaml; when that folder does not exist, the yaml's own
  folder — as datasets are shipped with ``path: ../datasets/<name>``) and
  ``train``/``val``/``test`` (folders of images relative to the root, lists of them, or
  ``.txt`` files listing images);
* without a yaml: ``<root>/images/{train,val,test}`` + ``<root>/labels/{...}``,
  ``<root>/{train,val,test}/{images,labels}``, or a flat ``<root>/images`` + ``<root>/labels``.

Opening the dataset root, the yaml, a split folder (``train/``, ``images/train``) or a
``labels/`` folder all work; the yaml is looked for in the folder and its two parents.

Labels: one text file per image at the image's path with the last ``images`` folder replaced
by ``labels`` and the suffix by ``.txt`` (Ultralytics ``img2label_paths``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from poselab.core.errors import DataError
from poselab.io.images import IMAGE_SUFFIXES, find_images
from poselab.io.yaml_file import read_yaml

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "valid", "test")
_YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class YoloLayout:
    """Where a YOLO dataset's parts are.

    Attributes:
        root: the dataset root. yaml: its dataset yaml, or None. config: the yaml's mapping.
        splits: ``[(split name, [image folders or .txt lists])]`` in reading order ("" for a
            flat ``images/`` folder). split: the split the opened path selects, or None.
    """

    root: Path
    yaml: Path | None = None
    config: dict = field(default_factory=dict)
    splits: list[tuple[str, list[Path]]] = field(default_factory=list)
    split: str | None = None

    @property
    def source(self) -> Path:
        """The file (yaml) or folder the collection is read from (names its edits file)."""
        if self.yaml is not None:
            return self.yaml
        if (self.root / "labels").is_dir():
            return self.root / "labels"
        return self.root


def _pose_yaml(path: Path) -> dict | None:
    """The yaml's mapping when it is an Ultralytics pose dataset yaml (has kpt_shape)."""
    try:
        head = path.read_bytes()[:65536]
    except OSError:
        return None
    if b"kpt_shape" not in head:
        return None
    cfg = read_yaml(path)
    return cfg if "kpt_shape" in cfg else None


def _yaml_near(folder: Path) -> tuple[Path, dict] | None:
    """A pose dataset yaml in ``folder`` or its two parents (nearest first). In the folder
    itself ``data.yaml``/``dataset.yaml`` wins and two other yamls are an error; in a parent
    only a yaml whose dataset root holds the folder counts (a ``datasets/`` folder may hold
    the yamls of several datasets)."""
    here = folder.resolve()
    for d in (folder, folder.parent, folder.parent.parent):
        try:
            files = sorted(p for p in d.iterdir()
                           if p.suffix.lower() in _YAML_SUFFIXES and p.is_file())
        except OSError:
            continue
        found = [(p, cfg) for p in files if (cfg := _pose_yaml(p)) is not None]
        if d is not folder:
            found = [(p, cfg) for p, cfg in found
                     if here.is_relative_to(_resolve_yaml(p, cfg)[0].resolve())]
        if len(found) > 1:
            named = [f for f in found if f[0].stem.lower() in ("data", "dataset")]
            if len(named) != 1:
                raise DataError(d, f"{len(found)} YOLO dataset yamls ("
                                   f"{', '.join(p.name for p, _ in found)}); open one directly")
            found = named
        if found:
            return found[0]
    return None


def _has_pairs(d: Path) -> bool:
    return (d / "images").is_dir() and (d / "labels").is_dir()


def _structural(root: Path) -> list[tuple[str, list[Path]]]:
    """Splits of a dataset without a yaml (see the module docstring)."""
    splits = [(s, [root / s / "images"]) for s in SPLITS if _has_pairs(root / s)]
    if splits:
        return splits
    if _has_pairs(root):
        subs = [(s, [root / "images" / s]) for s in SPLITS
                if (root / "images" / s).is_dir() and (root / "labels" / s).is_dir()]
        return subs or [("", [root / "images"])]
    return []


def _resolve_yaml(yaml: Path, cfg: dict) -> tuple[Path, list[tuple[str, list[Path]]]]:
    base = yaml.parent
    root = base
    if cfg.get("path"):
        p = Path(str(cfg["path"]))
        p = Path(os.path.normpath(p if p.is_absolute() else base / p))
        root = p if p.is_dir() else base
    splits = []
    for key in ("train", "val", "test"):
        value = cfg.get(key)
        if not value:
            continue
        entries = value if isinstance(value, list) else [value]
        dirs = []
        for e in entries:
            e = Path(str(e))
            cands = [e] if e.is_absolute() else [Path(os.path.normpath(b / e))
                                                  for b in (root, base)]
            hit = next((c for c in cands if c.exists()), None)
            if hit is None:
                log.warning("%s: %s folder %s not found; split skipped", yaml, key, e)
                continue
            dirs.append(hit)
        if dirs:
            splits.append((key, dirs))
    if not splits:  # yaml without usable split entries: the folders beside it
        splits = _structural(root)
    return root, splits


def find_yolo(path: str | Path) -> YoloLayout | None:
    """The YOLO layout that ``path`` (a dataset root, yaml, split or labels folder) belongs to,
    or None when it is not one.

    Raises:
        DataError: an unreadable yaml, or two pose yamls in one folder.
    """
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() not in _YAML_SUFFIXES:
            return None
        cfg = _pose_yaml(path)
        if cfg is None:
            raise DataError(path, "not an Ultralytics pose dataset yaml (no kpt_shape)")
        root, splits = _resolve_yaml(path, cfg)
        return YoloLayout(root, path, cfg, splits)
    if not path.is_dir():
        return None
    folder = path.parent if path.name in ("labels", "images") and _has_pairs(path.parent) \
        else path
    near = _yaml_near(folder)
    if near is not None:
        yaml, cfg = near
        root, splits = _resolve_yaml(yaml, cfg)
        layout = YoloLayout(root, yaml, cfg, splits)
    else:
        parent = folder.parent
        if folder.name in SPLITS and _has_pairs(folder):  # <root>/<split>/{images,labels}
            return YoloLayout(parent, None, {}, _structural(parent), folder.name)
        if parent.name in ("images", "labels") and _has_pairs(parent.parent) and \
                folder.name in SPLITS:  # <root>/{images,labels}/<split>
            return YoloLayout(parent.parent, None, {}, _structural(parent.parent), folder.name)
        splits = _structural(folder)
        return YoloLayout(folder, None, {}, splits) if splits else None
    # a yaml was found near the folder: is the folder the root, one split of it, or unrelated?
    here = folder.resolve()
    if here in (layout.root.resolve(), layout.yaml.parent.resolve()):
        return layout
    for name, dirs in layout.splits:
        for d in dirs:
            if here in (d.resolve(), d.resolve().parent, _label_dir(d).resolve()):
                layout.split = name
                return layout
    splits = _structural(folder)
    return YoloLayout(folder, None, {}, splits) if splits else None


def _label_dir(images_dir: Path) -> Path:
    return label_path(images_dir / "x.jpg").parent


def label_path(image: Path) -> Path:
    """Ultralytics ``img2label_paths``: the last ``images`` folder becomes ``labels``."""
    parts = list(image.parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def split_images(entry: Path) -> list[Path]:
    """The images of one split entry: a folder (its images up to 4 levels deep) or a ``.txt`` file
    listing image paths (relative ones to the file's folder)."""
    if entry.is_file() and entry.suffix.lower() == ".txt":  # a list of image paths
        base = entry.parent
        out = []
        for line in entry.read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.strip()
            if line and Path(line).suffix.lower() in IMAGE_SUFFIXES:
                p = Path(line)
                out.append(p if p.is_absolute() else base / p)
        return out
    return find_images(entry, max_depth=4)


def yolo_root(path: Path) -> Path | None:
    """The dataset root of the YOLO layout ``path`` belongs to, or None (no yaml errors)."""
    try:
        layout = find_yolo(path)
    except DataError:
        return None
    return None if layout is None else layout.root


__all__ = ["SPLITS", "YoloLayout", "find_yolo", "label_path", "split_images", "yolo_root"]
