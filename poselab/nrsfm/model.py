"""The Deep NRSfM network (Kong & Lucey, ICCV 2019; paper 000 §3, Eq. 3–4; DESIGN.md §4).

Multi-layer block-sparse coding ``s = D1 φ1, φ1 = D2 φ2, …, φ(n−1) = Dn φn``, ``φ ≥ 0``. Since
``W = Σk φ1k D1⁽ᵏ⁾ M``, the encoder works on 3×2 blocks ``Ψi[k] = φik M`` (stored as ``(B, 6, K)``):

- ``Ψ1 = ReLU(D1ᵀ W̃ + A (1 − m) − b1)``  (one block per atom; ``m`` the observed mask, ``W̃`` the
  masked 2D rescaled by J / #observed, ``A`` a learned response to missing landmarks),
- ``Ψi = ReLU(Diᵀ Ψ(i−1) − bi)`` for i = 2..n  (the same dictionaries as the decoder),
- camera ``M̂ = Σk ck Ψn[k]`` → nearest orthonormal columns (:func:`camera.orthonormalize`),
- code ``φn = ReLU(L vec(Ψn) + bL)``; decoder ``φ(i−1) = ReLU(Di φi + b′i)``, ``S = D1 φ1``
  (D1's atoms are centred over the joints, so S is too).

Every atom has unit norm (weights normalised in the forward pass), which gives the sparsity
weight its scale-free meaning (see :mod:`poselab.nrsfm.config`).
"""

from __future__ import annotations

import torch
from torch import nn


class DeepNRSfM(nn.Module):
    """Encoder–decoder sharing the dictionaries D1..Dn.

    Args:
        num_joints: J.
        dict_sizes: K1..Kn.
    """

    def __init__(self, num_joints: int, dict_sizes: tuple[int, ...],
                 threshold: str = "group") -> None:
        super().__init__()
        J, K = num_joints, list(dict_sizes)
        self.num_joints, self.dict_sizes, self.threshold = J, tuple(K), threshold
        self.D1 = nn.Parameter(torch.randn(J, 3, K[0]) / (3 * J) ** 0.5)  # ≈ unit atoms
        self.Ds = nn.ParameterList(
            [nn.Parameter(torch.randn(K[i - 1], K[i]) / K[i - 1] ** 0.5) for i in range(1, len(K))])
        self.enc_bias = nn.ParameterList([nn.Parameter(torch.full((k,), 1e-3)) for k in K])
        self.dec_bias = nn.ParameterList([nn.Parameter(torch.zeros(K[i - 1]))
                                          for i in range(1, len(K))])
        self.missing = nn.Parameter(torch.zeros(J, 6 * K[0]))
        self.cam = nn.Parameter(torch.randn(K[-1]) / K[-1] ** 0.5)
        self.code = nn.Linear(K[-1] if threshold == "group" else 6 * K[-1], K[-1])

    # ------------------------------------------------------------------ dictionaries
    def dictionaries(self) -> list[torch.Tensor]:
        """Unit-norm dictionaries.

        Returns:
            D1 ``(J, 3, K1)`` (atoms centred over the joints, unit Frobenius norm) and
            D2..Dn ``(K(i−1), Ki)`` (unit columns).
        """
        D1 = self.D1 - self.D1.mean(0, keepdim=True)  # atoms centred over the joints
        D1 = D1 / D1.pow(2).sum((0, 1), keepdim=True).clamp_min(1e-12).sqrt()
        return [D1] + [D / D.norm(dim=0, keepdim=True).clamp_min(1e-6) for D in self.Ds]

    # ------------------------------------------------------------------ forward
    def forward(self, n: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """Encode 2D to camera and codes, decode the shape.

        Args:
            n: ``(B, J, 2)`` normalised 2D (DESIGN §3), any value where ``mask`` is 0.
            mask: ``(B, J)`` float, 1 where the encoder may use the landmark.

        Returns:
            dict with ``S`` ``(B, J, 3)`` canonical shape (box units, centred), ``M`` ``(B, 3, 2)``
            orthonormal camera, ``codes`` list of φ1..φn ``(B, Ki)``.
        """
        from poselab.nrsfm.camera import orthonormalize

        B, J = mask.shape
        Ds = self.dictionaries()
        K1 = self.dict_sizes[0]
        vis = mask.sum(1).clamp_min(1.0)
        Wt = (n * mask[..., None] * (J / vis)[:, None, None]).transpose(1, 2)  # (B, 2, J)
        psi = (Wt @ Ds[0].reshape(J, 3 * K1)).reshape(B, 6, K1)
        if bool((mask < 1).any()):  # the learned response to missing landmarks (0 if none)
            psi = psi + ((1 - mask) @ self.missing).reshape(B, 6, K1)
        psi = self._shrink(psi, self.enc_bias[0])
        for i in range(1, len(Ds)):
            psi = self._shrink(psi @ Ds[i], self.enc_bias[i])
        # camera: M̂ = Σk ck Ψn[k]; layout of the 6 entries is (d, c) → M̂[c, d]
        M_hat = (psi @ self.cam).reshape(B, 2, 3).transpose(1, 2)
        M = orthonormalize(M_hat)
        if self.threshold == "group":  # Ψn[k] ≈ φnk M  →  φnk ≈ ⟨Ψn[k], M⟩ / 2
            proj = (psi * M.transpose(1, 2).reshape(B, 6, 1)).sum(1) / 2
            phi = torch.relu(self.code(proj))
        else:
            phi = torch.relu(self.code(psi.reshape(B, -1)))
        codes = [phi]
        for i in range(len(Ds) - 1, 0, -1):
            phi = torch.relu(phi @ Ds[i].T + self.dec_bias[i - 1])
            codes.append(phi)
        codes.reverse()  # φ1 … φn
        S = (codes[0] @ Ds[0].reshape(J * 3, K1).T).reshape(B, J, 3)  # centred: atoms are
        return {"S": S, "M": M, "codes": codes}

    def _shrink(self, psi: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """Block thresholding of ``(B, 6, K)`` code blocks.

        ``"group"``: ``Ψ[k] · ReLU(1 − |b_k| / ‖Ψ[k]‖_F)``, the proximal step of the block-sparse
        penalty (equivariant to in-plane camera rotations, ``Ψ → Ψ Q``); ``"relu"``: the
        element-wise ``ReLU(Ψ − b)`` of the prototype.
        """
        if self.threshold == "relu":
            return torch.relu(psi - bias)
        norm = psi.pow(2).sum(1, keepdim=True).add(1e-12).sqrt()
        return psi * torch.relu(1 - bias.abs() / norm)  # a threshold is never negative

    def state_numpy(self) -> dict:
        """Parameters as numpy arrays (for :attr:`NRSfMResult.model_state`)."""
        return {k: v.detach().cpu().numpy() for k, v in self.state_dict().items()}

    @classmethod
    def from_state(cls, state: dict, num_joints: int, dict_sizes: tuple[int, ...],
                   threshold: str = "group") -> DeepNRSfM:
        """Rebuild from :meth:`state_numpy`."""
        from poselab.nrsfm.completion import split_state

        model = cls(num_joints, dict_sizes, threshold)
        net, _ = split_state(state)  # without the hidden-landmark predictor's parameters
        model.load_state_dict({k: torch.as_tensor(v) for k, v in net.items()})
        return model
