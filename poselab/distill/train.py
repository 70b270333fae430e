"""Training loop of the image students (paper 000 §4.4, Eq. 15), as a progress generator.

``loss = xy_weight · (‖f_xy − w‖₁ + heatmap_weight · H) + depth_weight · L_z(f_z)
+ teacher3d_weight · L_t3d`` per sample, averaged over the batch, where ``L_z`` is the
distilling loss (Eq. 13–14), Weaksup-bs (L1 to the teacher's depth) or the supervised L1 to
ground-truth depth (``TrainConfig.depth_loss``); ``H`` the dense 2D heatmap term
(:func:`poselab.distill.losses.heatmap_xy_loss`) and ``L_t3d`` the confidence-weighted L1 to
the teacher's refined depth (:func:`poselab.distill.losses.teacher3d_depth_loss`, with
``depth_loss="distill"`` only), all in normalised units (DESIGN §3). Adam, cosine
learning-rate decay to 1 % over the run (paper: 1e-3 → 1e-5).

``train`` yields :class:`Progress` records — ``kind="step"`` with the losses every
``log_every`` steps, ``kind="epoch"`` with the metrics of :mod:`poselab.distill.evaluation` —
checks the cancel token at every step, writes ``out_dir/checkpoint.pt`` atomically after each
epoch (rank 0 only under torchrun) and returns a :class:`TrainResult`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError, PoselabError
from poselab.core.progress import CancelToken, EtaClock, Progress
from poselab.distill.checkpoint import FILENAME, load_checkpoint, save_checkpoint
from poselab.distill.config import TrainConfig
from poselab.distill.inputs import check_inputs, prepare_targets

log = logging.getLogger(__name__)

#: Config fields that fix the network's shape (a resumed run must keep them).
ARCH_FIELDS = ("student", "backbone", "backbone_width", "input_size", "deconv_layers",
               "deconv_channels", "heatmap_depth")


@dataclass
class TrainResult:
    """What a finished run leaves: its checkpoint, final metrics and per-epoch history."""

    checkpoint: Path
    metrics: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)


def _seed_all(seed: int) -> None:
    import random

    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def train(collection: PoseCollection, teacher, config: TrainConfig, out_dir: str | Path,
          resume: str | Path | None = None, cancel: CancelToken | None = None,
          ) -> Generator[Progress, None, TrainResult]:
    """Train a student on ``collection`` with ``teacher``'s knowledge (generator).

    Args:
        collection: N samples with images (integral student) and 2D landmarks; 3D ground truth,
            when present, is used only for scoring (and for ``depth_loss="supervised"``).
        teacher: :class:`poselab.nrsfm.result.NRSfMResult` fitted on exactly this collection
            (None only for ``depth_loss="supervised"``).
        config: :class:`TrainConfig`; ``student`` picks the network (lifter students are
            trained by ``poselab.distill.lifter_train.train_lifter``).
        out_dir: run folder; ``checkpoint.pt`` is written there after every epoch.
        resume: a checkpoint (or run folder) to continue from: same step, optimiser, scheduler
            and RNG states; its architecture fields must match ``config``.
        cancel: checked at every step; raises :class:`Cancelled` (the last epoch's checkpoint
            stays as it was).

    Yields:
        :class:`Progress` (``kind`` ``"step"`` / ``"epoch"`` / ``"info"``).

    Returns:
        :class:`TrainResult`.

    Raises:
        DataError: no images, teacher of another skeleton or sample set, missing ground truth
            for the supervised loss, unreadable images or checkpoint.
        PoselabError: a resume checkpoint of another architecture or data set.
    """
    if config.student != "integral":
        from poselab.distill.lifter_train import train_lifter

        return (yield from train_lifter(collection, teacher, config, out_dir, resume, cancel))
    return (yield from _train_integral(collection, teacher, config, Path(out_dir), resume,
                                       cancel))


def _check_resume(state: dict, collection: PoseCollection, config: TrainConfig) -> None:
    old = state["config"]
    diff = [k for k in ARCH_FIELDS if old.get(k) != getattr(config, k)]
    if diff:
        raise PoselabError(f"cannot resume {state['path']}: it was trained with other "
                           f"network settings ({', '.join(diff)})")
    if list(state["sample_ids"]) != list(collection.sample_ids):
        raise DataError(state["path"], "the checkpoint was trained on a different sample set")
    if list(state["skeleton"]["joint_names"]) != list(collection.skeleton.joint_names):
        raise DataError(state["path"], "the checkpoint was trained on another skeleton")


def _train_integral(collection, teacher, config, out_dir, resume, cancel):
    import torch

    from poselab.distill import distributed as ddp
    from poselab.distill.data import augment_batch, build_crops, normalise_input, to_network_input
    from poselab.distill.evaluation import student_metrics, teacher_metrics
    from poselab.distill.integral import build_integral

    check_inputs(collection, teacher, need_images=True)
    if teacher is None and config.depth_loss != "supervised":
        raise DataError(collection.source, f"depth_loss={config.depth_loss!r} needs a teacher")
    if config.depth_loss == "supervised" and not collection.has_3d:
        raise DataError(collection.source, "depth_loss='supervised' needs 3D ground truth")
    state = load_checkpoint(resume) if resume is not None else None
    if state is not None:
        _check_resume(state, collection, config)

    if config.num_threads > 0:
        torch.set_num_threads(config.num_threads)
    info = ddp.setup(config.device)
    dev = torch.device(info.device)
    _seed_all(config.seed)
    targets = prepare_targets(collection, teacher)
    n, J = len(collection), collection.num_joints

    crops = yield from build_crops(collection.image_paths, targets.centre, targets.scale,
                                   config.input_size, cancel)
    images = torch.from_numpy(crops)
    if dev.type == "cuda":
        images = images.to(dev)

    def tens(a):
        return None if a is None else torch.from_numpy(np.ascontiguousarray(a)).to(dev)

    w_all, obs_all = tens(targets.w), tens(targets.observed)
    rot_all, codes_all, dict_t = tens(targets.rotations), tens(targets.codes), tens(
        targets.dictionary)
    tz_all = None if targets.teacher_3d is None else tens(targets.teacher_3d[..., 2])
    tw_all = tens(targets.teacher_weight)
    gz_all = tens(targets.gt_z)
    flip_perm = torch.as_tensor(collection.skeleton.flip_permutation, dtype=torch.long)

    model = build_integral(J, config).to(dev)
    if config.pretrained and not model.pretrained_loaded:
        yield Progress("setup", 0, 0, message="ImageNet weights not available offline; "
                                              "training from random initialisation", kind="info")
    net = model
    if info.world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[dev.index] if dev.type == "cuda" else None)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)

    from torch.utils.data import DistributedSampler

    sampler = DistributedSampler(range(n), num_replicas=info.world, rank=info.rank,
                                 shuffle=True, seed=config.seed, drop_last=False)
    steps_per_epoch = max(1, math.ceil(len(sampler) / config.batch_size))
    total = steps_per_epoch * config.epochs

    def lr_lambda(step: int) -> float:
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(step, total) / max(total, 1)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)
    use_amp = config.amp and dev.type == "cuda"
    amp_dtype = (torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16)
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)

    start_epoch, step, history = 0, 0, []
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        if "scaler" in state and scaler.is_enabled():
            scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["rng"]["torch"])
        start_epoch, step, history = int(state["epoch"]), int(state["step"]), list(
            state.get("history", []))
        yield Progress("resume", step, total, message=f"resumed at epoch {start_epoch}, "
                                                      f"step {step}", kind="info")
        for past in history:  # the run's earlier epochs, so live plots show the whole run
            yield Progress("history", step, total, dict(past), None,
                           f"epoch {int(past.get('epoch', 0))} (before resuming)",
                           kind="epoch")

    rng = np.random.default_rng(config.seed)
    eval_idx = np.sort(rng.permutation(n)[: (config.eval_max_samples or n)])
    t_eval = teacher_metrics(eval_idx, collection, targets) if info.is_main else {}
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = out_dir / FILENAME
    gen = torch.Generator()
    clock = EtaClock(total - step)
    step0 = step
    metrics: dict[str, float] = history[-1] if history else {}
    D = dict_t

    for epoch in range(start_epoch, config.epochs):
        model.train()
        sampler.set_epoch(epoch)
        gen.manual_seed(config.seed * 1_000_003 + epoch * 1009 + info.rank)
        order = torch.as_tensor(list(iter(sampler)), dtype=torch.long)
        t0, seen, sums = time.perf_counter(), 0, {}
        for b in range(steps_per_epoch):
            stop = cancel is not None and cancel.cancelled
            if ddp.broadcast_flag(info, stop) and cancel is not None:
                cancel.cancel()
            if cancel is not None:
                cancel.check()
            idx = order[b * config.batch_size:(b + 1) * config.batch_size]
            if idx.numel() == 0:
                continue
            idx_d = idx.to(dev)
            x = to_network_input(images[idx_d] if images.device == dev else images[idx].to(dev))
            if config.augment:
                x, A, perm = augment_batch(x, gen, rotation_deg=config.rotation_deg,
                                           scale_range=config.scale_range,
                                           flip=config.flip_augment, colour=True,
                                           flip_perm=flip_perm)
            else:
                A = torch.eye(3, device=dev).expand(len(idx), 3, 3)
                perm = torch.arange(J, device=dev).expand(len(idx), J)
            x = normalise_input(x)
            w = torch.gather(w_all[idx_d], 1, perm[..., None].expand(-1, -1, 2))
            w = torch.einsum("bij,bkj->bki", A[:, :2, :2], w)
            obs = torch.gather(obs_all[idx_d], 1, perm)
            with torch.autocast(dev.type, dtype=amp_dtype, enabled=use_amp):
                pred, marginal = net(x, with_heatmaps=True)
            pred = pred.float()
            l_xy = _xy(pred, w, obs)
            if config.heatmap_weight > 0:
                from poselab.distill.losses import heatmap_xy_loss

                l_xy = l_xy + config.heatmap_weight * heatmap_xy_loss(marginal.float(), w, obs)
            l_z = _depth_term(config, pred[..., 2], w, obs, A, perm, idx_d, rot_all, codes_all, D,
                              tz_all, gz_all, tw_all)
            loss = config.xy_weight * l_xy + l_z
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()
            step += 1
            seen += len(idx)
            for k, v in (("loss", loss), ("xy", l_xy), ("depth", l_z)):
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            if step % config.log_every == 0 or b == steps_per_epoch - 1:
                rate = seen * info.world / max(time.perf_counter() - t0, 1e-9)
                vals = {"loss": float(loss.detach()), "xy": float(l_xy.detach()),
                        "depth": float(l_z.detach()), "lr": float(sched.get_last_lr()[0]),
                        "samples_per_s": rate}
                yield Progress("train", step, total, vals, clock.eta(step - step0),
                               f"epoch {epoch + 1}/{config.epochs}")
        if cancel is not None:
            cancel.check()
        epoch_time = time.perf_counter() - t0
        if info.is_main:
            pred = _predict_normalised(model, images, eval_idx, dev, config, use_amp, amp_dtype)
            metrics = {"epoch": float(epoch + 1), "step": float(step),
                       **{f"train_{k}": v / steps_per_epoch for k, v in sums.items()},
                       "samples_per_s": seen * info.world / max(epoch_time, 1e-9),
                       **student_metrics(pred, eval_idx, collection, targets, t_eval,
                                         config.l1_weight, config.damping)}
            history.append(metrics)
            save_checkpoint(ckpt_path, {
                "student": "integral", "epoch": epoch + 1, "step": step,
                "model": model.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                **({"scaler": scaler.state_dict()} if scaler.is_enabled() else {}),
                "rng": {"torch": torch.get_rng_state()},
                "config": config.to_dict(), "skeleton": collection.skeleton.to_dict(),
                "sample_ids": list(collection.sample_ids), "history": history,
                "metrics": metrics, "extra": {"world_size": info.world}})
            log.info("epoch %d/%d: %s", epoch + 1, config.epochs,
                     " ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
        ddp.barrier(info)
        yield Progress("epoch", step, total, dict(metrics), clock.eta(step - step0),
                       f"epoch {epoch + 1}/{config.epochs}", kind="epoch")
    ddp.teardown(info)
    return TrainResult(ckpt_path, dict(metrics), list(history))


def _xy(pred, w, obs):
    from poselab.distill.losses import xy_loss

    return xy_loss(pred[..., :2], w, obs)


def _depth_term(config, z, w, obs, A, perm, idx, rot_all, codes_all, D, tz_all, gz_all,
                tw_all=None):
    """The depth term of Eq. 15 for a batch, every teacher term mapped by the augmentation
    (plus ``teacher3d_weight`` × the confidence-weighted L1 to the teacher's refined depth)."""
    import torch

    from poselab.distill.losses import (
        distill_depth_loss,
        rotated_dictionary,
        supervised_depth_loss,
        teacher3d_depth_loss,
        weaksup_depth_loss,
    )

    s = A[:, 2, 2:3]  # depth scale of the augmentation (rotation is in-plane)
    dw = config.depth_weight
    if config.depth_loss == "distill":
        out = z.sum() * 0.0
        if dw > 0:
            B = rotated_dictionary(D, A @ rot_all[idx])  # (b, J, 3, K)
            B = torch.gather(B, 1, perm[:, :, None, None].expand(-1, -1, 3, B.shape[-1]))
            out = dw * distill_depth_loss(z, w, B, codes_all[idx], obs, config.l1_weight,
                                          config.damping)
        if config.teacher3d_weight > 0:
            cw = None if tw_all is None else torch.gather(tw_all[idx], 1, perm)
            out = out + config.teacher3d_weight * teacher3d_depth_loss(
                z, s * torch.gather(tz_all[idx], 1, perm), cw)
        return out
    if config.depth_loss == "weaksup":
        return dw * weaksup_depth_loss(z, s * torch.gather(tz_all[idx], 1, perm))
    return dw * supervised_depth_loss(z, s * torch.gather(gz_all[idx], 1, perm))


def _predict_normalised(model, images, idx, dev, config, use_amp=False, amp_dtype=None,
                        batch: int = 256) -> np.ndarray:
    """Network output ``(n, J, 3)`` float32, normalised units, for crops ``images[idx]``."""
    import torch

    from poselab.distill.data import normalise_input, to_network_input

    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(idx), batch):
            sel = torch.as_tensor(idx[i:i + batch], dtype=torch.long)
            x = normalise_input(to_network_input(images[sel.to(images.device)].to(dev)))
            with torch.autocast(dev.type, dtype=amp_dtype or torch.float16, enabled=use_amp):
                out.append(model(x).float().cpu().numpy())
    model.train()
    return np.concatenate(out) if out else np.zeros((0, 0, 3), np.float32)

