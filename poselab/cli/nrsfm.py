"""``poselab nrsfm INPUT --out nrsfm.npz``: fit the Deep NRSfM teacher on 2D landmarks.

INPUT is anything :func:`poselab.io.open_folder` reads (a folder, an annotation file, a poselab
or mocap17 ``.npz``). Its 3D ground truth, if any, is never used. The result (DESIGN.md §8)
holds ``keypoints_3d`` (N, J, 3) in the camera frame and input pixels, plus the model state
(``poselab.nrsfm.reconstruct`` reuses it). Nothing is written when the fit is interrupted.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "nrsfm", help="reconstruct 3D from 2D landmarks with the Deep NRSfM teacher",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", type=Path, help="folder, annotation file or .npz with 2D landmarks")
    p.add_argument("--out", type=Path, default=Path("nrsfm.npz"), help="result file (.npz)")
    p.add_argument("--skeleton", metavar="NAME|JSON", help="skeleton for formats without one")
    p.add_argument("--split", metavar="NAME",
                   help="only this split of the dataset (train, val, test); default: all")
    p.add_argument("--device", default=None, help="auto (default), cpu, cuda, cuda:1 ...")
    p.add_argument("--steps", type=int, help="optimisation steps (default 6000; 2000 at batch "
                   "128 for sets of at most 1500 samples, NRSfMConfig.for_samples)")
    p.add_argument("--restarts", type=int, help="random restarts (one is kept, no 3D used)")
    p.add_argument("--batch-size", type=int, help="samples per step")
    p.add_argument("--camera", choices=("auto", "weak_perspective", "perspective"),
                   help="camera model (auto: perspective when intrinsics are known)")
    p.add_argument("--bone-lengths", choices=("auto", "rigid", "free"),
                   help="rigid: each sample's bones follow the set's proportions (estimated "
                        "from the fit, no 3D); free: the network's depths; auto (default): "
                        "rigid for human-body skeletons (h36m17, coco17, lsp14, mpii16)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default 1)")
    p.add_argument("--bone-prior", type=float, metavar="W",
                   help="bone-proportion prior weight, experimental (default 0; 0.3 lowered "
                        "MPJPE by 11 mm on h36m17 but raised it by 6 mm on cmu17 and hurt "
                        "marker sets: compare on your data)")
    p.add_argument("--seed", type=int)
    p.add_argument("--config", type=Path, help="NRSfMConfig JSON (flags override it)")
    p.add_argument("--force", action="store_true",
                   help="overwrite --out even when it is an annotation file or image")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from poselab.cli.progressbar import run_with_bar
    from poselab.core.errors import DataError
    from poselab.core.lock import output_lock
    from poselab.core.outputs import check_output
    from poselab.io import open_folder
    from poselab.nrsfm import NRSfMConfig, fit

    check_output(args.out, inputs=(args.input, args.config), force=args.force,
                 suffixes=(".npz",))
    config = None
    if args.config is not None:
        try:
            data = json.loads(args.config.read_text())
        except (OSError, ValueError) as err:
            raise DataError(args.config, f"cannot read config ({err})") from None
        config = NRSfMConfig.from_dict(data)
    changes = {k: v for k, v in (("device", args.device), ("steps", args.steps),
                                 ("restarts", args.restarts), ("batch_size", args.batch_size),
                                 ("camera_model", args.camera), ("num_threads", args.threads),
                                 ("seed", args.seed), ("bone_consistency", args.bone_prior),
                                 ("bone_lengths", args.bone_lengths))
               if v is not None}
    (config or NRSfMConfig()).replace(**changes)  # absurd values refused before any work
    with output_lock(args.out):
        collection = open_folder(args.input, skeleton=args.skeleton, check_images=False,
                                 split=args.split)
        check_output(args.out, inputs=(collection.source,), force=args.force)
        # --config as given; else the settings recommended for this many samples
        config = (config.replace(**changes) if config is not None
                  else NRSfMConfig.for_samples(collection.num_samples,
                                               collection.unlabelled_share, **changes))
        print(f"{collection.num_samples} samples × {collection.num_joints} landmarks from "
              f"{collection.source}; {config.steps} steps, batch {config.batch_size}")
        result = run_with_bar(fit(collection, config))
        result.save(args.out)
    ex = result.extra
    print(f"wrote {args.out}: {result.num_samples} 3D poses ({result.camera_model}), 2D error "
          f"{ex.get('reproj_final', float('nan')):.4f} (relative), {ex.get('wall_s', 0):.0f} s, "
          f"bones {'rigid' if ex.get('bone_proportions') else 'free'}")
    from poselab.nrsfm.device_choice import describe_choice

    if note := describe_choice(ex.get("device_choice")):
        print(f"device auto: {note}")
    if note := suspect_labels_note(ex, result.sample_ids):
        print(note)
    if note := swapped_labels_note(ex, result.sample_ids, result.skeleton):
        print(note)
    if note := mirror_note(ex, result.reflection):
        print(note)
    return 0


def mirror_note(extra: dict, reflection: int) -> str | None:
    """One line on the depth signs the fit turned (:mod:`poselab.nrsfm.reflection`,
    :mod:`poselab.nrsfm.output_signs`): the whole set turned by its bodies' knees
    (``reflection`` −1) and output samples given their mirror; None when neither."""
    parts = []
    if reflection < 0:
        parts.append("the set came out as the mirror image of the bodies and was turned so "
                     "that knees bend as knees do")
    if turned := extra.get("output_mirrored"):
        parts.append(f"{turned} samples came out depth-mirrored against the rest and were "
                     "given their mirror")
    return ("depth signs: " + "; ".join(parts)) if parts else None


def suspect_labels_note(extra: dict, sample_ids) -> str | None:
    """One line on the labels that look like gross errors (:mod:`poselab.nrsfm.outliers`),
    naming up to five samples; None when there were none."""
    suspect = extra.get("label_outliers")
    if not suspect or not suspect.get("count"):
        return None
    samples = sorted(set(suspect["samples"]))
    shown = ", ".join(str(sample_ids[i]) for i in samples[:5])
    done = ("were treated as unlabelled" if suspect.get("set_aside")
            else "should be checked")
    return (f"{suspect['count']} labels in {len(samples)} samples look like gross errors and "
            f"{done} ({shown}{', …' if len(samples) > 5 else ''}; all in "
            "extra['label_outliers'] of the result, and under 'Suspect labels' in the GUI)")


def swapped_labels_note(extra: dict, sample_ids, skeleton) -> str | None:
    """One line on the samples whose left and right labels look swapped for some limbs
    (:mod:`poselab.nrsfm.swaps`), naming up to five with the joints whose swap fitted best;
    None when there were none."""
    swaps = extra.get("label_swaps")
    if not swaps or not swaps.get("count"):
        return None
    shown = []
    for i, pairs in list(zip(swaps["samples"], swaps["pairs"], strict=True))[:5]:
        names = "/".join(skeleton.joint_names[a] for a, _ in pairs)
        shown.append(f"{sample_ids[i]}: {names} swapped with the right")
    more = ", …" if swaps["count"] > 5 else ""
    return (f"{swaps['count']} samples look like their left and right labels are swapped for "
            f"some limbs and should be checked ({', '.join(shown)}{more}; all in "
            "extra['label_swaps'] of the result, and under 'Suspect labels' in the GUI)")
