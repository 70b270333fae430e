"""The one image reader: sizes from headers, EXIF orientation, pixels, truncation checks."""

from __future__ import annotations

import numpy as np
import pytest
from io_fixtures import write_image

from poselab.core import DataError
from poselab.io.images import (
    find_images,
    image_size,
    natural_key,
    probe_images,
    read_image,
    read_thumbnail,
)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".bmp", ".tif"])
def test_sizes_from_headers(tmp_path, suffix):
    assert image_size(write_image(tmp_path / f"a{suffix}", 37, 21)) == (37, 21)


def test_jpeg_with_trailer_after_the_image_is_complete(tmp_path):
    f = write_image(tmp_path / "motion.jpg", 32, 16)
    f.write_bytes(f.read_bytes() + b"\x00\x00\x00\x18ftypmp42" + bytes(5000))
    assert image_size(f) == (32, 16)


@pytest.mark.parametrize("suffix,cut,problem", [
    (".jpg", 0.5, "truncated JPEG"), (".jpg", 0.01, "truncated JPEG"),
    (".png", 0.7, "truncated PNG")])
def test_truncated(tmp_path, suffix, cut, problem):
    f = write_image(tmp_path / f"t{suffix}", 64, 64)
    data = f.read_bytes()
    f.write_bytes(data[: max(4, int(len(data) * cut))])
    with pytest.raises(DataError, match=problem) as err:
        image_size(f)
    assert err.value.path == f


def test_find_images_natural_order_and_depth(tmp_path):
    for name in ("img10.png", "img2.png", "sub/img1.png", "a/b/c/deep.png", ".hidden.png"):
        write_image(tmp_path / name, 4, 4)
    (tmp_path / "notes.txt").write_text("x")
    found = [p.relative_to(tmp_path).as_posix() for p in find_images(tmp_path)]
    assert found == ["img2.png", "img10.png", "sub/img1.png"]
    assert sorted(["b10", "b9", "a"], key=natural_key) == ["a", "b9", "b10"]


def exif_rotated_jpeg(path, stored_wh=(100, 40), orientation=6):
    """A JPEG stored ``stored_wh`` with EXIF orientation 6 (display rotated 90° clockwise):
    a red block at the stored top-left, which displays at the top-right."""
    from PIL import Image

    w, h = stored_wh
    arr = np.full((h, w, 3), 255, np.uint8)
    arr[:10, :10] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(arr).save(path, "JPEG", exif=exif, quality=95)
    return path


def test_exif_orientation_size_and_pixels_agree(tmp_path):
    f = exif_rotated_jpeg(tmp_path / "phone.jpg")
    assert image_size(f) == (40, 100)
    img = read_image(f)
    assert img.shape == (100, 40, 3) and img.dtype == np.uint8
    assert img[5, 34, 0] > 200 and img[5, 34, 1] < 60  # red block now at the top right
    assert img[5, 5].min() > 200                         # top left is white
    thumb = read_thumbnail(f, 50)
    assert thumb.shape == (50, 20, 3)
    import cv2  # the other decoders agree (OpenCV applies EXIF orientation too)

    assert cv2.imread(str(f)).shape == (100, 40, 3)


def test_corrupt_data_loads_but_truncated_is_flagged(tmp_path):
    """Damaged entropy-coded data (decoders warn "Corrupt JPEG data") still loads; a file
    that stops early is flagged, without failing the other images."""
    rng = np.random.default_rng(0)
    from PIL import Image

    good = tmp_path / "good.jpg"
    Image.fromarray((rng.random((60, 80, 3)) * 255).astype(np.uint8)).save(good, quality=90)
    data = bytearray(good.read_bytes())
    sos = data.find(b"\xff\xda")
    for k in range(sos + 600, sos + 700):
        if data[k] != 0xFF and data[k - 1] != 0xFF:
            data[k] = (data[k] + 17) % 255
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(bytes(data[:-2]) + b"\x00\x11" + bytes(data[-2:]))
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(bytes(data[: len(data) // 2]))
    assert read_image(corrupt).shape == (60, 80, 3)
    sizes, problems = probe_images([good, corrupt, truncated, tmp_path / "gone.png"])
    np.testing.assert_array_equal(sizes, [[80, 60], [80, 60], [80, 60], [0, 0]])
    assert set(problems) == {truncated, tmp_path / "gone.png"}
    assert "truncated JPEG" in problems[truncated]
    with pytest.raises(DataError, match="truncated"):
        read_image(truncated)


@pytest.mark.parametrize("reduce", [2, 4, 8])
def test_reduced_decode_keeps_orientation(tmp_path, reduce):
    f = exif_rotated_jpeg(tmp_path / "phone.jpg", (160, 64))
    full = read_image(f)
    small = read_image(f, reduce)
    assert small.shape == (-(-160 // reduce), -(-64 // reduce), 3)
    assert small[0, -1, 0] > 200 and small[0, -1, 1] < 80  # red block top right
    assert abs(float(small.mean()) - float(full.mean())) < 8
