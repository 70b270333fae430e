"""A pickle-bearing DeepLabCut ``.h5`` must not run code: poselab reads .h5 with h5py only."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from poselab.core.errors import DataError
from poselab.io import open_folder
from poselab.io.dlc import read_dlc

pd = pytest.importorskip("pandas")
pytest.importorskip("tables")

_MAKE = textwrap.dedent("""
    import sys
    import numpy as np
    import pandas as pd

    class Payload:
        def __reduce__(self):  # unpickling opens (creates) the marker file
            return (open, (sys.argv[2], "w"))

    cols = pd.MultiIndex.from_product([["me"], ["nose", "tail"], ["x", "y"]],
                                      names=["scorer", "bodyparts", "coords"])
    df = pd.DataFrame(np.arange(8.0).reshape(2, 4), index=["a.png", "b.png"], columns=cols)
    df[("me", "note", "x")] = [Payload(), Payload()]   # an object column: pickled by PyTables
    df.to_hdf(sys.argv[1], key="df_with_missing", mode="w")
""")


def _make_evil(path: Path, marker: Path) -> None:
    subprocess.run([sys.executable, "-c", _MAKE, str(path), str(marker)], check=True,
                   capture_output=True)
    assert not marker.exists()


def test_the_evil_file_is_really_dangerous_for_pandas(tmp_path):
    """Sanity check of the fixture: pandas.read_hdf runs the payload (in a child process)."""
    evil, marker = tmp_path / "CollectedData_me.h5", tmp_path / "pwned"
    _make_evil(evil, marker)
    subprocess.run([sys.executable, "-c", f"import pandas; pandas.read_hdf({str(evil)!r})"],
                   capture_output=True)
    assert marker.exists()


def test_pickled_h5_is_refused_and_runs_nothing(tmp_path):
    project = tmp_path / "project" / "labeled-data" / "video1"
    project.mkdir(parents=True)
    evil, marker = project / "CollectedData_me.h5", tmp_path / "pwned"
    _make_evil(evil, marker)
    with pytest.raises(DataError, match="pickled Python objects") as err:
        read_dlc(evil)
    assert "\n" not in str(err.value) and str(evil) in str(err.value)
    with pytest.raises(DataError, match="pickled"):
        open_folder(evil)
    with pytest.raises(DataError, match="pickled"):
        open_folder(project, check_images=False)
    assert not marker.exists()


def test_table_format_is_refused(tmp_path):
    cols = pd.MultiIndex.from_product([["me"], ["nose"], ["x", "y"]])
    f = tmp_path / "CollectedData_me.h5"
    pd.DataFrame(np.ones((2, 2)), index=["a.png", "b.png"], columns=cols).to_hdf(
        f, key="df_with_missing", mode="w", format="table")
    with pytest.raises(DataError, match="'table' format"):
        read_dlc(f)


def test_fixed_format_multiindex_rows_read_without_pandas(tmp_path):
    """DeepLabCut ≥ 2.2 (three index columns), a NaN cell unlabelled."""
    cols = pd.MultiIndex.from_product([["me"], ["nose", "tail"], ["x", "y"]],
                                      names=["scorer", "bodyparts", "coords"])
    idx = pd.MultiIndex.from_tuples([("labeled-data", "v1", "img0.png"),
                                     ("labeled-data", "v1", "img1.png")])
    values = np.arange(8.0).reshape(2, 4) + 0.25
    values[1, 2] = np.nan
    f = tmp_path / "CollectedData_me.h5"
    pd.DataFrame(values, index=idx, columns=cols).to_hdf(f, key="df_with_missing", mode="w")
    c = read_dlc(f)
    assert c.skeleton.joint_names == ("nose", "tail")
    assert c.sample_ids == ["labeled-data/v1/img0.png", "labeled-data/v1/img1.png"]
    np.testing.assert_allclose(c.keypoints_2d[0], [[0.25, 1.25], [2.25, 3.25]])
    assert c.visibility.tolist() == [[2, 2], [2, 0]]
