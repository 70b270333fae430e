"""pandas ``DataFrame.to_hdf`` files read as numeric tables with h5py — never unpickled.

``pandas.read_hdf`` (through PyTables) unpickles object columns (``VLArray`` of ``ObjectAtom``)
and, in the ``table`` format, pickled attributes: a crafted ``CollectedData_*.h5`` runs code
when pandas opens it. DeepLabCut writes its labels in pandas' default ``fixed`` format
(``df.to_hdf(path, key="df_with_missing", mode="w")``), whose parts are plain HDF5 datasets:

* ``block<k>_values`` — (rows, items) numbers (float64 for DeepLabCut), one block per dtype;
* ``block<k>_items_level<i>`` / ``_label<i>`` — the block's column MultiIndex (levels as
  fixed-width byte strings, labels as integer codes, -1 for missing);
* ``axis0_*`` — the frame's columns, ``axis1_*`` — its row index (``_variety`` ``"multi"`` or
  ``"regular"``), stored the same way.

This module reads exactly those with h5py (which never unpickles) and refuses everything else
with a one-line :class:`DataError`: object blocks (pickled Python objects), the ``table``
format (its column names are a pickled attribute), and files without a ``frame`` group.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from poselab.core.errors import DataError

#: Group names DeepLabCut (``df_with_missing``) and napari-deeplabcut (``keypoints``) use.
PREFERRED_KEYS = ("df_with_missing", "keypoints", "df")


def _text(value) -> str:
    if isinstance(value, bytes | np.bytes_):
        return value.decode("utf-8", "replace")
    return str(value)


def _attr(node, name: str, default=None):
    try:
        return node.attrs[name] if name in node.attrs else default
    except (OSError, TypeError, ValueError):  # unreadable attribute: treat as absent
        return default


def _is_object_node(node) -> bool:
    """A PyTables VLArray of pickled objects, or any non-numeric, non-string dataset."""
    if _text(_attr(node, "PSEUDOATOM", b"")) == "object":
        return True
    kind = node.dtype.kind
    return kind in "OV" or node.dtype.metadata is not None and "vlen" in node.dtype.metadata


def _dataset(path: Path, group, name: str):
    import h5py

    node = group.get(name)
    if not isinstance(node, h5py.Dataset):
        raise DataError(path, f"pandas frame lacks '{group.name}/{name}'")
    if _is_object_node(node):
        raise DataError(path, f"'{node.name}' holds pickled Python objects; poselab never "
                              "unpickles data files (save the labels as CSV)")
    return node[()]


def _index(path: Path, group, prefix: str) -> list[tuple[str, ...]]:
    """Rows of an index (``axis1``), columns (``axis0``) or block items as string tuples."""
    variety = _text(_attr(group, f"{prefix}_variety", b"regular"))
    if variety == "multi":
        n = int(_attr(group, f"{prefix}_nlevels", 0))
        levels, codes = [], []
        for i in range(n):
            levels.append([_text(v) for v in np.atleast_1d(
                _dataset(path, group, f"{prefix}_level{i}"))])
            codes.append(np.atleast_1d(_dataset(path, group, f"{prefix}_label{i}")).astype(int))
        if not codes:
            return []
        out = []
        for r in range(len(codes[0])):
            out.append(tuple(levels[i][c[r]] if 0 <= c[r] < len(levels[i]) else ""
                             for i, c in enumerate(codes)))
        return out
    if variety == "regular":
        return [(_text(v),) for v in np.atleast_1d(_dataset(path, group, prefix))]
    raise DataError(path, f"unsupported pandas index variety {variety!r} in '{group.name}'")


def _frame_group(path: Path, f):
    import h5py

    frames, tables = [], []

    def visit(name, node):
        if isinstance(node, h5py.Group):
            kind = _text(_attr(node, "pandas_type", b""))
            if kind == "frame":
                frames.append(node)
            elif kind == "frame_table":
                tables.append(node)

    f.visititems(visit)
    if not frames:
        if tables:
            raise DataError(path, "pandas 'table' format stores its column names pickled, "
                                  "which poselab never unpickles; save the labels as CSV")
        raise DataError(path, "not a pandas DataFrame file (no 'frame' group)")
    for key in PREFERRED_KEYS:
        for g in frames:
            if g.name.strip("/") == key:
                return g
    if len(frames) > 1:
        names = ", ".join(g.name for g in frames)
        raise DataError(path, f"{len(frames)} DataFrames in the file ({names}); expected one")
    return frames[0]


def read_pandas_h5(path: str | Path) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]],
                                              np.ndarray]:
    """Read a pandas ``fixed``-format DataFrame from an HDF5 file without unpickling.

    Args:
        path: the ``.h5``/``.hdf5`` file.

    Returns:
        ``(index, columns, values)``: row labels as string tuples (one per index level),
        column labels as string tuples (e.g. ``(scorer, bodypart, coord)``), and values
        ``(rows, columns)`` float64.

    Raises:
        DataError: not an HDF5 file, no pandas frame, the ``table`` format, an object
            (pickled) block, or inconsistent shapes — each naming ``path``.
    """
    import h5py

    path = Path(path)
    try:
        f = h5py.File(path, "r")
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except OSError as err:
        raise DataError(path, f"not a readable HDF5 file ({err})") from None
    with f:
        g = _frame_group(path, f)
        columns = _index(path, g, "axis0")
        index = _index(path, g, "axis1")
        values = np.full((len(index), len(columns)), np.nan)
        where = {c: k for k, c in enumerate(columns)}
        for b in range(int(_attr(g, "nblocks", 0))):
            block = _dataset(path, g, f"block{b}_values")
            if block.dtype.kind not in "fiub":
                raise DataError(path, f"'{g.name}/block{b}_values' is not numeric "
                                      f"({block.dtype}); expected coordinates")
            items = _index(path, g, f"block{b}_items")
            block = np.asarray(block, np.float64).reshape(len(index), -1)
            if block.shape[1] != len(items):
                raise DataError(path, f"'{g.name}/block{b}' has {block.shape[1]} columns "
                                      f"but {len(items)} column names")
            for k, item in enumerate(items):
                if item in where:
                    values[:, where[item]] = block[:, k]
    return index, columns, values
