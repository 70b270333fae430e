"""Every dataset in ../shared/data opens with the right N, J and landmarks inside its images."""

from __future__ import annotations

import numpy as np
import pytest

from poselab.io import open_folder, read_npz
from poselab.io.images import check_points_inside, image_size


def test_face_disguise_folder(shared_data):
    folder = shared_data / "real_images" / "face_disguise_14pt"
    c = open_folder(folder)
    assert (len(c), c.num_joints) == (2000, 14)
    assert c.skeleton.name == "face14"
    assert c.observed.all()
    assert c.image_paths[0].name == "1.jpg" and c.image_paths[-1].name == "2000.jpg"
    # sizes come from the JPEG headers; spot-check a few against an independent decoder
    import cv2

    for i in (0, 999, 1999):
        h, w = cv2.imread(str(c.image_paths[i]), cv2.IMREAD_REDUCED_GRAYSCALE_8).shape
        assert tuple(c.image_sizes[i]) == image_size(c.image_paths[i])
        assert abs(c.image_sizes[i, 0] / 8 - w) <= 1 and abs(c.image_sizes[i, 1] / 8 - h) <= 1
    assert check_points_inside(c.keypoints_2d, c.visibility, c.image_sizes).all()
    # image 1 (1-based) is joints[:, :, 0]: landmarks of a face, eyebrows above the lips
    assert c.keypoints_2d[0, 0, 1] < c.keypoints_2d[0, 12, 1]


def test_mirror_mouse_folder(shared_data):
    folder = shared_data / "real_images" / "mirror_mouse_17pt_2view"
    c = open_folder(folder)
    assert (len(c), c.num_joints) == (90, 17)
    assert int((c.visibility == 0).sum()) == 134
    assert int(c.observed.sum()) == 90 * 17 - 134
    assert c.skeleton.joint_names[0] == "paw1LH_top" and c.skeleton.joint_names[-1] == "obsLow_bot"
    assert c.sample_ids[0] == "labeled-data/img01.png"
    assert (c.image_sizes == (396, 406)).all()
    assert check_points_inside(c.keypoints_2d, c.visibility, c.image_sizes).all()
    assert c.metadata["unreferenced_images"] == 3  # img00, img91, img92
    # first row of the CSV: paw1LH_top = (77.25, 36.25), tailBase_top empty
    np.testing.assert_allclose(c.keypoints_2d[0, 0], (77.25, 36.25))
    assert c.visibility[0, 4] == 0 and c.visibility[0, 0] == 2


@pytest.mark.parametrize("name,frames", [("drink", 1102), ("pickup", 357), ("stretch", 370),
                                         ("yoga", 307)])
def test_nrsfm_classic(shared_data, name, frames):
    c = read_npz(shared_data / "nrsfm_classic" / f"{name}.npz")
    assert (len(c), c.num_joints) == (frames, 41)
    assert c.units_3d == "units" and c.has_3d and c.observed.all()
    assert len(c.skeleton.bones) > 0 and not c.has_images
    np.testing.assert_allclose(c.keypoints_2d, c.keypoints_3d[..., :2], atol=1e-5)


@pytest.mark.parametrize("name,n", [("h36m17_train35k", 35000), ("cmu17_train", 11316)])
def test_mocap17(shared_data, name, n):
    c = open_folder(shared_data / "mocap17" / f"{name}.npz")
    assert (len(c), c.num_joints) == (n, 17)
    assert c.skeleton.name == "h36m17" and c.units_3d == "mm"
    assert c.intrinsics.shape == (n, 3, 3) and c.intrinsics[0, 0, 0] == pytest.approx(1145, 1e-3)
    assert (c.image_sizes == (1000, 1000)).all()
    per = c.metadata["per_sample"]
    assert {"subject", "action", "camera"} <= set(per) and len(per["subject"]) == n
    inside = check_points_inside(c.keypoints_2d, c.visibility, c.image_sizes)
    np.testing.assert_array_equal(inside[per["in_image"]], True)
    # perspective projection with K reproduces the stored 2D
    X = c.keypoints_3d[:50].astype(np.float64)
    uv = np.einsum("nij,nkj->nki", c.intrinsics[:50].astype(np.float64), X)
    np.testing.assert_allclose(uv[..., :2] / uv[..., 2:], c.keypoints_2d[:50], atol=0.05)
