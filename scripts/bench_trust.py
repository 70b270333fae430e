"""Do the GT-free trust measures track the real error? Prints figures (not a test).

For a folder whose annotations carry 3D ground truth and a fitted teacher beside them
(``*nrsfm.npz``, e.g. the demo collection after Reconstruct), ranks the samples by each measure
of :mod:`poselab.metrics.quality` and compares with the teacher's per-sample MPJPE (paper-000
protocol): Spearman correlation, and the mean MPJPE of the 10 % ranked least certain against the
rest — on the first and on the second half of the samples (choose on one, report on the other).

    python scripts/bench_trust.py ~/.local/share/poselab/demo
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="data folder with 3D and a *nrsfm.npz")
    args = parser.parse_args()
    from scipy.stats import spearmanr

    from poselab.io import open_folder
    from poselab.metrics.quality import quality
    from poselab.metrics.summary import evaluate
    from poselab.nrsfm.result import NRSfMResult

    collection = open_folder(args.folder)
    teacher = NRSfMResult.load(sorted(args.folder.glob("*nrsfm.npz"))[0])
    if list(teacher.sample_ids) != list(collection.sample_ids):
        raise SystemExit("the teacher was fitted on other samples (exclusions?)")
    err = evaluate(teacher.keypoints_3d, collection, pred_units="px")["per_sample"]["mpjpe"]
    q = quality(teacher, collection.keypoints_2d, collection.visibility, collection.skeleton)
    n = len(collection)
    print(f"{args.folder}: {n} samples, teacher MPJPE {np.nanmean(err):.1f} "
          f"{collection.units_3d}")
    for name, score in q["per_sample"].items():
        for half, rows in (("first half", slice(0, n // 2)), ("second half", slice(n // 2, n))):
            s, e = score[rows], err[rows]
            ok = np.isfinite(s) & np.isfinite(e)
            s, e = s[ok], e[ok]
            order = np.argsort(-s)
            k = max(1, len(s) // 10)
            print(f"  {name:30s} {half}: Spearman {spearmanr(s, e).statistic:+.3f}, MPJPE of "
                  f"the 10 % least certain {e[order[:k]].mean():.1f} vs the rest "
                  f"{e[order[k:]].mean():.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
