"""Benchmark of the streamed 3D export (issue 14): peak memory of a large JSON / CSV export.

Writes a synthetic student result file of N samples × 17 joints (h36m17 skeleton, random 3D
in float32, sample ids; the keys of ``poselab.nrsfm.result.RESULT_FILE_KEYS``), then runs
``poselab export RESULT --out FILE.json|.csv`` as a user would, in a fresh process per format,
and prints that process's peak RSS (Linux ``ru_maxrss``: imports, the result's arrays and the
export together), the peak and the RSS held after reading the result, the peak during the
export alone (``VmHWM`` reset through ``/proc/self/clear_refs`` before it), the file size and
the time. Target: peak ≤ 300 MB for 300k samples (the whole-document export needed 2.8 GB).

    OMP_NUM_THREADS=1 nice .venv/bin/python scripts/bench_export.py [--samples 300000]
        [--format json|csv|both] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: run in the child: the CLI's export, recording the RSS just before the export starts
CHILD = """
import json, resource, sys
import poselab.io as io
from poselab.cli import main

def status_mib(key):
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith(key)) / 1024

marks = {}
for name in ("export_json", "export_csv"):
    orig = getattr(io, name)
    def wrapped(*a, _orig=orig, **k):
        marks["rss_before_export_mib"] = status_mib("VmRSS")
        marks["peak_before_export_mib"] = status_mib("VmHWM")
        with open("/proc/self/clear_refs", "w") as fh:  # reset the peak (VmHWM), Linux >= 4.0
            fh.write("5")
        try:
            return _orig(*a, **k)
        finally:
            marks["peak_during_export_mib"] = status_mib("VmHWM")
    setattr(io, name, wrapped)
rc = main(sys.argv[1:])
marks["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rc": rc, **marks}))
"""


def write_result(path: Path, n: int) -> None:
    import numpy as np

    from poselab.core import get_skeleton

    sk = get_skeleton("h36m17")
    rng = np.random.default_rng(0)
    np.savez(path, kind=np.array("prediction"), units=np.array("px"), frame=np.array("camera"),
             keypoints_3d=(rng.standard_normal((n, sk.num_joints, 3), np.float32) * 100),
             sample_ids=np.asarray([f"S9/walking/cam{i % 4}/{i:07d}" for i in range(n)]),
             skeleton_json=np.array(json.dumps(sk.to_dict())))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=300_000)
    ap.add_argument("--format", choices=("json", "csv", "both"), default="both")
    ap.add_argument("--out", type=Path, default=None, help="scratch folder (default: a temp dir)")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_export_"))
    out.mkdir(parents=True, exist_ok=True)
    result = out / "predictions.npz"
    write_result(result, args.samples)
    formats = ("json", "csv") if args.format == "both" else (args.format,)
    for fmt in formats:
        target = out / f"export.{fmt}"
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", CHILD, "export", str(result), "--out",
                               str(target)], capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
        rec = json.loads(proc.stdout.strip().splitlines()[-1])
        whole = max(rec["peak_mib"], rec["peak_before_export_mib"],
                    rec["peak_during_export_mib"])  # resetting VmHWM resets ru_maxrss too
        print(f"{fmt}: poselab export of {args.samples} samples × 17 joints: peak RSS "
              f"{whole:.0f} MiB for the whole command; reading the result "
              f"{rec['peak_before_export_mib']:.0f} MiB peak, {rec['rss_before_export_mib']:.0f}"
              f" MiB held; during the export {rec['peak_during_export_mib']:.0f} MiB peak; "
              f"{target.stat().st_size / 2**20:.0f} MiB file, {wall:.0f} s", flush=True)
        target.unlink()
    result.unlink()


if __name__ == "__main__":
    main()
