"""New inputs for a student: unlabelled image folders and video frames (poselab.io.unlabelled)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from poselab.core.errors import Cancelled, DataError
from poselab.core.progress import CancelToken, drain
from poselab.io.unlabelled import open_unlabelled_images, open_video_frames


def _video(path, n=10, size=(64, 48)):
    """A tiny colour video: frame i has red = 20 * i (mpeg4 via imageio-ffmpeg)."""
    iio = pytest.importorskip("imageio.v2", reason="no video writer (imageio) installed")
    pytest.importorskip("imageio_ffmpeg", reason="no video writer (imageio-ffmpeg) installed")
    w, h = size
    writer = iio.get_writer(str(path), fps=10, codec="libx264", quality=10,
                            macro_block_size=16)
    for i in range(n):
        frame = np.zeros((h, w, 3), np.uint8)
        frame[..., 0] = 20 * i
        frame[..., 1] = 100
        writer.append_data(frame)
    writer.close()
    return path


def test_unlabelled_folder_sizes_exif_and_bad_images(tmp_path):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    Image.new("RGB", (40, 30), (10, 20, 30)).save(folder / "a2.png")
    Image.new("RGB", (50, 20)).save(folder / "sub" / "b.jpg")
    rotated = Image.new("RGB", (100, 40))  # stored 100x40, EXIF orientation 6: shown 40x100
    exif = rotated.getexif()
    exif[0x0112] = 6
    rotated.save(folder / "a10.jpg", exif=exif)
    good = (folder / "a2.png").read_bytes()
    (folder / "c.png").write_bytes(good[: len(good) // 2])  # truncated
    c = open_unlabelled_images(folder, "lsp14")
    assert list(c.sample_ids) == ["a2.png", "a10.jpg", "c.png", "sub/b.jpg"]  # natural order
    assert c.num_joints == 14 and c.keypoints_2d.shape == (4, 14, 2)
    assert not c.visibility.any() and not c.keypoints_2d.any()
    np.testing.assert_array_equal(c.image_sizes[[0, 1, 3]], [[40, 30], [40, 100], [50, 20]])
    problems = c.metadata["per_sample"]["image_problem"]
    assert problems[2] and not problems[[0, 1, 3]].any()


def test_unlabelled_folder_errors(tmp_path):
    with pytest.raises(DataError, match="not a folder"):
        open_unlabelled_images(tmp_path / "nope", "lsp14")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images"):
        open_unlabelled_images(tmp_path / "empty", "lsp14")


def test_video_every_third_frame(tmp_path):
    video = _video(tmp_path / "clip.mp4")
    cache = tmp_path / "cache"
    records = []
    gen = open_video_frames(video, "lsp14", every=3, cache_dir=cache)
    c = drain(gen, records.append)
    assert list(c.sample_ids) == ["clip.mp4#0", "clip.mp4#3", "clip.mp4#6", "clip.mp4#9"]
    np.testing.assert_array_equal(c.metadata["per_sample"]["frame"], [0, 3, 6, 9])
    assert [r.step for r in records] == [1, 2, 3, 4] and records[-1].total == 4
    np.testing.assert_array_equal(c.image_sizes, [[64, 48]] * 4)
    assert all(p.parent == cache and p.is_file() for p in c.image_paths)
    reds = [np.asarray(Image.open(p))[..., 0].mean() for p in c.image_paths]
    np.testing.assert_allclose(reds, [0, 60, 120, 180], atol=12)  # frames in order, RGB
    assert not c.visibility.any() and c.source == video


def test_video_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match="no such video"):
        drain(open_video_frames(tmp_path / "missing.mp4", "lsp14"))
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video" * 20)
    with pytest.raises(DataError) as err:
        drain(open_video_frames(bad, "lsp14"))
    assert "bad.mp4" in str(err.value) and "cannot read" in str(err.value)
    video = _video(tmp_path / "ok.mp4", n=3)
    with pytest.raises(DataError, match="every"):
        drain(open_video_frames(video, "lsp14", every=0))


def test_video_cancel(tmp_path):
    video = _video(tmp_path / "clip.mp4")
    token = CancelToken()
    gen = open_video_frames(video, "lsp14", cache_dir=tmp_path / "f", cancel=token)
    next(gen)
    token.cancel()
    with pytest.raises(Cancelled):
        next(gen)
    assert len(list((tmp_path / "f").glob("*.png"))) == 1
