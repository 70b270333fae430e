"""The lifter students of paper 001 (DESIGN.md §5b–c).

- :class:`Lifter2dStudent` (``"lifter2d"``): the lifting autoencoder alone, 2D landmarks (+ their
  observed mask) → 3D; trains in seconds on a CPU and needs no images.
- :class:`HeatmapLifterStudent` (``"heatmap-lifter"``): HRNet-style heatmaps → soft-argmax →
  lifting autoencoder, on image crops with paper 001's schedule (§4): ``heatmap_pretrain_epochs``
  epochs of the heatmap network alone (MSE to Gaussian heatmaps, Eq. 1; flip + geometric +
  colour augmentation), then ``epochs`` epochs end to end on Eq. 9 (colour augmentation only).

Loss (paper 001 Eq. 9): ``α L²ᴰ_joint + β L_encoder + γ L_decoder + δ L_boneSym`` with
``loss_alpha … loss_delta``; ``α`` applies only to the heatmap student. ``L_encoder`` (Eq. 6)
uses the 3D target of :mod:`poselab.distill.lifter_data`, or — ``lifter_target="distill"`` — the
x, y part of Eq. 6 plus paper 000's distilling loss (Eq. 14) on the predicted depth.
``L_decoder`` (Eq. 7) compares the decoder output with the *observed* 2D landmarks (with the
skip connection, Eq. 7 as printed is inert; against the labels the skip carries a 2D gradient
into the heatmap network, the effect §3.3.2 describes). Schedule: cosine decay to 0 over each
phase (pre-training, end to end).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from poselab.distill.students.base import Student, to_device

HEATMAP_SIGMA = 1.0  # cells (paper 001 §4: 3×3 Gaussian, σ = 1)


class Lifter2dStudent(Student):
    """2D landmarks → 3D lifting autoencoder (paper 001 §3.3)."""

    name = "lifter2d"

    def arch(self) -> dict[str, Any]:
        from poselab.distill.lifter_predict import model_kwargs

        return model_kwargs(self.config, self.num_joints)

    def build(self):
        from poselab.distill.lifter_predict import build_model

        return build_model(self.arch())

    def lr_factor(self, step: int, steps_per_epoch: int) -> float:
        """Cosine decay to 0 over each phase (paper 001 §4 trains each phase from its lr)."""
        phases, epoch, start = self.phases(), step // max(1, steps_per_epoch), 0
        length = phases[-1][1]
        for i, (_, n) in enumerate(phases):
            if epoch < start + n or i == len(phases) - 1:
                length = n
                break
            start += n
        t = (step - start * steps_per_epoch) / max(1, length * steps_per_epoch)
        return 0.5 * (1 + math.cos(math.pi * min(max(t, 0.0), 1.0)))

    def prepare(self, collection, teacher, device, cancel=None):
        import torch

        from poselab.distill.lifter_data import lifter_targets

        self.lt = lifter_targets(collection, teacher, self.config.lifter_target)
        self.targets, self.device = self.lt.base, device
        skel = collection.skeleton
        self._bones = torch.as_tensor(skel.bones_array, device=device)
        self._pairs = torch.as_tensor(skel.symmetric_bone_pairs, device=device)
        self._flip_perm = torch.as_tensor(skel.flip_permutation)
        # a mirror image is the same kind of subject only when left and right can be swapped
        self._flip = self.config.flip_augment and len(skel.left_right) > 0
        yield from ()

    def batch(self, idx, phase, generator):
        from poselab.distill.lifter_data import gather_batch, random_flip, transform_batch

        batch = gather_batch(self.lt, idx, self.device)
        A, perm = random_flip(len(idx), self._flip_perm, generator, self.device, self._flip)
        return transform_batch(batch, A, perm)

    def forward(self, net, batch, phase) -> dict:
        y3d, reproj = net(batch["w"], batch["observed"])
        return {"y3d": y3d, "reproj": reproj}

    def losses(self, net, batch, phase):
        from poselab.distill.heatmap import gaussian_heatmaps, heatmap_loss
        from poselab.distill.lifter import bone_symmetry_loss, decoder_loss, encoder_loss
        from poselab.distill.losses import distill_depth_loss
        from poselab.distill.softargmax import normalized_to_cells

        cfg = self.config
        out = self.forward(net, batch, phase)
        terms: dict = {}
        total = 0.0
        obs = batch["observed"]
        if "heatmaps" in out:
            hm = out["heatmaps"]
            cells = normalized_to_cells(batch["w"], out["input_size"], out["stride"])
            tgt = gaussian_heatmaps(cells, hm.shape[-2], hm.shape[-1], HEATMAP_SIGMA, obs)
            terms["loss_heatmap"] = heatmap_loss(hm, tgt, obs)
            total = terms["loss_heatmap"] * (1.0 if phase == "pretrain" else cfg.loss_alpha)
        if phase == "pretrain":
            return {"total": total, **terms}
        y3d = out["y3d"]
        if "B" in batch:  # distilling loss on depth (paper 000 Eq. 14), Eq. 6 on x, y
            xy = (y3d[..., :2] - batch["target"][..., :2]) ** 2 * batch["xy_mask"][..., None]
            depth = distill_depth_loss(y3d[..., 2], batch["w"], batch["B"], batch["codes"], obs,
                                       cfg.l1_weight, cfg.damping)
            terms["loss_encoder"] = xy.sum(dim=(1, 2)).mean() + depth
        else:
            terms["loss_encoder"] = encoder_loss(y3d, batch["target"], batch["xy_mask"],
                                                 batch["z_mask"])
        total = total + cfg.loss_beta * terms["loss_encoder"]
        if out.get("reproj") is not None:
            terms["loss_decoder"] = decoder_loss(out["reproj"], batch["w"], obs)
            total = total + cfg.loss_gamma * terms["loss_decoder"]
        if cfg.loss_delta > 0:
            terms["loss_bone"] = bone_symmetry_loss(y3d, self._bones, self._pairs)
            total = total + cfg.loss_delta * terms["loss_bone"]
        return {"total": total, **terms}

    def predict_normalized(self, model, inputs, idx, device, batch_size=256):
        import torch

        was_training = model.training
        model.eval()
        y3 = []
        with torch.no_grad():
            for s in range(0, len(idx), batch_size):
                sel = np.asarray(idx[s:s + batch_size])
                out = model(to_device(inputs["w"][sel], device),
                            to_device(inputs["observed"][sel], device))[0]
                y3.append(out.float().cpu().numpy())
        model.train(was_training)
        return (np.concatenate(y3) if y3 else np.zeros((0, self.num_joints, 3), np.float32),
                None)


class HeatmapLifterStudent(Lifter2dStudent):
    """Image crop → heatmaps → soft-argmax 2D → lifting autoencoder (paper 001 §3)."""

    name = "heatmap-lifter"
    needs_images = True
    needs_2d = False
    find_unused_parameters = True

    def phases(self) -> list[tuple[str, int]]:
        pre = int(self.config.heatmap_pretrain_epochs)
        return ([("pretrain", pre)] if pre else []) + [("train", int(self.config.epochs))]

    def prepare(self, collection, teacher, device, cancel=None):
        import torch

        from poselab.distill.data import build_crops

        yield from super().prepare(collection, teacher, device, cancel)
        t = self.targets
        self.crops = yield from build_crops(collection.image_paths, t.centre, t.scale,
                                            self.config.input_size, cancel)
        self._crops_t = torch.from_numpy(self.crops)

    def batch(self, idx, phase, generator):
        """Paper 001 §4's augmentation: colour jitter always (``config.augment``); flip,
        rotation and scale only in heatmap pre-training."""
        from poselab.distill.data import augment_batch, normalise_input, to_network_input
        from poselab.distill.lifter_data import gather_batch, transform_batch

        cfg, pre = self.config, phase == "pretrain"
        batch = gather_batch(self.lt, idx, self.device)
        x = to_network_input(self._crops_t[np.asarray(idx)].to(self.device))
        if cfg.augment:
            x, A, perm = augment_batch(x, generator,
                                       rotation_deg=cfg.rotation_deg if pre else 0.0,
                                       scale_range=cfg.scale_range if pre else 0.0,
                                       flip=self._flip and pre, colour=True,
                                       flip_perm=self._flip_perm)
            batch = transform_batch(batch, A, perm)
        batch["x"] = normalise_input(x)
        return batch

    def forward(self, net, batch, phase) -> dict:
        model = getattr(net, "module", net)
        out = dict(net(batch["x"], heatmaps_only=phase == "pretrain"))
        out.update(input_size=model.input_size, stride=model.stride)
        return out

    def init_heatmaps(self, model, source: dict) -> None:
        """Load the heatmap network of checkpoint ``source`` (paper 001 §4, "HRNet
        initialization").

        Raises:
            DataError: its heatmap network has another shape.
        """
        from poselab.core.errors import DataError

        state = {k[len("heatmap_net."):]: v for k, v in source["model"].items()
                 if k.startswith("heatmap_net.")}
        try:
            model.heatmap_net.load_state_dict(state)
        except RuntimeError as err:
            raise DataError(source.get("path"), f"heatmap network does not match ({err})"
                            ) from None

    def predict_normalized(self, model, inputs, idx, device, batch_size=256):
        import torch

        from poselab.distill.data import normalise_input, to_network_input

        was_training = model.training
        model.eval()
        y3, y2 = [], []
        crops = inputs["crops"]
        with torch.no_grad():
            for s in range(0, len(idx), batch_size):
                sel = np.asarray(idx[s:s + batch_size])
                x = normalise_input(to_network_input(torch.from_numpy(crops[sel]).to(device)))
                o = model(x)
                y3.append(o["y3d"].float().cpu().numpy())
                y2.append(o["y2d"].float().cpu().numpy())
        model.train(was_training)
        J = self.num_joints
        if not y3:
            return np.zeros((0, J, 3), np.float32), np.zeros((0, J, 2), np.float32)
        return np.concatenate(y3), np.concatenate(y2)

    def extra_metrics(self, y2d, idx):
        """``heatmap_err2d_px``: mean pixel error of the heatmap network's own 2D."""
        t = self.targets
        d = np.linalg.norm(y2d - t.w[idx], axis=-1) * t.scale[idx][:, None]
        obs = t.observed[idx]
        return {"heatmap_err2d_px": float((d * obs).sum() / max(obs.sum(), 1))}
