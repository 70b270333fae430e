"""``poselab eval PREDICTION --gt GT``: score a 3D result file against a collection.

PREDICTION is a poselab result ``.npz`` (``RESULT_FILE_KEYS`` of
:mod:`poselab.nrsfm.result`: ``keypoints_3d``, ``sample_ids``, ``skeleton_json``, ``units``,
``frame``, ``kind``) — a teacher's ``nrsfm.npz`` or a student's predictions. GT is anything
``poselab.io.open_folder`` reads; samples are matched by sample id. The metric family follows
the ground truth (DESIGN.md §7, :func:`poselab.metrics.evaluate`): paper-000 MPJPE / PA-MPJPE /
depth error for 3D in mm, e3d_akhter / e3d_frame for the classic sequences, the 2D reprojection
error when GT has no 3D.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from poselab.core.errors import DataError

log = logging.getLogger(__name__)

#: Display names and unit suffixes of the metrics, in print order.
LABELS = {
    "mpjpe": "MPJPE (bone-length scaled)",
    "pa_mpjpe": "PA-MPJPE",
    "depth_error": "depth error",
    "mpjpe_unscaled": "MPJPE (root-aligned, unscaled)",
    "n_mpjpe": "N-MPJPE",
    "e3d_akhter": "e3d_akhter",
    "e3d_frame": "e3d_frame",
    "reprojection_px": "2D reprojection error",
}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "eval", help="score 3D predictions against ground truth (DESIGN §7 metrics)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("prediction", type=Path, help="result .npz (keypoints_3d, sample_ids, ...)")
    p.add_argument("--gt", type=Path, required=True,
                   help="collection with ground truth: a folder or annotation file")
    p.add_argument("--split", metavar="NAME", help="only this split of --gt (train, val, "
                   "test); default: all")
    p.add_argument("--reflection", default="set", choices=["set", "none", "+1", "-1"],
                   help="depth reflection: one sign chosen for the whole set (default), none, "
                        "or forced")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--per-sample", type=Path, metavar="CSV",
                   help="also write per-sample metrics to this CSV file")
    p.add_argument("--force", action="store_true",
                   help="overwrite --per-sample even when it is an annotation file")
    p.set_defaults(func=run)


def match_samples(pred_ids: list[str], gt_ids: list[str],
                  path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(pred_idx, gt_idx)`` of the samples present in both, in ground-truth order
    (the classic sequences are scored as one sequence in their own frame order).

    Raises:
        DataError: no sample in common (names the prediction file).
    """
    n_pred = len(pred_ids)
    where = {sid: i for i, sid in enumerate(pred_ids)}
    pairs = [(where[sid], g) for g, sid in enumerate(gt_ids) if sid in where]
    if not pairs:
        raise DataError(path, f"none of its {n_pred} sample ids is in the ground truth "
                              f"(e.g. {pred_ids[0]!r} vs {gt_ids[0]!r})")
    pred_idx, gt_idx = (np.asarray(a, dtype=np.int64) for a in zip(*pairs, strict=True))
    return pred_idx, gt_idx


def format_table(result: dict, header: str) -> str:
    """The metrics of :func:`poselab.metrics.evaluate` as an aligned text table."""
    unit = {"pose": f" {result['units']}", "reprojection": " px", "nrsfm": ""}[result["family"]]
    rows = [header, f"{'metric':<32}{'value':>12}"]
    for key, label in LABELS.items():
        if key not in result["metrics"]:
            continue
        val = result["metrics"][key]
        suffix = " px" if key == "reprojection_px" else unit
        digits = 4 if result["family"] == "nrsfm" and key != "reprojection_px" else 1
        rows.append(f"{label + ('*' if key in result['shown'] else ''):<32}"
                    f"{val:>12.{digits}f}{suffix}")
    if "reflection" in result["metrics"]:
        rows.append(f"{'depth reflection (whole set)':<32}{result['metrics']['reflection']:>+12d}")
    rows.append("* shown in the app")
    return "\n".join(rows)


def write_per_sample(path: Path, sample_ids: list[str], result: dict) -> None:
    """CSV ``sample_id,<metric>,...`` of the per-sample metrics, written atomically."""
    from poselab.core.atomic import atomic_write_text

    names = list(result["per_sample"])
    lines = [",".join(["sample_id", *names])]
    for i, sid in enumerate(sample_ids):
        vals = [f"{float(result['per_sample'][n][i]):.6g}" for n in names]
        lines.append(",".join([json.dumps(sid) if "," in sid else sid, *vals]))
    atomic_write_text(path, "\n".join(lines) + "\n")


def run(args: argparse.Namespace) -> int:
    from poselab.core.lock import output_lock
    from poselab.core.outputs import check_output

    if args.per_sample is not None:
        check_output(args.per_sample, inputs=(args.prediction, args.gt), force=args.force,
                     suffixes=(".csv",))
    with output_lock(args.per_sample):
        return _evaluate(args)


def _evaluate(args: argparse.Namespace) -> int:
    from poselab.io import open_folder
    from poselab.io.results import read_result
    from poselab.metrics import evaluate

    pred = read_result(args.prediction)
    gt = open_folder(args.gt, split=args.split)
    kp = np.asarray(pred.keypoints_3d, dtype=np.float64)
    if kp.shape[1] != gt.num_joints:
        raise DataError(args.prediction, f"{kp.shape[1]} joints per pose, the ground truth "
                                         f"has {gt.num_joints} ({gt.skeleton.name})")
    if not np.isfinite(kp).all():
        raise DataError(args.prediction, "keypoints_3d contains NaN or infinite values")
    if pred.frame != "camera":
        log.warning("%s: frame is %r, the metrics assume the camera frame", args.prediction,
                    pred.frame)
    p_idx, g_idx = match_samples(list(pred.sample_ids), list(gt.sample_ids), args.prediction)
    whole = len(g_idx) == len(gt) and np.array_equal(g_idx, np.arange(len(gt)))
    gt_sub = gt if whole else gt.subset(g_idx)
    reflection = {"+1": 1, "-1": -1}.get(args.reflection, args.reflection)
    result = evaluate(kp[p_idx], gt_sub, pred_units=pred.units, reflection=reflection)
    n_pred, n_gt, n = len(kp), len(gt), len(g_idx)
    if n < n_pred:
        log.warning("%d of %d predicted samples have no ground truth and are not scored",
                    n_pred - n, n_pred)
    if args.per_sample is not None:
        write_per_sample(args.per_sample, list(gt_sub.sample_ids), result)
    if args.json:
        out = {k: result[k] for k in ("family", "units", "num_samples", "metrics", "shown")}
        out.update(prediction=str(args.prediction), ground_truth=str(args.gt),
                   predicted_samples=n_pred, ground_truth_samples=n_gt)
        print(json.dumps(out, indent=2))
        return 0
    family = {"pose": "paper-000 protocol (bone-length scaling, one reflection for the set)",
              "nrsfm": "classic NRSfM (normalised, dimensionless)",
              "reprojection": "no 3D ground truth: 2D reprojection only"}[result["family"]]
    header = (f"{args.prediction.name} ({pred.kind}, {pred.units}) vs "
              f"{args.gt.name} ({gt.units_3d if gt.keypoints_3d is not None else '2D only'}): "
              f"{n} samples matched of {n_pred} predicted / {n_gt} in ground truth\n{family}")
    sys.stdout.write(format_table(result, header) + "\n")
    return 0
