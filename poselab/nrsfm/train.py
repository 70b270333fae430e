"""One training run of the Deep NRSfM network: loss, optimiser, schedule, batched inference.

Loss (paper 000 Eq. 4, normalised as in :mod:`poselab.nrsfm.config`), per sample::

    ‖(Ŵ − W) ⊙ m‖_F / ‖W ⊙ m‖_F + λ · mean_l ‖φ_l‖₁ / ‖W ⊙ m‖_F

averaged over the batch. Missing landmarks (beyond the paper): by default the encoder sees
each unlabelled landmark's prediction from the sample's labelled ones
(:mod:`poselab.nrsfm.completion`; ``Batches.seen``), which the loss never reads; otherwise
zeros and the mask. Off by default: a second pass that sees the missing inputs filled with the
first pass's reprojection (``impute_missing``, one EM-like imputation step; both passes are
trained), and hiding a fraction of the observed landmarks from the encoder during training
(``landmark_dropout``) while the loss still scores them.

Measured and not adopted (h36m17_train35k S1/S5/S6, 5000 samples, 3000-step networks,
2026-12-03): a third imputation pass with 30 % hidden, output MPJPE 108.7 / 101.5 mm on two
seeds against 96.8 with two passes; fitting each sample's top code and rotation to its own 2D
after training (300 Adam steps on the same loss: the encoder's amortisation gap) lowered the
2D error 0.089 → 0.067 but raised the network's 3D error, 74.4 → 75.8 mm on exact labels and
115.7 → 123.0 with 30 % hidden: the encoder's shapes are the better-regularised ones.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import torch

from poselab.nrsfm.camera import procrustes_camera, project, rotation_from_camera
from poselab.nrsfm.config import NRSfMConfig
from poselab.nrsfm.model import DeepNRSfM

#: Held while torch's global random state is seeded and read (a network's initialisation):
#: a fit running beside another (:class:`poselab.nrsfm.concurrent.Beside`) then draws the
#: numbers it would draw alone.
SEEDING = threading.Lock()


class Batches:
    """The normalised inputs as tensors on the device."""

    def __init__(self, inputs, device: str) -> None:
        t = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32,  # noqa: E731
                                      device=device)
        n, seen = inputs.n, inputs.mask
        if inputs.completion is not None:  # the encoder sees predictions of hidden landmarks
            filled = np.isfinite(inputs.completion[..., 0]) & (inputs.mask < 1)
            n = np.where(filled[..., None], inputs.completion, n)  # never read by the loss
            seen = np.maximum(seen, filled)
        self.n, self.mask, self.seen = t(n), t(inputs.mask), t(seen)
        self.sigma, self.rc = t(inputs.sigma), t(inputs.ray_centre)
        self.N = self.n.shape[0]
        #: some landmark of the set is missing (unlabelled or hidden)
        self.has_missing = bool((self.mask < 1).any())

    def take(self, idx: torch.Tensor):
        """``n, mask, seen, sigma, rc`` of samples ``idx``: ``mask`` the labelled landmarks
        (the loss's), ``seen`` those the encoder may read (labelled or completed)."""
        return self.n[idx], self.mask[idx], self.seen[idx], self.sigma[idx], self.rc[idx]


class BonePriors:
    """Skeleton priors on the decoded 3D shape (beyond paper 000; need a skeleton with bones).

    Per sample, with bone lengths ``L_e`` and their mean ``L̄``:

    - symmetry: ``mean_(e,e′) |L_e − L_e′| / L̄`` over mirror bone pairs (left/right limbs
      are equally long; the bone-symmetry term of paper 001, Eq. 8);
    - consistency: ``mean_e |L_e/L̄ − mean_batch(L_e/L̄)|`` (fixed articulation: a skeleton's
      bone proportions do not change between samples; paper 000 §2 lists it among the classic
      NRSfM constraints).
    """

    def __init__(self, skeleton, config: NRSfMConfig, device: str) -> None:
        bones = skeleton.bones_array
        pairs = skeleton.symmetric_bone_pairs if len(bones) else np.zeros((0, 2), np.int64)
        self.w_sym = config.symmetry if len(pairs) else 0.0
        self.w_con = config.bone_consistency if len(bones) >= 2 else 0.0
        self.bones = torch.as_tensor(bones, device=device)
        self.pairs = torch.as_tensor(pairs, device=device)

    @property
    def active(self) -> bool:
        return self.w_sym > 0 or self.w_con > 0

    def __call__(self, S: torch.Tensor) -> torch.Tensor:
        """``(B,)`` weighted prior terms of canonical shapes ``S (B, J, 3)``."""
        L = (S[:, self.bones[:, 0]] - S[:, self.bones[:, 1]]).pow(2).sum(-1).add(1e-12).sqrt()
        mean = L.mean(1, keepdim=True).clamp_min(1e-6)
        out = torch.zeros_like(L[:, 0])
        if self.w_sym > 0:
            out = out + self.w_sym * ((L[:, self.pairs[:, 0]] - L[:, self.pairs[:, 1]]).abs()
                                      / mean).mean(1)
        if self.w_con > 0:
            r = L / mean
            out = out + self.w_con * (r - r.mean(0, keepdim=True)).abs().mean(1)
        return out


def hide_at_random(mask: torch.Tensor, fraction: float, generator: torch.Generator
                   ) -> torch.Tensor:
    """``mask`` ``(B, J)`` with a random ``fraction`` of its observed landmarks set to 0 (drawn
    from ``generator``, on the CPU); samples left with fewer than 2 keep their whole mask.
    Used by landmark dropout and by :func:`poselab.nrsfm.selection.heldout_error`."""
    keep = (torch.rand(mask.shape, generator=generator).to(mask.device) >= fraction).float()
    enc = mask * keep
    return torch.where(enc.sum(1, keepdim=True) < 2, mask, enc)


def forward(model: DeepNRSfM, n, mask, enc_mask, sigma, rc, sparsity: float,
            impute: bool = True, solver: str = "encoder", priors: BonePriors | None = None,
            anchor: torch.Tensor | None = None, anchor_weight: float = 0.0,
            anchor_joint_weight: torch.Tensor | None = None):
    """Encode (with the imputation pass when inputs are missing), project, score.

    Args:
        n ``(B, J, 2)``, mask ``(B, J)`` observed, enc_mask ``(B, J)`` what the encoder sees,
        sigma ``(B,)``, rc ``(B, 2)``; solver ``"procrustes"`` (camera fitted to the decoded
        shape) or ``"encoder"`` (the encoder's camera, paper 000 / DESIGN §4).
        anchor: ``(B, J, 3)`` camera-frame target shapes (box units, centred) or None; adds
        ``anchor_weight · ‖X − anchor‖_F / ‖W ⊙ m‖_F`` per sample (used to pull mirrored
        samples onto the set's depth sign, :mod:`poselab.nrsfm.reflection`).
        anchor_joint_weight: ``(B, J)`` weights of each joint in that distance (the
        refinement's confidence in its target, :mod:`poselab.nrsfm.least_squares`), or None.

    Returns:
        dict: ``loss`` (scalar), ``reproj`` and ``sparsity`` (batch means), and of the last
        pass ``X`` ``(B, J, 3)`` camera frame, ``S``, ``R`` ``(B, 3, 3)``, ``tau`` ``(B, 2)``,
        ``phi1``, ``err`` ``(B,)`` relative 2D error, ``obj`` ``(B,)`` its error plus sparsity
        term (the per-sample objective without priors or anchor).
    """
    wnorm = (n * mask[..., None]).pow(2).sum((1, 2)).sqrt().clamp_min(1e-6)
    passes = 2 if impute and bool((enc_mask < 1).any()) else 1
    inp, seen = n * enc_mask[..., None], enc_mask
    total = 0.0
    for p in range(passes):
        out = model(inp, seen)
        M = procrustes_camera(out["S"], n, mask) if solver == "procrustes" else out["M"]
        R = rotation_from_camera(M)
        X = out["S"] @ R.transpose(1, 2)
        n_hat, tau = project(X, n, mask, sigma, rc)
        err = ((n_hat - n) * mask[..., None]).pow(2).sum((1, 2)).add(1e-12).sqrt() / wnorm
        l1 = torch.stack([c.sum(1) for c in out["codes"]], 0).mean(0) / wnorm
        obj = err + sparsity * l1
        loss = obj
        if anchor is not None and anchor_weight > 0:
            sq = (X - anchor).pow(2).sum(-1)
            if anchor_joint_weight is not None:
                sq = sq * anchor_joint_weight
            gap = sq.sum(1).add(1e-12).sqrt()
            loss = loss + anchor_weight * gap / wnorm
        if priors is not None and priors.active:
            loss = loss + priors(out["S"])
        total = total + loss.mean()
        if p + 1 < passes:
            fill = enc_mask[..., None]
            inp = n * fill + n_hat.detach() * (1 - fill)
            seen = torch.ones_like(enc_mask)  # the encoder sees the filled-in landmarks
    return {"loss": total / passes, "reproj": err.mean(), "sparsity": l1.mean(), "X": X,
            "S": out["S"], "R": R, "tau": tau, "phi1": out["codes"][0], "err": err,
            "obj": obj}


class Run:
    """A model with its optimiser and cosine schedule over ``config.steps`` steps.

    Args:
        num_joints: J. config: the settings. seed: initialisation and batch seed.
        device: torch device name.
    """

    def __init__(self, num_joints: int, config: NRSfMConfig, seed: int, device: str,
                 skeleton=None) -> None:
        with SEEDING:
            torch.manual_seed(seed)
            self.model = DeepNRSfM(num_joints, config.dict_sizes, config.encoder).to(device)
        self.config = config
        self.opt = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.gen = torch.Generator(device="cpu").manual_seed(seed)
        self.step = 0
        self.device = device
        self.priors = None if skeleton is None else BonePriors(skeleton, config, device)

    def lr_at(self, step: int) -> float:
        c, floor = self.config, 0.02
        t = min(1.0, step / max(1, c.steps))
        return c.lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t)))

    def train_step(self, data: Batches, anchor: torch.Tensor | None = None,
                   anchor_weight: float = 0.0, lr: float | None = None,
                   anchor_joint_weight: torch.Tensor | None = None) -> dict[str, float]:
        """One Adam step on a random batch; returns plain floats.

        ``anchor``: ``(N, J, 3)`` target camera-frame shapes for every sample (see
        :func:`forward`), weighted by ``anchor_weight`` and per joint by
        ``anchor_joint_weight`` ``(N, J)``; ``lr`` overrides the schedule.
        """
        c = self.config
        B = min(c.batch_size, data.N)
        idx = torch.randint(0, data.N, (B,), generator=self.gen).to(self.device)
        n, mask, seen, sigma, rc = data.take(idx)
        enc = hide_at_random(seen, c.landmark_dropout, self.gen) if c.landmark_dropout > 0 \
            else seen
        for g in self.opt.param_groups:
            g["lr"] = self.lr_at(self.step) if lr is None else lr
        out = forward(self.model, n, mask, enc, sigma, rc, c.sparsity, c.impute_missing,
                      c.camera_solver, self.priors,
                      None if anchor is None else anchor[idx], anchor_weight,
                      None if anchor_joint_weight is None else anchor_joint_weight[idx])
        self.opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        self.opt.step()
        self.step += 1
        return {"loss": float(out["loss"].detach()), "reproj": float(out["reproj"].detach()),
                "sparsity": float(out["sparsity"].detach())}

    def gradient(self, data: Batches) -> list[torch.Tensor | None]:
        """Gradients of the training loss on the set's first ``batch_size`` samples, one per
        parameter (None where unused): no optimiser step, no random draw, no state changed."""
        c = self.config
        idx = torch.arange(min(c.batch_size, data.N), device=self.device)
        n, mask, seen, sigma, rc = data.take(idx)
        out = forward(self.model, n, mask, seen, sigma, rc, c.sparsity, c.impute_missing,
                      c.camera_solver, self.priors)
        return list(torch.autograd.grad(out["loss"], list(self.model.parameters()),
                                        allow_unused=True))

    @torch.no_grad()
    def infer(self, data: Batches, idx: np.ndarray | None = None, chunk: int = 4096
              ) -> dict[str, np.ndarray]:
        """Outputs for samples ``idx`` (all by default) as numpy arrays (no dropout)."""
        self.model.eval()
        idx = np.arange(data.N) if idx is None else np.asarray(idx)
        result: dict[str, np.ndarray] = {}  # filled in place: no second copy at the end
        for s in range(0, len(idx), chunk):
            it = torch.as_tensor(idx[s:s + chunk], device=self.device)
            n, mask, seen, sigma, rc = data.take(it)
            out = forward(self.model, n, mask, seen, sigma, rc, self.config.sparsity,
                          self.config.impute_missing, self.config.camera_solver)
            for k in ("X", "S", "R", "tau", "phi1", "err", "obj"):
                v = out[k].cpu().numpy()
                if k not in result:
                    result[k] = np.empty((len(idx),) + v.shape[1:], v.dtype)
                result[k][s:s + len(v)] = v
        self.model.train()
        return result
