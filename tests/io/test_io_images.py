"""Image sizes from headers (no decoding) and truncation checks."""

from __future__ import annotations

import pytest
from conftest import write_image

from poselab.core import DataError
from poselab.io.images import find_images, image_size, natural_key


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
