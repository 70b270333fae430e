"""Each sample's joints fitted by least squares, with variances from the data (issue 15).

:mod:`poselab.nrsfm.articulation` puts every landmark exactly on its observed ray and derives
each bone's front/back depth from its foreshortened 2D length — exact labels become exact 3D,
but noisy labels become noisy depth. Here every sample's joints ``Y (J, 3)`` (box units,
camera frame of :mod:`poselab.nrsfm.camera`) minimise

    Σ_j m_j ‖A_j Y_j − b_j‖² s_i² / ((1 + σ_i z_j)² ς_2D²)             (2D labels, px)
  + Σ_j ‖Y_j,xy − X_j,xy‖² / ς_xy²  +  (Y_j,z − X_j,z)² / ς_z²         (the network's shape)
    [or, with ``NoiseModel.prior_cov`` Σ, (Y − X)ᵀ Σ⁻¹ (Y − X) over all joints at once]
  + Σ_e (‖Y_c − Y_p‖ − s p_e)² / (s ς_b)²                             (rigid bones, when rigid)

with ``A_j Y_j − b_j = Y_j,xy + τ − r_c z_j − n_j (1 + σ z_j)`` the perspective reprojection
error of :func:`poselab.nrsfm.camera.project` times ``1 + σ z_j`` (σ = 0, r_c = 0 for weak
perspective), ``s_i`` the sample's box side in pixels, ``X`` the network's shape, ``p_e`` the
set's bone proportions and ``s`` the sample's body scale (least squares on its bone lengths).
It is a maximum a posteriori estimate with Gaussian label noise ς_2D (px), a Gaussian prior
around the network (ς_xy, ς_z) and nearly rigid bones (ς_b, a fraction of the body scale).

**The variances are estimated from the data alone**
(:func:`poselab.nrsfm.noise_estimate.estimate_noise`) by variance-component estimation
(Helmert; Förstner, "Ein Verfahren zur Schätzung von Varianz- und Kovarianzkomponenten",
AVN 1979): at the solution, group k's component is ``ς_k² = Σ v_kᵀ v_k / r_k``, with ``v_k``
its residuals and ``r_k = n_k − tr(H⁻¹ H_k)`` its redundancy (observations minus the
parameters it determines), summed over a subset of samples and iterated. The 2D noise is
identifiable because the bones and the network both say where a joint should be: the part of
the label residual that neither explains is noise. Without rigid bones the 2D and the network's
x, y are two readings of the same coordinates and cannot be told apart: the 2D noise is then
taken as the network's label residual (an upper bound: it includes the network's error).

The posterior covariance ``H⁻¹`` (Gauss–Newton Hessian at the solution, with the estimated
variances) gives each joint's uncertainty ``std_j = √tr Σ_jj`` (the RMS 3D error the model
expects). An unobserved joint has no 2D term, so its uncertainty is that of the bones and the
network's prior: larger than an observed joint's. It rises with the estimated label noise.
With an independent prior per joint, ``H`` couples joints only along the bones, and for a
skeleton whose bones form a tree it is solved and inverted exactly in ``O(J)``
(:mod:`poselab.nrsfm.tree_solve`; 3–4× faster than the dense Cholesky on h36m17); a learnt
error covariance (``prior_cov``) or bones with a cycle use the dense factorisation.
How the output step uses this: :mod:`poselab.nrsfm.noise_aware`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from poselab.nrsfm.tree_solve import TreeOrder, tree_inverse_blocks, tree_order, tree_solve

#: Samples (evenly spaced) on which the variance components are estimated.
VCE_SAMPLES = 1500
#: Bone-length deviation (fraction of the body scale) held while estimating the variances.
STIFF_BONES = 0.01
#: Variance-component iterations, and Gauss–Newton (Levenberg–Marquardt) steps per solve.
VCE_ITERATIONS = 8
GN_STEPS = 4
#: Smallest label noise considered, as a fraction of the median box side (0.03 px for a
#: 300-px person): exact labels are rounded to about this much. (A fixed 0.05 px was 1 % of
#: the box of the classic sequences, whose 2D is in units of ~6 per box: their exact labels
#: then looked noisy.)
MIN_NOISE = 1e-4


def noise_floor(scale) -> float:
    """Smallest label noise considered, in the 2D's units: :data:`MIN_NOISE` × median box."""
    return MIN_NOISE * float(np.median(np.asarray(scale, np.float64)))


