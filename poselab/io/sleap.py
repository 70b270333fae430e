"""sleap-io as the reader of record: ``sleap_io.Labels`` ↔ :class:`PoseCollection`, ``.slp``.

One adapter, :func:`labels_to_collection`, turns the Labels that sleap-io reads (SLEAP ``.slp``,
Label Studio JSON) into a collection: the skeleton's node names, edges (bones) and symmetries
(left/right pairs), one sample per instance (several per frame), and each frame's image path
(image-sequence videos: the listed image; single image files; media videos: no image, the
sample id names the video and frame). :func:`write_slp` writes a collection's 2D landmarks
(the edited ones in the GUI) as a SLEAP ``.slp``.

Visibility (COCO 0/1/2 ↔ SLEAP's per-point ``visible`` flag and NaN coordinates): a point
with coordinates and ``visible`` is 2; with coordinates and not ``visible`` (hidden in SLEAP)
is 1, occluded; NaN coordinates are 0, unlabelled. Predicted instances are read like user
instances; user instances come first on each frame.

Formats poselab keeps its own reader for — checked by the round-trip tests in
``tests/io/test_io_sleap.py`` (written with sleap-io, read by poselab):

* COCO keypoints JSON: ``sleap_io.load_coco`` turns COCO ``v = 1`` (labelled, occluded) into
  visible, losing the occlusion flag, and drops instances without a visible point.
* DeepLabCut: sleap-io reads the CSV only (``.h5`` label files are not read), and a header
  without a body part's x or y column must be an error naming the part (sleap-io 0.9.5
  silently returns no labelled frame at all); poselab's reader does both, and reads ``.h5``
  without unpickling. Both readers agree on well-formed CSVs (tested).
* Ultralytics: ``load_ultralytics`` (0.9.5) looks only for a file named ``data.yaml`` in the
  folder given (a shipped ``<name>.yaml`` is "not found"), ignores ``path:``, reads one split,
  and finds labels only for ``<split>/images`` (not ``images/<split>``); datasets as shipped
  need :mod:`poselab.io.yolo` (its round trip with sleap-io's writer is tested).
* NWB is not offered: sleap-io 0.9.5 cannot read back its own ``save_nwb`` of labelled image
  folders (``load_nwb``: "Unknown video file type: <StrDataset ...>"), so it does not round-trip.
* joints ``.mat`` (LSP/MPII layouts), classic/mocap ``.npz``, long CSV: not sleap-io formats
  (its ``.mat`` is LEAP's).

sleap-io is imported lazily (``import poselab.io`` stays light).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from poselab.core.atomic import atomic_write_bytes
from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.skeleton import Skeleton
from poselab.core.skeletons import get_skeleton
from poselab.io.skeleton_match import builtin_for

log = logging.getLogger(__name__)


def _skeleton(sk, name: str) -> Skeleton:
    """A poselab Skeleton from a ``sleap_io.Skeleton`` (built-in when the names match)."""
    names = tuple(str(n) for n in sk.node_names)
    if len(set(names)) != len(names):
        raise DataError(None, f"skeleton {sk.name!r} repeats node names")
    builtin = builtin_for(names)
    edges = tuple((int(a), int(b)) for a, b in sk.edge_inds if a != b)
    pairs = tuple((int(a), int(b)) for a, b in sk.symmetry_inds)
    if builtin is not None and (not edges or set(map(frozenset, edges)) == set(
            map(frozenset, builtin.bones))):
        return builtin
    return Skeleton(str(sk.name or name), names, edges, pairs)


def _frame_image(video, frame_idx: int) -> Path | None:
    """The image file of a frame: the listed image of an image sequence, the file itself for
    a single image, None for a media video (mp4, avi, ...)."""
    from poselab.io.images import is_image

    fn = video.filename
    if isinstance(fn, list | tuple):
        return Path(fn[frame_idx]) if 0 <= frame_idx < len(fn) else None
    return Path(fn) if fn and is_image(fn) else None


def labels_to_collection(labels, source: str | Path | None = None,
                         skeleton: str | Path | Skeleton | None = None) -> PoseCollection:
    """Turn a ``sleap_io.Labels`` into a :class:`PoseCollection`.

    Args:
        labels: what sleap-io read; one skeleton (several are an error).
        source: the file it was read from (names errors and the collection).
        skeleton: optional poselab skeleton whose joint names are the node names (any order:
            the columns are reordered to it).

    Returns:
        One sample per instance: ``keypoints_2d`` (N, J, 2) float32 pixels, ``visibility``
        (N, J) (see the module docstring), ``image_paths`` (None for media videos),
        ``sample_ids`` ``<image or video>[#frame]#<instance>``; ``metadata["per_sample"]`` has
        ``instance``, ``frame_idx``, ``video`` and ``track``.

    Raises:
        DataError: no skeleton or several, node names that do not match ``skeleton``, or no
            labelled instance (naming ``source``).
    """
    source = None if source is None else Path(source)
    if len(labels.skeletons) != 1:
        raise DataError(source, f"{len(labels.skeletons)} skeletons in the file; poselab "
                                "reads one")
    sio_sk = labels.skeletons[0]
    try:
        sk = _skeleton(sio_sk, source.stem if source else "sleap")
    except DataError as err:
        raise DataError(source, err.problem) from None
    order = np.arange(sk.num_joints)
    if skeleton is not None:
        want = get_skeleton(skeleton)
        names = list(sk.joint_names)
        if sorted(names) != sorted(want.joint_names):
            raise DataError(source, f"nodes {names} do not match skeleton {want.name!r}")
        order = np.asarray([names.index(n) for n in want.joint_names])
        sk = want
    kps, vis, paths, ids, inst, frames, videos, tracks = [], [], [], [], [], [], [], []
    video_names = {}
    for lf in labels.labeled_frames:
        instances = list(lf.user_instances) + list(lf.predicted_instances)
        image = _frame_image(lf.video, int(lf.frame_idx))
        vname = video_names.setdefault(id(lf.video), _video_name(lf.video, len(video_names)))
        base = image.name if image is not None and not isinstance(
            lf.video.filename, list | tuple) else (
            image.name if image is not None else f"{vname}#{int(lf.frame_idx)}")
        for k, instance in enumerate(instances):
            pts = instance.points
            xy = np.asarray(pts["xy"], np.float64)[order]
            visible = np.asarray(pts["visible"], bool)[order]
            labelled = np.isfinite(xy).all(-1)
            v = np.where(labelled & visible, 2, np.where(labelled, 1, 0)).astype(np.uint8)
            if not labelled.any():
                continue
            kps.append(np.where(labelled[:, None], xy, 0.0))
            vis.append(v)
            paths.append(image)
            ids.append(f"{base}#{k}")
            inst.append(k)
            frames.append(int(lf.frame_idx))
            videos.append(vname)
            tracks.append(instance.track.name if instance.track is not None else "")
    if not kps:
        raise DataError(source, "no labelled instance in the file")
    if len(set(ids)) != len(ids):  # same image name in two folders/videos: use full paths
        ids = [f"{videos[i]}/{ids[i]}" for i in range(len(ids))]
    if any(p is None for p in paths):
        paths = [None] * len(paths)
    N = len(kps)
    return PoseCollection(
        skeleton=sk, keypoints_2d=np.asarray(kps).reshape(N, sk.num_joints, 2),
        visibility=np.asarray(vis).reshape(N, sk.num_joints), image_paths=paths,
        sample_ids=ids, source=source,
        metadata={"per_sample": {"instance": np.asarray(inst, np.int32),
                                 "frame_idx": np.asarray(frames, np.int64),
                                 "video": np.asarray(videos, dtype=str),
                                 "track": np.asarray(tracks, dtype=str)}},
    )


def _video_name(video, k: int) -> str:
    fn = video.filename
    if isinstance(fn, list | tuple):
        return Path(fn[0]).parent.name if fn else f"video{k}"
    return Path(fn).name if fn else f"video{k}"


def _load(path: Path, loader, **kwargs):
    try:
        return loader(str(path), **kwargs)
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except DataError:
        raise
    except Exception as err:  # sleap-io/h5py/json raise many types for damaged files
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(path, f"sleap-io cannot read it ({msg})") from None


def read_slp(path: str | Path, skeleton: str | Path | Skeleton | None = None
             ) -> PoseCollection:
    """Read a SLEAP ``.slp`` labels file through sleap-io (videos are not opened).

    Raises:
        DataError: not a readable ``.slp`` (names the file), or as
            :func:`labels_to_collection`.
    """
    import sleap_io as sio

    path = Path(path)
    labels = _load(path, sio.load_slp, open_videos=False)
    return labels_to_collection(labels, path, skeleton)


def read_labelstudio(path: str | Path, skeleton: str | Path | Skeleton | None = None
                     ) -> PoseCollection:
    """Read a Label Studio keypoint export (JSON) through sleap-io.

    Raises:
        DataError: not a readable Label Studio file, or as :func:`labels_to_collection`.
    """
    import sleap_io as sio

    path = Path(path)
    labels = _load(path, sio.load_labelstudio)
    coll = labels_to_collection(labels, path, skeleton)
    return coll


def is_labelstudio(head: str) -> bool:
    """True when the start of a JSON file looks like a Label Studio export (a list of tasks
    with ``annotations``/``completions`` holding ``keypointlabels``)."""
    s = head.lstrip()
    return s.startswith("[") and ('"annotations"' in s or '"completions"' in s) and \
        "keypointlabels" in s


def collection_to_labels(collection: PoseCollection):
    """A ``sleap_io.Labels`` of a collection's 2D landmarks (see the module docstring for
    visibility). Samples with an image share one ``Video`` per image file; samples without
    one share a single image-less video, one frame per sample."""
    import sleap_io as sio

    c = collection
    sk = c.skeleton
    sio_sk = sio.Skeleton(nodes=list(sk.joint_names),
                          edges=[(int(a), int(b)) for a, b in sk.bones],
                          symmetries=[(int(a), int(b)) for a, b in sk.left_right],
                          name=sk.name)
    images = list(dict.fromkeys(str(p) for p in c.image_paths if p is not None))
    frame_of = {name: k for k, name in enumerate(images)}
    videos = []
    if images:  # one image-sequence video, frame k = image k (as SLEAP stores image folders)
        videos.append(sio.Video(filename=images, open_backend=False, backend_metadata={
            "type": "ImageVideo", "filename": images[0], "filenames": images,
            "shape": None, "grayscale": False}))
    if any(p is None for p in c.image_paths):  # image-less samples: one frame each
        videos.append(sio.Video(filename="poselab-samples", open_backend=False,
                                backend_metadata={"type": "MediaVideo", "shape": None,
                                                  "filename": "poselab-samples"}))
    frames: dict = {}
    for i in range(len(c)):
        p = c.image_paths[i]
        key = (0, frame_of[str(p)]) if p is not None else (len(videos) - 1, i)
        pts = np.asarray(c.keypoints_2d[i], np.float64).copy()
        v = c.visibility[i]
        pts[v == 0] = np.nan
        data = np.concatenate([pts, (v == 2)[:, None].astype(np.float64)], 1)
        frames.setdefault(key, []).append(sio.Instance.from_numpy(data, skeleton=sio_sk))
    lfs = [sio.LabeledFrame(video=videos[k], frame_idx=f, instances=insts)
           for (k, f), insts in frames.items()]
    return sio.Labels(labeled_frames=lfs, videos=videos, skeletons=[sio_sk])


def write_slp(collection: PoseCollection, path: str | Path) -> Path:
    """Write the 2D landmarks of ``collection`` as a SLEAP ``.slp`` (atomically).

    Image paths are stored as written in the collection (absolute when opened from a folder);
    no image data is embedded.

    Returns:
        The path written.
    """
    import tempfile

    import sleap_io as sio

    path = Path(path)
    labels = collection_to_labels(collection)
    with tempfile.TemporaryDirectory(prefix="poselab-slp-") as folder:
        tmp = Path(folder) / path.name
        sio.save_slp(labels, str(tmp), embed=False, verbose=False)
        atomic_write_bytes(path, tmp.read_bytes())
    return path
