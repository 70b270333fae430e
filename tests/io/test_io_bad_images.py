"""Bad images don't sink a dataset: flagged per sample, listed by `poselab info`, left out of
image training with a warning, landmarks kept."""

from __future__ import annotations

import numpy as np
import pytest
from io_fixtures import random_collection

from poselab.cli import main
from poselab.io import open_folder, write_coco


@pytest.fixture
def folder_with_truncated_jpeg(tmp_path):
    coll = random_collection(tmp_path, n_images=4, with_3d=False)
    write_coco(coll, tmp_path / "ann.json")
    bad = coll.image_paths[2]
    bad.write_bytes(bad.read_bytes()[:-40])
    return tmp_path, coll, bad


def test_folder_with_one_truncated_jpeg_opens_flagged(folder_with_truncated_jpeg):
    folder, coll, bad = folder_with_truncated_jpeg
    c = open_folder(folder)
    assert len(c) == len(coll)
    problems = c.metadata["per_sample"]["image_problem"]
    assert [bool(p) for p in problems] == [p == bad for p in coll.image_paths]
    np.testing.assert_allclose(c.keypoints_2d, coll.keypoints_2d, atol=1e-3)  # for NRSfM


def test_info_lists_every_unusable_image(folder_with_truncated_jpeg, capsys):
    folder, coll, bad = folder_with_truncated_jpeg
    coll.image_paths[0].unlink()
    assert main(["info", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "unusable:  2 images" in out
    assert f"{bad.name}: truncated JPEG" in out and "listed but missing" in out


def test_image_training_leaves_them_out(folder_with_truncated_jpeg, caplog):
    from poselab.distill.data import drop_unusable_images

    folder, coll, bad = folder_with_truncated_jpeg
    c = open_folder(folder)
    kept_coll, kept = drop_unusable_images(c)
    assert bad not in kept_coll.image_paths and len(kept_coll) == len(c) - 1
    assert kept.tolist() == [i for i, p in enumerate(coll.image_paths) if p != bad]
    assert "1 of 5 samples left out" in caplog.text
    # unchecked collection (check_images=False, as nrsfm/train do): probed on demand
    kept_coll2, _ = drop_unusable_images(open_folder(folder, check_images=False))
    assert kept_coll2.sample_ids == kept_coll.sample_ids


def test_crops_do_not_fail_on_a_truncated_image(folder_with_truncated_jpeg, caplog):
    from poselab.core.progress import drain
    from poselab.distill.data import build_crops

    folder, coll, bad = folder_with_truncated_jpeg
    n = len(coll)
    centre = np.full((n, 2), 20.0)
    crops = drain(build_crops(coll.image_paths, centre, np.full(n, 30.0), 16))
    is_bad = np.array([p == bad for p in coll.image_paths])
    assert (crops[is_bad] == 0).all() and (crops[~is_bad].reshape(n - 1, -1).max(1) > 0).all()
    assert "1 unreadable image(s) give blank crops" in caplog.text