@dataclass
class NoiseModel:
    """Standard deviations of the least-squares terms (estimated, GT-free).

    Attributes:
        noise_px: label noise ς_2D, pixels (per coordinate).
        prior_xy, prior_z: the network's error per coordinate, box units (DESIGN §3).
        bone: bone-length deviation as a fraction of the body scale s (0 = bones free).
        network_px: RMS per-coordinate label residual of the network, pixels.
        misfit_ref, bone_dev_ref: the fitted set's medians of the two per-sample indicators
            of :func:`poselab.nrsfm.noise_estimate.prior_scales` (0: not set — older files —
            then the medians of the samples at hand are used).
        temporal: 1 when ``noise_px`` came from the samples' order
            (:func:`poselab.nrsfm.temporal.temporal_noise_bound`): with free bones the
            label noise is then told apart from the network's error (0: it was not).
        prior_cov: ``(3J, 3J)`` covariance of the network's error over all joints and
            coordinates (box units², joint-major x, y, z;
            :func:`poselab.nrsfm.prior_covariance.estimate_prior_covariance`), used instead
            of ``prior_xy`` / ``prior_z`` when set; None: independent joints.
    """

    noise_px: float
    prior_xy: float
    prior_z: float
    bone: float
    network_px: float = 0.0
    misfit_ref: float = 0.0
    bone_dev_ref: float = 0.0
    temporal: float = 0.0
    prior_cov: np.ndarray | None = None

    def to_dict(self) -> dict:
        """JSON-ready (``prior_cov`` as nested lists)."""
        return {k: (None if v is None else np.asarray(v, np.float64).tolist())
                if k == "prior_cov" else float(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> NoiseModel:
        """Inverse of :meth:`to_dict` (older dicts have no ``prior_cov``)."""
        d = dict(d)
        if d.get("prior_cov") is not None:
            d["prior_cov"] = np.asarray(d["prior_cov"], np.float64)
        return cls(**d)

    def widened(self, xy: float, z: float) -> NoiseModel:
        """A copy whose prior standard deviations are ``xy`` times wider in x, y and ``z``
        times in depth (``prior_cov`` scaled likewise, its correlations kept)."""
        if self.prior_cov is None:
            return replace(self, prior_xy=self.prior_xy * xy, prior_z=self.prior_z * z)
        d = np.tile([xy, xy, z], len(self.prior_cov) // 3)
        return replace(self, prior_cov=np.asarray(self.prior_cov) * d[:, None] * d[None, :])

    def precision(self, J: int) -> np.ndarray:
        """``(3J, 3J)`` inverse of the network's error covariance (box units⁻²)."""
        if self.prior_cov is not None:
            return np.linalg.inv(self.prior_cov)
        return np.diag(np.tile([self.prior_xy ** -2, self.prior_xy ** -2, self.prior_z ** -2],
                               J))

    def prior_variance(self, J: int) -> np.ndarray:
        """``(J,)`` each joint's prior variance ``tr Σ_jj`` (box units²)."""
        if self.prior_cov is not None:
            return np.diagonal(self.prior_cov).reshape(J, 3).sum(1)
        return np.full(J, 2 * self.prior_xy ** 2 + self.prior_z ** 2)


def _ray_terms(n, mask, tau, sigma, ray_centre):
    """``A (N, J, 2, 3)`` and ``b (N, J, 2)`` of the linear reprojection residual."""
    N, J = n.shape[:2]
    A = np.zeros((N, J, 2, 3))
    A[..., 0, 0] = A[..., 1, 1] = 1.0
    A[..., :, 2] = -(ray_centre[:, None, :] + sigma[:, None, None] * n)
    b = n - tau[:, None, :]
    return A, b


def _solve(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``H⁻¹ g`` for ``(N, P, P)`` symmetric positive definite H and ``(N, P)`` g (torch
    Cholesky, float64: faster than numpy's LU on many small systems)."""
    import torch

    L = torch.linalg.cholesky(torch.from_numpy(H))
    return torch.cholesky_solve(torch.from_numpy(g)[..., None], L)[..., 0].numpy()


def inverse_spd(H: np.ndarray) -> np.ndarray:
    """``(N, P, P)`` inverses of symmetric positive definite ``H`` (torch Cholesky, float64)."""
    import torch

    return torch.cholesky_inverse(torch.linalg.cholesky(torch.from_numpy(H))).numpy()


def _diagonal_blocks_of_inverse(H: np.ndarray, J: int) -> np.ndarray:
    """``(N, J, 3, 3)`` diagonal 3×3 blocks of ``H⁻¹`` (H ``(N, 3J, 3J)`` SPD)."""
    inv = inverse_spd(H)
    return np.stack([inv[:, 3 * j:3 * j + 3, 3 * j:3 * j + 3] for j in range(J)], 1)


def body_scale(Y: np.ndarray, bones: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``(N,)`` least-squares scale ``s = Σ p_e L_e / Σ p_e²`` of the bone lengths of ``Y``."""
    L = np.linalg.norm(Y[:, bones[:, 0]] - Y[:, bones[:, 1]], axis=-1)
    return np.maximum((L * p).sum(1) / max(float((p * p).sum()), 1e-12), 1e-9)


class Problem:
    """One batch of samples: data, weights and the Gauss–Newton system."""

    def __init__(self, X, n, mask, tau, sigma, ray_centre, scale, bones, p, model,
                 prior_scale=None):
        self.X = np.asarray(X, np.float64)
        self.n = np.asarray(n, np.float64)
        self.mask = np.asarray(mask, np.float64)
        self.sigma = np.asarray(sigma, np.float64)
        self.scale = np.asarray(scale, np.float64)
        self.A, self.b = _ray_terms(self.n, self.mask, np.asarray(tau, np.float64), self.sigma,
                                    np.asarray(ray_centre, np.float64))
        self.bones = np.zeros((0, 2), int) if bones is None else np.asarray(bones, int)
        self.p = None if p is None else np.asarray(p, np.float64)
        self.model = model
        self.N, self.J = self.X.shape[:2]
        # per-sample multiplier of the network's prior standard deviations
        self.k2 = (np.ones(self.N) if prior_scale is None
                   else np.asarray(prior_scale, np.float64) ** 2)

    @property
    def P(self) -> np.ndarray:
        """``(3J, 3J)`` prior precision, box units⁻² (from the model now: the variance
        components change it between solves)."""
        return self.model.precision(self.J)

    # -- residuals ------------------------------------------------------------------------
    def w2d(self, Y):
        """``(N, J)`` weight of each landmark's linear 2D residual (normalised units)."""
        den = np.maximum(1 + self.sigma[:, None] * Y[..., 2], 0.2)
        return self.mask * (self.scale[:, None] / den) ** 2 / self.model.noise_px ** 2

    def r2d(self, Y):
        return np.einsum("njck,njk->njc", self.A, Y) - self.b

    def px_residual(self, Y):
        """``(N, J, 2)`` reprojection error in pixels (0 where unobserved)."""
        den = np.maximum(1 + self.sigma[:, None] * Y[..., 2], 0.2)
        return self.r2d(Y) * (self.mask * self.scale[:, None] / den)[..., None]

    @property
    def rigid(self) -> bool:
        return self.p is not None and len(self.bones) > 0 and self.model.bone > 0

    def bone_terms(self, Y, s):
        d = Y[:, self.bones[:, 1]] - Y[:, self.bones[:, 0]]
        L = np.maximum(np.linalg.norm(d, axis=-1), 1e-9)
        return d / L[..., None], L - s[:, None] * self.p

    def cost(self, Y, s):
        c = (self.w2d(Y) * (self.r2d(Y) ** 2).sum(-1)).sum(1)
        dx = (Y - self.X).reshape(self.N, -1)
        c += ((dx @ self.P) * dx).sum(1) / self.k2
        if self.rigid:
            _, r = self.bone_terms(Y, s)
            c += ((r / (s[:, None] * self.model.bone)) ** 2).sum(1)
        return c

    # -- Gauss–Newton system ----------------------------------------------------------------
    @property
    def tree(self) -> TreeOrder | None:
        """The bones' elimination order when ``H`` couples joints only along a forest of
        bones (independent prior per joint): then :mod:`poselab.nrsfm.tree_solve` solves
        it exactly in ``O(J)``; None: dense Cholesky."""
        if self.model.prior_cov is not None:
            return None
        if not hasattr(self, "_tree"):
            self._tree = tree_order(self.bones if self.rigid else np.zeros((0, 2), int), self.J)
        return self._tree

    def blocks(self, Y, s):
        """The system by 3×3 blocks: diagonal ``D (N, J, 3, 3)`` (2D, the prior's diagonal
        blocks and the bones), each bone's off-diagonal ``B (N, E, 3, 3)`` (symmetric),
        gradient ``g (N, J, 3)`` (of half the cost), and the 2D and prior parts of ``D``."""
        N, J, m = self.N, self.J, self.model
        w = self.w2d(Y)
        # AᵀA and Aᵀr written out: A = [I₂ | a] with a = A[:, :, 2] (``_ray_terms``)
        az, r2 = self.A[..., 2], self.r2d(Y)
        H2 = np.zeros((N, J, 3, 3))
        H2[..., 0, 0] = H2[..., 1, 1] = w
        H2[..., :2, 2] = H2[..., 2, :2] = w[..., None] * az
        H2[..., 2, 2] = w * (az * az).sum(-1)
        g = np.concatenate([w[..., None] * r2, (w * (az * r2).sum(-1))[..., None]], -1)
        P = self.P
        g = g + ((Y - self.X).reshape(N, -1) @ P).reshape(N, J, 3) / self.k2[:, None, None]
        # the prior's diagonal 3×3 blocks (the variance components' redundancies)
        Pd = np.stack([P[3 * j:3 * j + 3, 3 * j:3 * j + 3] for j in range(J)])
        Hp = Pd[None] / self.k2[:, None, None, None]
        D = H2 + Hp
        B = np.zeros((N, len(self.bones), 3, 3))
        if self.rigid:
            u, r = self.bone_terms(Y, s)
            wb = 1.0 / (s * m.bone) ** 2
            for e, (a, c) in enumerate(self.bones):
                uu = wb[:, None, None] * u[:, e, :, None] * u[:, e, None, :]
                D[:, a] += uu
                D[:, c] += uu
                B[:, e] = -uu
                ge = (wb * r[:, e])[:, None] * u[:, e]
                g[:, c] += ge
                g[:, a] -= ge
        return D, B, g, H2, Hp

    def system(self, Y, s, parts: bool = False):
        """Hessian ``H (N, 3J, 3J)``, gradient ``g (N, 3J)`` (of half the cost); with
        ``parts`` also the block-diagonal 2D and prior Hessians ``(N, J, 3, 3)``."""
        D, B, g, H2, Hp = self.blocks(Y, s)
        H = self._dense(D, B)
        g = g.reshape(self.N, 3 * self.J)
        return (H, g, H2, Hp) if parts else (H, g)

    def _dense(self, D, B):
        """``(N, 3J, 3J)`` H from its blocks (the prior's off-diagonal blocks added)."""
        H = np.broadcast_to(self.P[None] / self.k2[:, None, None],
                            (self.N, 3 * self.J, 3 * self.J)).copy()
        for j in range(self.J):
            H[:, 3 * j:3 * j + 3, 3 * j:3 * j + 3] = D[:, j]
        if self.rigid:
            for e, (a, c) in enumerate(self.bones):
                H[:, 3 * a:3 * a + 3, 3 * c:3 * c + 3] += B[:, e]
                H[:, 3 * c:3 * c + 3, 3 * a:3 * a + 3] += B[:, e]
        return H

    def _step(self, Y, s, lam):
        """The damped Gauss–Newton step ``−(H + λ diag H)⁻¹ g``, ``(N, J, 3)``."""
        D, B, g, _, _ = self.blocks(Y, s)
        k = np.arange(3)
        D[:, :, k, k] *= (1 + lam)[:, None, None]  # Levenberg–Marquardt damping
        if self.tree is not None:
            return -tree_solve(D, B, g, self.tree)
        return -_solve(self._dense(D, B), g.reshape(self.N, -1)).reshape(Y.shape)

    def solve(self, Y, steps: int = GN_STEPS):
        """Levenberg–Marquardt steps from ``Y``; returns ``Y`` and the body scales ``s``."""
        Y = Y.copy()
        s = body_scale(Y, self.bones, self.p) if self.rigid else np.ones(self.N)
        lam = np.full(self.N, 1e-3)
        cost = self.cost(Y, s)
        for _ in range(steps):
            Yn = Y + self._step(Y, s, lam)
            sn = body_scale(Yn, self.bones, self.p) if self.rigid else s
            cn = self.cost(Yn, sn)
            ok = cn <= cost
            Y = np.where(ok[:, None, None], Yn, Y)
            s = np.where(ok, sn, s)
            cost = np.where(ok, cn, cost)
            lam = np.where(ok, np.maximum(lam / 3, 1e-7), lam * 10)
        return Y, s

    def covariance_blocks(self, Y, s):
        """Posterior ``(N, J, 3, 3)`` covariance blocks of each joint (box units²), and the
        redundancies of the 2D, prior-xy, prior-z and bone groups (summed over samples)."""
        D, B, _, H2, Hp = self.blocks(Y, s)
        J = self.J
        blocks = (tree_inverse_blocks(D, B, self.tree) if self.tree is not None
                  else _diagonal_blocks_of_inverse(self._dense(D, B), J))
        t2 = np.einsum("njkl,njlk->", blocks, H2)
        txy = np.einsum("njkl,njlk->", blocks[..., :2, :2], Hp[..., :2, :2])
        tz = np.einsum("nj,nj->", blocks[..., 2, 2], Hp[..., 2, 2])
        tb = self.N * 3 * J - t2 - txy - tz  # tr(H⁻¹ H) = number of parameters
        red = {"2d": 2 * self.mask.sum() - t2, "xy": 2 * self.N * J - txy,
               "z": self.N * J - tz, "bone": (self.N * len(self.bones) - tb) if self.rigid
               else 0.0}
        return blocks, red


def refine_lsq(X, Y0, n, mask, tau, sigma, ray_centre, scale, model: NoiseModel, bones=None,
               p=None, steps: int = GN_STEPS, full_covariance: bool = True,
               prior_scale: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares joints of each sample and their uncertainty.

    Args:
        X: ``(N, J, 3)`` the network's shapes (box units, camera frame). Y0: ``(N, J, 3)`` a
            starting point (e.g. the rigid-bone shapes on the rays). n, mask, tau, sigma,
            ray_centre, scale: the normalised 2D and its camera (:class:`NRSfMInputs`, the
            fit's τ), scale in px. bones ``(E, 2)`` and proportions p ``(E,)``: rigid bones
            (None: free). model: the estimated :class:`NoiseModel`
            (:func:`poselab.nrsfm.noise_estimate.estimate_noise`).

    Returns:
        ``Y (N, J, 3)`` float64 box units, camera frame; ``std (N, J)`` float64 box units:
        ``√tr`` of each joint's posterior covariance (``full_covariance`` False: of its
        covariance given the other joints, cheaper and smaller).
    """
    prob = Problem(X, n, mask, tau, sigma, ray_centre, scale,
                   bones if model.bone > 0 else None, p, model, prior_scale)
    Y, s = prob.solve(np.asarray(Y0, np.float64), steps)
    if full_covariance:
        blocks, _ = prob.covariance_blocks(Y, s)
    else:
        blocks = np.linalg.inv(prob.blocks(Y, s)[0])
    std = np.sqrt(np.maximum(np.einsum("njkk->nj", blocks), 0.0))
    return Y, std


