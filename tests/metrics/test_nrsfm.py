"""e3d_akhter / e3d_frame: hand-computed cases and the published numbers of
../shared/data/README.md, recomputed from the authors' own reconstruction."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from poselab.metrics import e3d_akhter, e3d_frame

# Akhter et al. TPAMI 2011 trajectory-basis reconstruction (`Shat_akhter`), world frame
PUBLISHED_WORLD = {"drink": 0.0250, "pickup": 0.2369, "stretch": 0.1088, "yoga": 0.1625}
CAMERA_FRAME = {"drink": 0.0250, "pickup": 0.2325, "stretch": 0.1061, "yoga": 0.1424}
PER_FRAME = {"drink": 0.0141, "pickup": 0.0362, "stretch": 0.0505, "yoga": 0.0319}


def test_e3d_akhter_hand_computed():
    # one frame, two points at x = ±1: every row std (ddof 0) is 1, 0, 0 -> sigma = 1/3
    s = np.array([[[1.0, 0, 0], [-1, 0, 0]]])
    # identical copy -> 0; a copy rotated by one global rotation -> 0
    assert e3d_akhter(s, s) == pytest.approx(0.0, abs=1e-12)
    seq = np.random.default_rng(0).normal(size=(6, 5, 3))
    r = Rotation.random(random_state=1).as_matrix()
    assert e3d_akhter(seq, seq @ r.T) == pytest.approx(0.0, abs=1e-10)
    # two frames of an octahedron (±e_x, ±e_y, ±e_z); in frame 2 the estimate's z points are
    # twice as far out. Every coordinate row is {1, -1, 0, 0, 0, 0}: std (ddof 0) = sqrt(1/3).
    # Y = S1 S2ᵀ (S2 S2ᵀ)⁻¹ = diag(4, 4, 6) diag(4, 4, 10)⁻¹ = diag(1, 1, 0.6) -> nearest
    # orthogonal = I. Frame 2: two of six points off by 1 -> (1/3) / sqrt(1/3).
    octa = np.concatenate([np.eye(3), -np.eye(3)])[None].repeat(2, axis=0)
    hat = octa.copy()
    hat[1, [2, 5], 2] *= 2.0
    per_frame = e3d_akhter(octa, hat, reduce=False)
    np.testing.assert_allclose(per_frame, [0.0, np.sqrt(1 / 3)], atol=1e-12)
    assert e3d_akhter(octa, hat) == pytest.approx(np.sqrt(1 / 3) / 2)


def test_e3d_akhter_does_not_fit_scale():
    seq = np.random.default_rng(2).normal(size=(6, 5, 3))
    assert e3d_akhter(seq, 0.5 * seq) > 0.2


def test_e3d_frame_hand_computed():
    seq = np.random.default_rng(3).normal(size=(4, 6, 3))
    rng = np.random.default_rng(4)
    rots = Rotation.random(len(seq), random_state=rng).as_matrix()
    rotated = np.stack([f @ r.T + 5.0 for f, r in zip(seq, rots, strict=True)])  # per-frame R, t
    assert e3d_frame(seq, rotated) == pytest.approx(0.0, abs=1e-10)
    assert e3d_akhter(seq, rotated) > 0.1  # one global rotation cannot undo per-frame ones
    # a centred estimate of half the size: ‖S − S/2‖ / ‖S‖ = 1/2
    c = seq - seq.mean(1, keepdims=True)
    np.testing.assert_allclose(e3d_frame(c, 0.5 * c, reduce=False), 0.5, rtol=1e-10)


def test_e3d_frame_reflection_flag():
    seq = np.random.default_rng(5).normal(size=(3, 8, 3))
    mirrored = seq * np.array([1, 1, -1.0])
    assert e3d_frame(seq, mirrored) > 0.1
    assert e3d_frame(seq, mirrored, allow_reflection=True) == pytest.approx(0, abs=1e-10)


@pytest.mark.parametrize("name", sorted(PUBLISHED_WORLD))
def test_reproduces_published_classic_numbers(shared_data, name):
    z = np.load(shared_data / "nrsfm_classic" / f"{name}.npz")
    shat_world = np.einsum("fji,fpj->fpi", z["R"], z["Shat_akhter"])  # R is world -> camera
    np.testing.assert_allclose(shat_world, z["Shat_akhter_world"], atol=1e-5)
    assert round(e3d_akhter(z["S_world"], shat_world), 4) == PUBLISHED_WORLD[name]
    assert round(e3d_akhter(z["S"], z["Shat_akhter"]), 4) == CAMERA_FRAME[name]
    assert round(e3d_frame(z["S"], z["Shat_akhter"]), 4) == PER_FRAME[name]
    assert round(e3d_frame(z["S_world"], shat_world), 4) == PER_FRAME[name]
