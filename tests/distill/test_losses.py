"""Distilling loss of paper 000 (Eq. 6–15) against brute-force solves and known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from poselab.distill.losses import (
    distill_depth_loss,
    gt_depth_normalized,
    project_codes,
    rotated_dictionary,
    weaksup_depth_loss,
    xy_loss,
)

torch.set_num_threads(1)


def _random_rotations(rng, n):
    q, _ = np.linalg.qr(rng.normal(size=(n, 3, 3)))
    q *= np.sign(np.linalg.det(q))[:, None, None]
    return q


def _instance(rng, b=3, j=8, k=30):
    D = rng.normal(size=(3 * j, k))
    R = _random_rotations(rng, b)
    phi = np.abs(rng.normal(size=(b, k))) * (rng.random((b, k)) < 0.3)
    return D, R, phi


def test_rotated_dictionary_matches_teacher_invariant():
    """B φ equals the camera-frame shape S R^T of NRSfMResult's invariant."""
    rng = np.random.default_rng(0)
    D, R, phi = _instance(rng)
    B = rotated_dictionary(torch.tensor(D), torch.tensor(R)).numpy()
    for i in range(len(R)):
        S = (D @ phi[i]).reshape(-1, 3)
        np.testing.assert_allclose(np.einsum("jak,k->ja", B[i], phi[i]), S @ R[i].T, atol=1e-10)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_projection_equals_constrained_least_squares(seed):
    """Eq. 13 (damping → 0) = argmin ½‖φ − φ0‖² s.t. centred B_z φ = centred z′ (scipy)."""
    rng = np.random.default_rng(seed)
    D, R, phi0 = _instance(rng, b=2, j=7, k=20)
    B = rotated_dictionary(torch.tensor(D), torch.tensor(R))
    z = rng.normal(size=(2, 7))
    got = project_codes(torch.tensor(z), B[:, :, 2, :], torch.tensor(phi0), damping=1e-12)
    for i in range(2):
        Bz = B[i, :, 2, :].numpy()
        Bc = Bz - Bz.mean(0)
        zc = z[i] - z[i].mean()
        # centred rows sum to zero: one constraint is redundant, keep J - 1 of them.
        cons = {"type": "eq", "fun": lambda p, Bc=Bc, zc=zc: Bc[:-1] @ p - zc[:-1],
                "jac": lambda p, Bc=Bc: Bc[:-1]}
        sol = minimize(lambda p, i=i: 0.5 * np.sum((p - phi0[i]) ** 2), phi0[i],
                       jac=lambda p, i=i: p - phi0[i], constraints=[cons], method="SLSQP",
                       options={"ftol": 1e-14, "maxiter": 500})
        assert sol.success
        np.testing.assert_allclose(got[i].numpy(), sol.x, atol=1e-6)
        np.testing.assert_allclose(Bc @ got[i].numpy(), zc, atol=1e-8)


def test_teacher_depth_gives_teacher_code_and_cost():
    """At z′ = the teacher's own depth, φ̃ = φ_nrsfm and L̃ is the teacher's cost (Eq. 9)."""
    rng = np.random.default_rng(4)
    D, R, phi = _instance(rng, b=4, j=10, k=40)
    B = rotated_dictionary(torch.tensor(D), torch.tensor(R))
    shape = torch.einsum("bjak,bk->bja", B, torch.tensor(phi))
    w = shape[..., :2] + 0.01 * torch.tensor(rng.normal(size=(4, 10, 2)))
    z = shape[..., 2] + 5.0  # any depth offset
    phit = project_codes(z, B[:, :, 2, :], torch.tensor(phi), damping=1e-10)
    np.testing.assert_allclose(phit.numpy(), phi, atol=1e-7)
    terms = distill_depth_loss(z, w, B, torch.tensor(phi), l1_weight=0.3, damping=1e-10,
                               reduce=False)
    res = (shape[..., :2] - w).numpy()
    res -= res.mean(1, keepdims=True)
    expect = np.sqrt((res ** 2).sum((1, 2))) + 0.3 * np.abs(phi).sum(1)
    np.testing.assert_allclose(terms["loss"].numpy(), expect, rtol=1e-6)
    # a wrong depth costs more than the teacher's
    worse = distill_depth_loss(z + torch.tensor(rng.normal(size=(4, 10))), w, B,
                               torch.tensor(phi), damping=1e-10, reduce=False)["loss"]
    assert (worse > terms["loss"]).all()


