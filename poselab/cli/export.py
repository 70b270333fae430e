"""``poselab export RESULT.npz --out FILE.csv|FILE.json``: 3D poses to CSV or JSON (DESIGN §8).

RESULT is a teacher ``nrsfm.npz`` or a student ``predictions.npz`` (any file with the result
keys of :mod:`poselab.nrsfm.result`). With ``--data INPUT`` (a folder or annotation file, as
everywhere) the 2D landmarks, image names and instances come from INPUT, matched by sample id,
and ``--with-ground-truth`` adds INPUT's 3D ground truth as a second source. The units and the
frame are written in the file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

_DEFAULT_SOURCE = {"nrsfm": "teacher", "prediction": "student"}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="export 3D poses of a result file to CSV or JSON",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("result", type=Path, help="teacher nrsfm.npz or student predictions.npz")
    p.add_argument("--out", type=Path, required=True, help="output FILE.csv or FILE.json")
    p.add_argument("--data", type=Path, metavar="INPUT",
                   help="the collection the result belongs to (2D landmarks, images)")
    p.add_argument("--source", help="source name in the file (default: teacher or student)")
    p.add_argument("--with-ground-truth", action="store_true",
                   help="also export INPUT's 3D ground truth (source 'ground_truth')")
    p.add_argument("--skeleton", metavar="NAME|JSON", help="skeleton for reading INPUT")
    p.add_argument("--split", metavar="NAME",
                   help="only this split of the dataset (train, val, test); default: all")
    p.add_argument("--force", action="store_true",
                   help="overwrite --out even when it is an annotation file")
    p.set_defaults(func=run)


def _collection_from_result(result):
    import numpy as np

    from poselab.core.collection import PoseCollection

    N, J = result.keypoints_3d.shape[:2]
    return PoseCollection(
        skeleton=result.skeleton,
        keypoints_2d=result.keypoints_2d if result.keypoints_2d is not None
        else np.zeros((N, J, 2), np.float32),
        visibility=result.visibility if result.visibility is not None
        else (None if result.keypoints_2d is not None else np.zeros((N, J), np.uint8)),
        image_paths=result.image_paths, sample_ids=result.sample_ids, source=result.path)


def run(args) -> int:
    from poselab.core.lock import output_lock
    from poselab.core.outputs import check_output

    check_output(args.out, inputs=(args.result, args.data), force=args.force,
                 suffixes=(".csv", ".json"))
    with output_lock(args.out):
        return _export(args)


def _export(args) -> int:
    import numpy as np

    from poselab.core.errors import DataError
    from poselab.core.outputs import check_output
    from poselab.io import export_csv, export_json, open_folder, read_result

    suffix = args.out.suffix.lower()
    result = read_result(args.result)
    name = args.source or _DEFAULT_SOURCE.get(result.kind, result.kind)
    units, frame = {name: result.units}, {name: result.frame}
    if args.data is not None:
        data = open_folder(args.data, skeleton=args.skeleton, split=args.split)
        if data.skeleton.joint_names != result.skeleton.joint_names:
            raise DataError(args.data, f"skeleton {data.skeleton.name!r} differs from the "
                                       f"result's {result.skeleton.name!r}")
        pos = {s: i for i, s in enumerate(data.sample_ids)}
        missing = [s for s in result.sample_ids if s not in pos]
        if missing:
            raise DataError(args.result, f"{len(missing)} sample ids are not in {args.data} "
                                         f"(first: {missing[0]!r})")
        collection = data.subset(np.asarray([pos[s] for s in result.sample_ids], np.int64))
        check_output(args.out, inputs=(data.source,), force=args.force)
    else:
        collection = _collection_from_result(result)
    sources = {name: result.keypoints_3d}
    if args.with_ground_truth:
        if not collection.has_3d:
            raise DataError(args.data or args.result, "no 3D ground truth to export")
        sources["ground_truth"] = collection.keypoints_3d
        units["ground_truth"] = collection.units_3d
        frame["ground_truth"] = "camera"
    write = export_csv if suffix == ".csv" else export_json
    write(args.out, collection, sources, units, frame)
    print(f"wrote {len(collection)} samples × {collection.num_joints} joints "
          f"({', '.join(sources)}) to {args.out}")
    return 0
