"""Damaged files give one line naming the file, exit code 2 and no traceback (`poselab info`)."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from io_fixtures import write_image

from poselab.cli import main
from poselab.core import DataError
from poselab.io import open_folder


def _npz_bytes() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, keypoints_2d=np.zeros((4, 17, 2), np.float32))
    return buf.getvalue()


def _mat_bytes() -> bytes:
    import scipy.io

    buf = io.BytesIO()
    scipy.io.savemat(buf, {"joints": np.zeros((3, 14, 10))})
    return buf.getvalue()


DLC_NO_Y = ("scorer,me,me,me\nbodyparts,nose,nose,tail\ncoords,x,y,x\n"
            "labeled-data/v/img0.png,1,2,3\n")

CASES = {
    "empty.npz": (b"", "empty file"),
    "truncated.npz": (lambda: _npz_bytes()[:60], "damaged"),
    "notzip.npz": (b"hello world, not a zip" * 4, "not a NumPy .npz"),
    "empty.mat": (b"", "empty file"),
    "truncated.mat": (lambda: _mat_bytes()[:200], "damaged"),
    "latin1.csv": ("image,joint,x,y\nbild_ä.png,nase,1,2\n".encode("latin-1"), "not UTF-8"),
    "dlc_latin1.csv": ("scorer,me,me\nbodyparts,näse,näse\ncoords,x,y\na.png,1,2\n"
                       .encode("latin-1"), "not UTF-8"),
    "CollectedData_me.csv": (DLC_NO_Y.encode(), "body part 'tail' lacks its y column"),
    "empty.json": (b"", "empty file"),
    "empty.slp": (b"", "empty file"),
    "truncated.h5": (b"\x89HDF\r\n\x1a\n" + bytes(40), "not a readable HDF5 file"),
    "bad.yaml": (b"kpt_shape: [3, 3\n", "not valid YAML"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_damaged_file_one_line_exit_2(tmp_path, name, capsys):
    data, problem = CASES[name]
    f = tmp_path / name
    f.write_bytes(data() if callable(data) else data)
    with pytest.raises(DataError, match=problem) as err:
        open_folder(f)
    assert err.value.path == f and "\n" not in str(err.value)
    assert main(["info", str(f)]) == 2  # the CLI: exit code 2, one line on stderr
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and str(f) in lines[0] and problem in lines[0]


@pytest.mark.parametrize("name", ["truncated.npz", "truncated.mat", "latin1.csv",
                                  "CollectedData_me.csv"])
def test_damaged_file_through_the_cli(tmp_path, name):
    data, problem = CASES[name]
    f = tmp_path / name
    f.write_bytes(data() if callable(data) else data)
    out = subprocess.run([sys.executable, "-m", "poselab", "info", str(f)],
                         capture_output=True, text=True)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert str(f) in lines[0] and problem in lines[0]


def test_dlc_missing_column_in_a_project_folder(tmp_path):
    folder = tmp_path / "labeled-data" / "v"
    folder.mkdir(parents=True)
    write_image(folder / "img0.png", 8, 8)
    (folder / "CollectedData_me.csv").write_text(DLC_NO_Y)
    with pytest.raises(DataError, match="'tail' lacks its y column"):
        open_folder(folder)


def test_zip_member_damaged_inside_npz(tmp_path):
    """A .npz whose member is cut short (zip directory intact)."""
    f = tmp_path / "member.npz"
    with zipfile.ZipFile(f, "w") as z:
        z.writestr("keypoints_2d.npy", b"\x93NUMPY\x01\x00v\x00{'descr': '<f4'")
    with pytest.raises(DataError):
        open_folder(f)
