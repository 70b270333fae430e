"""Tree-structured block systems (poselab.nrsfm.tree_solve) against dense linear algebra, and
the least-squares refinement solved both ways."""

from __future__ import annotations

import numpy as np
import pytest
from test_least_squares import problem

from poselab.core import get_skeleton
from poselab.nrsfm.articulation import refine
from poselab.nrsfm.least_squares import NoiseModel, Problem
from poselab.nrsfm.tree_solve import tree_inverse_blocks, tree_order, tree_solve

SK = get_skeleton("h36m17")


def random_tree_system(bones, J, N=7, seed=0):
    """SPD blocks coupled along ``bones``: D (N, J, 3, 3), B (N, E, 3, 3), dense H."""
    rng = np.random.default_rng(seed)
    E = len(bones)
    U = rng.normal(size=(N, E, 3, 3))
    B = -(U @ U.transpose(0, 1, 3, 2)) / 3
    V = rng.normal(size=(N, J, 3, 3))
    D = V @ V.transpose(0, 1, 3, 2) / 3 + 0.2 * np.eye(3)
    for e, (a, c) in enumerate(bones):  # a graph Laplacian's share keeps H positive definite
        D[:, a] -= B[:, e]
        D[:, c] -= B[:, e]
    H = np.zeros((N, 3 * J, 3 * J))
    for j in range(J):
        H[:, 3 * j:3 * j + 3, 3 * j:3 * j + 3] = D[:, j]
    for e, (a, c) in enumerate(bones):
        H[:, 3 * a:3 * a + 3, 3 * c:3 * c + 3] = B[:, e]
        H[:, 3 * c:3 * c + 3, 3 * a:3 * a + 3] = B[:, e]
    return D, B, H


@pytest.mark.parametrize("bones,J", [
    (SK.bones_array, SK.num_joints),
    (np.array([[0, 1], [1, 2], [3, 4]]), 6),  # two components and an isolated joint
    (np.zeros((0, 2), int), 4),  # no bones: block diagonal
])
def test_solution_and_inverse_blocks_equal_dense_algebra(bones, J):
    D, B, H = random_tree_system(bones, J)
    assert np.linalg.eigvalsh(H).min() > 0
    order = tree_order(bones, J)
    assert order is not None and len(order.steps) == len(bones)
    g = np.random.default_rng(1).normal(size=(len(D), J, 3))
    x = tree_solve(D, B, g, order)
    want = np.linalg.solve(H, g.reshape(len(D), -1)[..., None])[..., 0].reshape(g.shape)
    np.testing.assert_allclose(x, want, rtol=1e-9, atol=1e-12)
    inv = np.linalg.inv(H)
    blocks = tree_inverse_blocks(D, B, order)
    for j in range(J):
        np.testing.assert_allclose(blocks[:, j], inv[:, 3 * j:3 * j + 3, 3 * j:3 * j + 3],
                                   rtol=1e-9, atol=1e-12)


def test_cycles_and_repeated_bones_are_not_trees():
    assert tree_order(np.array([[0, 1], [1, 2], [2, 0]]), 3) is None
    assert tree_order(np.array([[0, 1], [1, 0]]), 2) is None
    order = tree_order(np.array([[0, 1], [1, 2], [1, 3]]), 4)
    assert order.roots == (1,)  # the centre
    # leaves first: every joint is eliminated before its parent
    eliminated = [j for j, _, _ in order.steps]
    for j, q, _ in order.steps:
        assert q not in eliminated or eliminated.index(q) > eliminated.index(j)


@pytest.mark.parametrize("hide", [0.0, 0.3])
def test_refinement_is_the_same_solved_densely(hide):
    inputs, truth, X = problem(5.0, hide=hide, n=120)
    tau = np.zeros((len(X), 2))
    Y0, p = refine(X, inputs, tau, SK)
    model = NoiseModel(5.0, 0.04, 0.05, 0.02)
    args = (X, inputs.n, inputs.mask, tau, inputs.sigma, inputs.ray_centre, inputs.scale,
            SK.bones_array, p, model)
    tree, dense = Problem(*args), Problem(*args)
    dense._tree = None  # force the dense Cholesky path
    assert tree.tree is not None and dense.tree is None
    Yt, st = tree.solve(Y0)
    Yd, sd = dense.solve(Y0)
    np.testing.assert_allclose(Yt, Yd, rtol=1e-8, atol=1e-10)
    bt, rt = tree.covariance_blocks(Yt, st)
    bd, rd = dense.covariance_blocks(Yd, sd)
    np.testing.assert_allclose(bt, bd, rtol=1e-7, atol=1e-12)
    for k in rd:
        assert rt[k] == pytest.approx(rd[k], rel=1e-8)
    assert np.abs(Yt - Y0).max() > 1e-3  # the steps moved the joints
