"""Check an output path before any work, so that a job never ends by destroying an input.

Every command and GUI job calls :func:`check_output` for each file or folder it will write,
*before* it reads the data or starts a fit, so that a bad ``--out`` costs a second, not a fit:

- the output is not a folder (or is one, or does not exist yet, when a folder is expected);
- its folder exists or can be created, and is writable;
- it is not the same file as any input, teacher or checkpoint of the job (``os.path.samefile``
  when both exist, else the resolved paths; for a run folder also no input inside it is
  one of the files the run writes);
- it is not a file poselab recognises as annotations or images (:func:`recognised_kind`) —
  unless the user forces it (``--force``; the GUI asks).

Errors are :class:`OutputError` (a :class:`~poselab.core.errors.DataError`): one line naming the
path; ``forceable`` says whether ``--force`` would accept it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from poselab.core.errors import DataError

#: Suffixes of the image files poselab reads (never an output of a 3D job).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
#: ``kind`` values of poselab's own result files (overwriting them is the normal case).
RESULT_KINDS = ("nrsfm", "prediction")
#: Header of a poselab export CSV (:mod:`poselab.io.export`), an output, not annotations.
EXPORT_CSV_HEADER = "image,instance,joint,source"
EDITS_SUFFIX = ".poselab.json"


class OutputError(DataError):
    """An output path that cannot or must not be written.

    Attributes:
        forceable: True when the path is only protected (an annotation file, an image, a
            checkpoint) and ``--force`` / a GUI confirmation may overwrite it.
    """

    def __init__(self, path: str | Path, problem: str, forceable: bool = False):
        super().__init__(path, problem)
        self.forceable = forceable


def _head(path: Path, n: int) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read(n).decode("utf-8", "replace").lstrip("\ufeff")
    except OSError:
        return ""


def recognised_kind(path: str | Path) -> str | None:
    """What poselab recognises ``path`` as, when it is an input a job must not overwrite.

    Sniffs the content as :func:`poselab.io.open_folder` does (COCO and Label Studio JSON
    with ``"annotations"``, skeleton JSON with ``"joint_names"``, DeepLabCut CSV starting
    with ``scorer``, long landmark CSV, ``.h5``, ``.mat``, ``.slp``, a pose ``.npz`` with
    ``keypoints_2d`` / ``W``, YOLO ``data.yaml`` and ``labels/*.txt``, GUI edits
    ``*.poselab.json``, images, torch checkpoints).

    Returns:
        A short description (``"a DeepLabCut annotation file"``) or None for files that are
        not recognised or are poselab's own outputs (result ``.npz`` files with
        ``kind`` ∈ :data:`RESULT_KINDS`, exports). None also when ``path`` is not a file.
    """
    path = Path(path)
    if not path.is_file():
        return None
    name, suffix = path.name.lower(), path.suffix.lower()
    if name.endswith(EDITS_SUFFIX):
        return "a poselab edits file"
    if suffix in IMAGE_SUFFIXES:
        return "an image"
    if suffix in (".pt", ".pth", ".ckpt"):
        return "a model checkpoint"
    if suffix in (".h5", ".hdf5"):
        return "a DeepLabCut annotation file"
    if suffix == ".slp":
        return "a SLEAP labels file"
    if suffix == ".mat":
        return "a landmark .mat file"
    if suffix in (".yaml", ".yml"):
        return "a YOLO dataset or config file"
    if suffix == ".txt" and path.parent.name == "labels":
        return "a YOLO label file"
    if suffix == ".json":
        head = _head(path, 65536)
        if '"poselab-export"' in head:
            return None
        if '"annotations"' in head:
            return "a COCO or Label Studio annotation file"
        return "a skeleton file" if '"joint_names"' in head else None
    if suffix == ".csv":
        head = _head(path, 512).lower()
        first = head.splitlines()[0] if head else ""
        if first.startswith(EXPORT_CSV_HEADER):
            return None
        if first.startswith("scorer"):
            return "a DeepLabCut annotation file"
        if {"image", "joint", "x", "y"} <= {c.strip() for c in first.split(",")}:
            return "a landmark CSV file"
        return None
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                if "kind" in z.files and str(z["kind"]) in RESULT_KINDS:
                    return None
                return "a landmark .npz file" if {"keypoints_2d", "W"} & set(z.files) else None
        except Exception:  # noqa: BLE001 - unreadable: not ours to judge, leave it alone
            return "a file that is not a poselab result"
    return None


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _inside(child: Path, folder: Path) -> bool:
    try:
        child.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _writable_folder(folder: Path, for_path: Path) -> None:
    """``folder`` exists and is writable, or its nearest existing ancestor is a writable folder."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(for_path, f"cannot create its folder: {probe} is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        what = "folder" if probe == folder else f"folder {folder} cannot be created: {probe}"
        raise OutputError(for_path, f"{what} is not writable")


def check_output(path: str | Path, *, inputs: Iterable[str | Path | None] = (),
                 folder: bool = False, writes: Iterable[str] = (), replaced: bool = False,
                 force: bool = False, suffixes: Iterable[str] | None = None) -> Path:
    """Refuse an output path that cannot be written or would destroy an input.

    Args:
        path: the file (or, with ``folder=True``, the run folder) the job will write.
        inputs: every file or folder the job reads (data, teacher, checkpoint, config);
            None entries are ignored.
        folder: the output is a folder (created if missing).
        writes: with ``folder=True``, names of the files the job writes inside the folder
            (``checkpoint.pt``); none of them may be an input.
        replaced: with ``folder=True``, the job replaces the whole folder (a rendered
            collection): no input may lie inside it.
        force: accept overwriting a recognised annotation file, image or checkpoint.
        suffixes: allowed file suffixes (lower case, with the dot), e.g. ``(".csv", ".json")``.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        OutputError: the path is a folder (or a file where a folder is expected), its folder
            cannot be created or written, it is one of the inputs, or (without ``force``) it is
            a recognised input file (``forceable=True``).
    """
    path = Path(path)
    inputs = [Path(p) for p in inputs if p is not None]
    if str(path) in ("", "."):
        raise OutputError(path, "no output path given")
    if folder:
        if path.exists() and not path.is_dir():
            raise OutputError(path, "is a file, but a run folder is expected here")
        _writable_folder(path, path)
        if path.is_dir() and not os.access(path, os.W_OK | os.X_OK):
            raise OutputError(path, "folder is not writable")
        for inp in inputs:
            if _same(inp, path) and inp.is_file():
                raise OutputError(path, "is an input of this job")
            if replaced and (_same(inp, path) or _inside(inp, path)):
                raise OutputError(path, f"holds {inp}, an input of this job; replacing the "
                                        "folder would destroy it (choose another --out)")
            for name in writes:
                if _same(inp, path / name):
                    raise OutputError(path / name, "is an input of this job; writing it would "
                                                   "destroy it (choose another --out folder)")
        return path
    if path.is_dir():
        raise OutputError(path, "is a folder; give a file name for the output")
    if suffixes is not None:
        suffixes = tuple(suffixes)
        if path.suffix.lower() not in suffixes:
            raise OutputError(path, f"output must end in {' or '.join(suffixes)}")
    _writable_folder(path.parent, path)
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(path, "is not writable")
    for inp in inputs:
        if _same(inp, path):
            raise OutputError(path, "is also an input of this job; writing it would destroy "
                                    "the input (choose another --out)")
    if not force:
        kind = recognised_kind(path)
        if kind is not None:
            raise OutputError(path, f"is {kind}; refusing to overwrite it (use --force to "
                                    "replace it)", forceable=True)
    return path
