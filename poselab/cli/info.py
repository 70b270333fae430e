"""``poselab info PATH``: what a folder or annotation file holds.

Prints the number of samples and joints, the skeleton, the fraction of observed landmarks, the
image size range, every unusable image (missing, truncated, unreadable) with a count, and
whether 3D ground truth is attached — the same reading the GUI does on
drop (:func:`poselab.io.open_folder`), so a file that fails here fails there with the same
one-line error.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from poselab.io.dlc import below_pcutoff_note


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "info", help="describe a folder or annotation file (samples, joints, skeleton, 3D)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", type=Path,
                   help="a folder of images + annotations, or an annotation file")
    p.add_argument("--skeleton", metavar="NAME|JSON",
                   help="skeleton for unlabelled images or formats without one "
                        "(h36m17, coco17, lsp14, mpii16, face14, or a JSON file)")
    p.add_argument("--split", metavar="NAME",
                   help="only this split of the dataset (train, val, test); default: all")
    p.add_argument("--no-edits", action="store_true",
                   help="read the original annotation even when *.poselab.json edits exist")
    p.set_defaults(func=run)


def describe(collection) -> list[str]:
    """The lines ``poselab info`` prints for a :class:`PoseCollection`."""
    c = collection
    sk = c.skeleton
    lines = [
        f"source:    {c.source}",
        f"samples:   {len(c)}",
        f"joints:    {c.num_joints}",
        f"skeleton:  {sk.name} ({len(sk.bones)} bones, {len(sk.left_right)} left/right pairs)",
        f"observed:  {c.observed.mean() if len(c) else 0.0:.1%} of landmarks "
        f"({int(c.observed.sum())} of {c.observed.size})",
    ]
    splits = c.metadata.get("per_sample", {}).get("split")
    if splits is not None and len(c):
        names, counts = np.unique(np.asarray(splits, dtype=str), return_counts=True)
        lines.append("splits:    " + ", ".join(f"{n or '(none)'} {k}"
                                               for n, k in zip(names, counts, strict=True)))
    known = None if c.image_sizes is None else c.image_sizes[(c.image_sizes > 0).all(1)]
    if known is not None and len(known):
        w, h = known[:, 0], known[:, 1]
        if w.min() == w.max() and h.min() == h.max():
            lines.append(f"images:    {w[0]}×{h[0]} px")
        else:
            lines.append(f"images:    {w.min()}–{w.max()} × {h.min()}–{h.max()} px (w × h)")
    else:
        lines.append("images:    none" if not c.has_images else "images:    sizes unknown")
    lines.append(f"3D:        ground truth in {c.units_3d}" if c.has_3d else "3D:        none")
    if c.metadata.get("edits_of"):
        lines.append(f"edits of:  {c.metadata['edits_of']}")
    low = below_pcutoff_note(c)
    if low:
        lines.append(f"likelihood: {low}")
    problems = c.metadata.get("image_problems") or {}
    if problems:
        per = c.metadata.get("per_sample", {}).get("image_problem")
        n_samples = int((np.asarray(per) != "").sum()) if per is not None else len(problems)
        lines.append(f"unusable:  {len(problems)} images ({n_samples} samples; kept for NRSfM, "
                     "left out of image training and prediction)")
        lines.extend(f"  {path}: {problem}" for path, problem in problems.items())
    if c.metadata.get("unreferenced_images"):
        lines.append(f"unused:    {c.metadata['unreferenced_images']} images without labels")
    return lines


def run(args) -> int:
    from poselab.io import open_folder

    collection = open_folder(args.path, skeleton=args.skeleton,
                             prefer_edits=not args.no_edits, split=args.split)
    print("\n".join(describe(collection)))
    return 0
