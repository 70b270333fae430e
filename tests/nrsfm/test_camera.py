"""Cameras of the teacher: orthonormalisation and the perspective model against a pinhole."""

from __future__ import annotations

import numpy as np
import pytest

from poselab.nrsfm.data import prepare_inputs

torch = pytest.importorskip("torch")


def test_orthonormalize_is_the_svd_polar_factor():
    from poselab.nrsfm.camera import orthonormalize, rotation_from_camera

    M = torch.randn(64, 3, 2, dtype=torch.float64)
    O = orthonormalize(M)
    U, _, Vh = torch.linalg.svd(M, full_matrices=False)
    torch.testing.assert_close(O, U @ Vh)
    R = rotation_from_camera(O)
    torch.testing.assert_close(R @ R.transpose(1, 2), torch.eye(3, dtype=torch.float64).expand(
        64, 3, 3))
    assert torch.allclose(torch.linalg.det(R), torch.ones(64, dtype=torch.float64))


@pytest.mark.parametrize("model", ["perspective", "weak_perspective"])
def test_projection_model_reproduces_a_pinhole_camera(model):
    from poselab.nrsfm.camera import project

    rng = np.random.default_rng(0)
    N, J = 20, 17
    K = np.array([[1145.0, 0, 512], [0, 1150.0, 515], [0, 0, 1]])
    P = rng.normal(size=(N, J, 3)) * 300 + np.array([200.0, -100.0, 5500.0])  # mm
    uv = P[..., :2] / P[..., 2:] * K[[0, 1], [0, 1]] + K[:2, 2]
    vis = np.full((N, J), 2)
    vis[:, 3] = 0  # one landmark never observed
    inp = prepare_inputs(uv, vis, K, model)
    # the shape in the model's units: box units at the reference (centroid) depth
    T = P.mean(1, keepdims=True)
    f = np.sqrt(K[0, 0] * K[1, 1])
    X = (P - T) / (T[..., 2:] * inp.scale[:, None, None] / f)
    t = lambda a: torch.as_tensor(a, dtype=torch.float64)  # noqa: E731
    n_hat, _ = project(t(X), t(inp.n), t(inp.mask), t(inp.sigma), t(inp.ray_centre))
    err = (np.abs(n_hat.numpy() - inp.n) * inp.mask[..., None]).max()
    if model == "perspective":
        assert err < 1e-6
    else:  # weak perspective leaves the systematic error the perspective model removes
        assert err > 1e-3