def test_gradcheck_float64():
    rng = np.random.default_rng(5)
    D, R, phi = _instance(rng, b=2, j=6, k=15)
    B = rotated_dictionary(torch.tensor(D), torch.tensor(R))
    w = torch.tensor(rng.normal(size=(2, 6, 2)))
    obs = torch.tensor(rng.random((2, 6)) > 0.2)
    z = torch.tensor(rng.normal(size=(2, 6)), requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda z: distill_depth_loss(z, w, B, torch.tensor(phi), obs, 0.3, 1e-3), (z,))


def test_invariant_to_depth_shift():
    rng = np.random.default_rng(6)
    D, R, phi = _instance(rng, b=3, j=9, k=25)
    B = rotated_dictionary(torch.tensor(D), torch.tensor(R))
    w = torch.tensor(rng.normal(size=(3, 9, 2)))
    z = torch.tensor(rng.normal(size=(3, 9)))
    a = distill_depth_loss(z, w, B, torch.tensor(phi))
    b = distill_depth_loss(z + 3.7, w, B, torch.tensor(phi))
    assert float(a) == pytest.approx(float(b), rel=1e-10)
    assert float(weaksup_depth_loss(z + 2.0, z)) == pytest.approx(0.0, abs=1e-12)


def test_unobserved_landmarks_do_not_count():
    rng = np.random.default_rng(7)
    D, R, phi = _instance(rng, b=1, j=6, k=12)
    B = rotated_dictionary(torch.tensor(D), torch.tensor(R))
    w = torch.tensor(rng.normal(size=(1, 6, 2)))
    obs = torch.tensor([[1, 1, 1, 1, 1, 0]], dtype=torch.bool)
    z = torch.tensor(rng.normal(size=(1, 6)))
    w2 = w.clone()
    w2[0, 5, 0] += 100.0
    assert float(distill_depth_loss(z, w, B, torch.tensor(phi), obs)) == pytest.approx(
        float(distill_depth_loss(z, w2, B, torch.tensor(phi), obs)))
    assert float(xy_loss(w, w2, obs)) == 0.0
    assert float(xy_loss(w, w2)) == pytest.approx(100.0)


def test_gt_depth_normalized_recovers_scale():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(5, 10, 3)) * 300.0
    w = X[..., :2] / 900.0 + 0.2  # normalised 2D = scaled, shifted x, y
    z = gt_depth_normalized(X, w, np.ones((5, 10), bool))
    np.testing.assert_allclose(z, (X[..., 2] - X[..., 2].mean(1, keepdims=True)) / 900.0,
                               rtol=1e-5, atol=1e-6)


def test_losses_stay_float32_under_autocast():
    """The integral student trains under autocast on a GPU; in bfloat16 Eq. 13's damped solve
    gave 30.06 for a loss of 8.76 (and CUDA refused the mixed dtypes). The losses with matrix
    products run in float32 whatever the autocast around them."""
    g = torch.Generator().manual_seed(0)
    rot = torch.linalg.qr(torch.randn(4, 3, 3, generator=g))[0]
    D = torch.randn(51, 8, generator=g)
    z, w = torch.randn(4, 17, generator=g), torch.randn(4, 17, 2, generator=g)
    codes = torch.randn(4, 8, generator=g)
    want = distill_depth_loss(z, w, rotated_dictionary(D, rot), codes)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        B = rotated_dictionary(D, rot)
        got = distill_depth_loss(z, w, B, codes)
        phi = project_codes(z, B[:, :, 2, :], codes)
    assert B.dtype == got.dtype == phi.dtype == torch.float32
    torch.testing.assert_close(got, want)
