"""Linear systems whose 3×3 blocks couple joints only along the bones of a tree.

The least-squares refinement of :mod:`poselab.nrsfm.least_squares` has, per sample, a
``(3J, 3J)`` Gauss–Newton matrix ``H`` whose off-diagonal 3×3 blocks are non-zero only between
the two joints of a bone (when the network's prior is independent per joint, i.e. without
``NoiseModel.prior_cov``). When the bones form a forest — every human skeleton here — eliminating
joints leaves-first creates no fill-in (block Gaussian elimination on a tree; e.g. Davis,
*Direct Methods for Sparse Linear Systems*, SIAM 2006, §4), so ``H⁻¹ g`` costs ``O(J)`` 3×3
operations instead of a dense ``O((3J)³)`` Cholesky factorisation, and the diagonal blocks of
``H⁻¹`` (the joints' posterior covariances) follow from the same factors by the Takahashi
recursion (Takahashi, Fagan & Chen 1973): with ``H = L D̃ Lᵀ`` (``L`` unit block-lower, one
off-diagonal block per column, ``L_qj = B_qj D̃_j⁻¹`` for the parent ``q`` of ``j``),

    Σ_qj = −Σ_qq L_qj,     Σ_jj = D̃_j⁻¹ − L_qjᵀ Σ_qj = D̃_j⁻¹ + D̃_j⁻¹ B Σ_qq B D̃_j⁻¹.

Both are exact (the same numbers as the dense factorisation, up to rounding); they are
vectorised over samples and loop over the ``J`` joints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TreeOrder:
    """Elimination order of a forest of bones.

    Attributes:
        steps: ``(child, parent, bone)`` index triples, leaves first (a joint comes after all
            its children); reversed, parents come before their children.
        roots: the joints with no parent (one per connected component, isolated joints
            included).
    """

    steps: tuple[tuple[int, int, int], ...]
    roots: tuple[int, ...]


def tree_order(bones: np.ndarray, J: int) -> TreeOrder | None:
    """The leaves-first elimination order of ``bones`` ``(E, 2)`` over ``J`` joints, or None
    when the bones hold a cycle or repeat a pair (then the system is not a tree: use a dense
    solver). The trees are the skeleton's own, rooted at its centre
    (:func:`poselab.nrsfm.articulation.spanning_tree`)."""
    from poselab.nrsfm.articulation import spanning_tree

    bones = np.asarray(bones, int).reshape(-1, 2)
    top_down = spanning_tree(J, bones)
    if len(top_down) != len(bones):  # a bone closed a cycle (or joined a joint to itself)
        return None
    children = {c for _, c, _ in top_down}
    return TreeOrder(tuple((c, p, e) for p, c, e in reversed(top_down)),
                     tuple(j for j in range(J) if j not in children))


def _inv3(M: np.ndarray) -> np.ndarray:
    """Inverses of ``(N, 3, 3)`` symmetric positive definite matrices (adjugate over
    determinant: one vectorised formula instead of a LAPACK call per matrix)."""
    a, b, c = M[:, 0, 0], M[:, 0, 1], M[:, 0, 2]
    d, e, f = M[:, 1, 1], M[:, 1, 2], M[:, 2, 2]
    A = np.empty_like(M)
    A[:, 0, 0] = d * f - e * e
    A[:, 0, 1] = A[:, 1, 0] = c * e - b * f
    A[:, 0, 2] = A[:, 2, 0] = b * e - c * d
    A[:, 1, 1] = a * f - c * c
    A[:, 1, 2] = A[:, 2, 1] = b * c - a * e
    A[:, 2, 2] = a * d - b * b
    det = a * A[:, 0, 0] + b * A[:, 0, 1] + c * A[:, 0, 2]
    return A / det[:, None, None]


def _factor(D: np.ndarray, B: np.ndarray, order: TreeOrder, g: np.ndarray | None = None):
    """Leaves-first elimination: ``(J, N, 3, 3)`` inverses of the reduced diagonal blocks
    ``D̃_j⁻¹`` and, with ``g``, the reduced right-hand side ``(J, N, 3)``."""
    D = np.array(D, np.float64).transpose(1, 0, 2, 3).copy()
    g = None if g is None else np.array(g, np.float64).transpose(1, 0, 2).copy()
    Dinv = np.empty_like(D)
    for j, q, e in order.steps:
        Dinv[j] = _inv3(D[j])
        BDinv = B[:, e] @ Dinv[j]
        D[q] -= BDinv @ B[:, e]
        if g is not None:
            g[q] -= np.einsum("nkl,nl->nk", BDinv, g[j])
    for r in order.roots:
        Dinv[r] = _inv3(D[r])
    return Dinv, g


def tree_solve(D: np.ndarray, B: np.ndarray, g: np.ndarray, order: TreeOrder) -> np.ndarray:
    """``H⁻¹ g`` per sample.

    Args:
        D: ``(N, J, 3, 3)`` diagonal blocks of ``H`` (symmetric positive definite system).
        B: ``(N, E, 3, 3)`` symmetric off-diagonal block of each bone (``H[a, c] = H[c, a]``).
        g: ``(N, J, 3)`` right-hand side. order: :func:`tree_order` of the bones.

    Returns:
        ``(N, J, 3)`` float64 solution.
    """
    Dinv, g = _factor(D, B, order, g)
    x = np.empty_like(g)
    for r in order.roots:
        x[r] = np.einsum("nkl,nl->nk", Dinv[r], g[r])
    for j, q, e in reversed(order.steps):
        rhs = g[j] - np.einsum("nkl,nl->nk", B[:, e], x[q])
        x[j] = np.einsum("nkl,nl->nk", Dinv[j], rhs)
    return x.transpose(1, 0, 2)


def tree_inverse_blocks(D: np.ndarray, B: np.ndarray, order: TreeOrder) -> np.ndarray:
    """``(N, J, 3, 3)`` diagonal blocks of ``H⁻¹`` (arguments as :func:`tree_solve`; the
    Takahashi recursion of the module docstring)."""
    Dinv, _ = _factor(D, B, order)
    S = np.empty_like(Dinv)
    for r in order.roots:
        S[r] = Dinv[r]
    for j, q, e in reversed(order.steps):
        L = Dinv[j] @ B[:, e]  # = (B D̃_j⁻¹)ᵀ, B and D̃_j symmetric
        S[j] = Dinv[j] + L @ S[q] @ L.transpose(0, 2, 1)
    return S.transpose(1, 0, 2, 3)
