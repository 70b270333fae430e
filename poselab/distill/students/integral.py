"""The integral image student (paper 000 §4.4, Eq. 15): image crop → 3D by integral regression.

``loss = xy_weight · (‖f_xy − w‖₁ + heatmap_weight · H) + depth_weight · L_z(f_z)
+ teacher3d_weight · L_t3d`` per sample, averaged over the batch, where ``L_z`` is the
distilling loss (paper 000 Eq. 13–14), Weaksup-bs (L1 to the teacher's depth) or the supervised
L1 to ground-truth depth (``TrainConfig.depth_loss``); ``H`` the dense 2D heatmap term
(:func:`poselab.distill.losses.heatmap_xy_loss`) and ``L_t3d`` the confidence-weighted L1 to
the teacher's refined depth (:func:`poselab.distill.losses.teacher3d_depth_loss`, with
``depth_loss="distill"`` only), all in normalised units (DESIGN §3). Schedule: cosine decay of
the learning rate to 1 % over the run (paper: 1e-3 → 1e-5). Augmentation: scale, rotation, flip
and colour (:func:`poselab.distill.data.augment_batch`), applied to every teacher term alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from poselab.core.errors import DataError
from poselab.distill.students.base import Student, to_device

#: Config fields that fix the network's shape (a resumed run must keep them).
ARCH_FIELDS = ("student", "backbone", "backbone_width", "input_size", "deconv_layers",
               "deconv_channels", "heatmap_depth")


class IntegralStudent(Student):
    """Integral regression network (Sun et al. 2018) distilled with paper 000 Eq. 15."""

    name = "integral"
    needs_images = True
    needs_2d = False
    uses_amp = True

    def arch(self) -> dict[str, Any]:
        return {k: getattr(self.config, k) for k in ARCH_FIELDS}

    def build(self):
        from poselab.distill.integral import build_integral

        return build_integral(self.num_joints, self.config)

    def check(self, collection, teacher) -> None:
        super().check(collection, teacher)
        if teacher is None and self.config.depth_loss != "supervised":
            raise DataError(collection.source,
                            f"depth_loss={self.config.depth_loss!r} needs a teacher")
        if self.config.depth_loss == "supervised" and not collection.has_3d:
            raise DataError(collection.source, "depth_loss='supervised' needs 3D ground truth")

    def prepare(self, collection, teacher, device, cancel=None):
        import torch

        from poselab.distill.data import build_crops
        from poselab.distill.inputs import prepare_targets

        t = prepare_targets(collection, teacher)
        self.targets, self.device = t, device
        self.crops = yield from build_crops(collection.image_paths, t.centre, t.scale,
                                            self.config.input_size, cancel)
        dev = torch.device(device)
        images = torch.from_numpy(self.crops)
        self._images = images.to(dev) if dev.type == "cuda" else images

        def tens(a):
            return None if a is None else to_device(a, dev)

        tw = t.teacher_weight if self.config.teacher_confidence else None  # off: measured
        self._t = {"w": tens(t.w), "obs": tens(t.observed), "rot": tens(t.rotations),
                   "codes": tens(t.codes), "D": tens(t.dictionary), "tw": tens(tw),
                   "tz": None if t.teacher_3d is None else tens(t.teacher_3d[..., 2]),
                   "gz": tens(t.gt_z)}
        self._flip_perm = torch.as_tensor(collection.skeleton.flip_permutation,
                                          dtype=torch.long)

    def batch(self, idx, phase, generator):
        import torch

        from poselab.distill.data import augment_batch, normalise_input, to_network_input

        cfg, dev = self.config, torch.device(self.device)
        idx_t = torch.as_tensor(idx, dtype=torch.long)
        x = to_network_input(self._images[idx_t.to(self._images.device)].to(dev))
        J = self.num_joints
        if cfg.augment:
            x, A, perm = augment_batch(x, generator, rotation_deg=cfg.rotation_deg,
                                       scale_range=cfg.scale_range, flip=cfg.flip_augment,
                                       colour=True, flip_perm=self._flip_perm)
        else:
            A = torch.eye(3, device=dev).expand(len(idx), 3, 3)
            perm = torch.arange(J, device=dev).expand(len(idx), J)
        idx_d = idx_t.to(dev)
        w = torch.gather(self._t["w"][idx_d], 1, perm[..., None].expand(-1, -1, 2))
        w = torch.einsum("bij,bkj->bki", A[:, :2, :2], w)
        obs = torch.gather(self._t["obs"][idx_d], 1, perm)
        return {"x": normalise_input(x), "w": w, "obs": obs, "A": A, "perm": perm,
                "idx": idx_d}

    def forward(self, net, batch, phase):
        pred, marginal = net(batch["x"], with_heatmaps=True)
        return {"y3d": pred.float(), "marginal": marginal}

    def losses(self, net, batch, phase):
        """The network runs in mixed precision under the engine's autocast (CUDA); its losses
        (the augmentation's rotations, the teacher's dictionary, Eq. 13's solve) in float32."""
        import torch

        from poselab.distill.losses import heatmap_xy_loss, xy_loss

        out = self.forward(net, batch, phase)
        pred, marginal = out["y3d"], out["marginal"]
        with torch.autocast(pred.device.type, enabled=False):
            l_xy = xy_loss(pred[..., :2], batch["w"], batch["obs"])
            if self.config.heatmap_weight > 0:
                l_xy = l_xy + self.config.heatmap_weight * heatmap_xy_loss(
                    marginal.float(), batch["w"], batch["obs"])
            l_z = self._depth_term(pred[..., 2], batch)
        return {"total": self.config.xy_weight * l_xy + l_z, "xy": l_xy, "depth": l_z}

    def _depth_term(self, z, batch):
        """The depth term of Eq. 15 for a batch, every teacher term mapped by the augmentation
        (plus ``teacher3d_weight`` × the confidence-weighted L1 to the teacher's depth)."""
        import torch

        from poselab.distill.losses import (
            distill_depth_loss,
            rotated_dictionary,
            supervised_depth_loss,
            teacher3d_depth_loss,
            weaksup_depth_loss,
        )

        cfg, t = self.config, self._t
        A, perm, idx, w, obs = batch["A"], batch["perm"], batch["idx"], batch["w"], batch["obs"]
        s = A[:, 2, 2:3]  # depth scale of the augmentation (rotation is in-plane)
        dw = cfg.depth_weight
        if cfg.depth_loss == "distill":
            out = z.sum() * 0.0
            if dw > 0:
                B = rotated_dictionary(t["D"], A @ t["rot"][idx])  # (b, J, 3, K)
                B = torch.gather(B, 1, perm[:, :, None, None].expand(-1, -1, 3, B.shape[-1]))
                out = dw * distill_depth_loss(z, w, B, t["codes"][idx], obs, cfg.l1_weight,
                                              cfg.damping)
            if cfg.teacher3d_weight > 0:
                cw = None if t["tw"] is None else torch.gather(t["tw"][idx], 1, perm)
                out = out + cfg.teacher3d_weight * teacher3d_depth_loss(
                    z, s * torch.gather(t["tz"][idx], 1, perm), cw)
            return out
        if cfg.depth_loss == "weaksup":
            return dw * weaksup_depth_loss(z, s * torch.gather(t["tz"][idx], 1, perm))
        return dw * supervised_depth_loss(z, s * torch.gather(t["gz"][idx], 1, perm))

    def predict_normalized(self, model, inputs, idx, device, batch_size=256):
        import torch

        from poselab.distill.data import normalise_input, to_network_input

        dev = torch.device(device)
        use_amp = self.config.amp and dev.type == "cuda"
        dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
        crops = inputs["crops"]
        was_training = model.training
        model.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(idx), batch_size):
                sel = np.asarray(idx[i:i + batch_size])
                x = normalise_input(to_network_input(torch.from_numpy(crops[sel]).to(dev)))
                with torch.autocast(dev.type, dtype=dtype, enabled=use_amp):
                    out.append(model(x).float().cpu().numpy())
        model.train(was_training)
        y3 = np.concatenate(out) if out else np.zeros((0, self.num_joints, 3), np.float32)
        return y3, y3[..., :2].copy()
