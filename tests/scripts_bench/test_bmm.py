"""scripts/bmm.py (the BMM baseline, Dai et al. CVPR 2012) on synthetic data with a known
answer, and a smoke run of scripts/bench_unseen.py (STYLE.md §6)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from poselab.metrics.nrsfm import e3d_akhter

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import bmm  # noqa: E402


def _sequence(F: int, P: int, K: int, seed: int = 0):
    """Low-rank shapes (mean + K − 1 smaller modes) under a smoothly moving orthographic camera
    (5°/frame about y plus wobble): ``W`` (F, P, 2) and camera-frame ``S`` (F, P, 3)."""
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(K, P, 3))
    c = np.concatenate([1 + 0.1 * rng.normal(size=(F, 1)), 0.3 * rng.normal(size=(F, K - 1))],
                       axis=1)
    S_world = np.einsum("fk,kpi->fpi", c, basis)
    f = np.arange(F)
    angles = np.stack([np.deg2rad(5) * f, np.deg2rad(20) * np.sin(f / 7),
                       np.deg2rad(10) * np.cos(f / 11)], axis=1)
    R = Rotation.from_euler("yxz", angles).as_matrix()
    S = np.einsum("fij,fpj->fpi", R, S_world)
    return S[..., :2], S


def test_rigid_object_is_recovered_exactly():
    W, S = _sequence(60, 15, K=1)
    S_hat, R = bmm.bmm(W, K=1)
    assert S_hat.shape == S.shape and R.shape == (60, 3, 3)
    assert np.allclose(R @ R.transpose(0, 2, 1), np.eye(3), atol=1e-9)
    assert np.allclose(np.linalg.det(R), 1)
    assert np.allclose(S_hat[..., :2], W - W.mean(1, keepdims=True), atol=1e-6)
    assert e3d_akhter(S, S_hat) < 1e-3


def test_low_rank_nonrigid_object_beats_flat():
    W, S = _sequence(120, 20, K=2)
    flat = np.concatenate([W, np.zeros_like(W[..., :1])], axis=-1)
    S_hat, _ = bmm.bmm(W, K=2)
    e, e_flat = e3d_akhter(S, S_hat), e3d_akhter(S, flat)
    assert e_flat > 0.5 and e < 0.01 * e_flat, (e, e_flat)


def test_constraints_and_jacobian_match_brute_force():
    rng = np.random.default_rng(1)
    M, Q = rng.normal(size=(10, 6)), rng.normal(size=(6, 6))
    Q = Q + Q.T
    m1, m2 = M[0::2], M[1::2]
    direct = np.empty(10)
    direct[0::2] = np.einsum("fi,ij,fj->f", m1, Q, m1) - np.einsum("fi,ij,fj->f", m2, Q, m2)
    direct[1::2] = np.einsum("fi,ij,fj->f", m1, Q, m2)
    assert np.allclose(bmm.rotation_constraints(M) @ Q[np.triu_indices(6)], direct)
    g, eps = rng.normal(size=18), 1e-6
    numeric = np.stack([(bmm._orthogonality_residuals(g + eps * e, M)
                         - bmm._orthogonality_residuals(g - eps * e, M)) / (2 * eps)
                        for e in np.eye(18)], axis=1)
    assert np.allclose(bmm._orthogonality_jacobian(g, M), numeric, atol=1e-6)


def test_bad_input_raises():
    with pytest.raises(ValueError, match=r"\(F, P, 2\)"):
        bmm.bmm(np.zeros((5, 4, 3)), K=1)


def test_bench_unseen_smoke(shared_data):
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_unseen.py"),
                        "--actions", "walking", "--frames", "40", "--kmin", "1", "--kmax", "2",
                        "--skip-poselab"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "walking 5°/fr" in r.stdout and "walking 2°/fr" in r.stdout


def test_surface_markers_ride_rigidly_on_their_bones():
    import bench_unseen

    rng = np.random.default_rng(3)
    F, bones = 30, np.array([[0, 1], [0, 4], [1, 2]])
    X = rng.normal(scale=300.0, size=(F, 5, 3))  # joints 1 and 4 give the hip axis
    M = bench_unseen.surface_markers(X, bones, seed=1)
    assert M.shape == (F, 5 + 2 * len(bones), 3)
    np.testing.assert_array_equal(M[:, :5], X)
    for b, (i, j) in enumerate(bones):
        d = X[:, j] - X[:, i]
        L = np.linalg.norm(d, axis=-1)
        for k, share in enumerate((1 / 3, 2 / 3)):
            off = M[:, 5 + 2 * b + k] - (X[:, i] + share * d)
            r = np.linalg.norm(off, axis=-1)
            assert np.ptp(r) < 1e-9 and 30 <= r[0] <= 70  # a fixed distance off the axis
            np.testing.assert_allclose((off * d).sum(-1) / L, 0, atol=1e-9)  # across it


def test_bench_unseen_surface_smoke(shared_data):
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_unseen.py"), "--surface",
                        "--actions", "walking", "--frames", "40", "--kmin", "1", "--kmax", "2",
                        "--slow-deg", "0", "--skip-poselab"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "49 points (surface markers)" in r.stdout and "walking 5°/fr" in r.stdout
