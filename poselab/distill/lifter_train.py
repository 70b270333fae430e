"""Training and prediction of the lifter students (paper 001; DESIGN.md §5b–c).

Two students share this loop (``TrainConfig.student``):

- ``"lifter2d"``: the lifting autoencoder alone, 2D landmarks (+ their observed mask) → 3D;
  trains in seconds on a CPU and needs no images (classic NRSfM sequences, mocap 2D).
- ``"heatmap-lifter"``: HRNet-style heatmaps → soft-argmax → lifting autoencoder, trained on
  image crops with paper 001's schedule (§4): ``heatmap_pretrain_epochs`` epochs of the heatmap
  network alone (MSE to Gaussian heatmaps, Eq. 1; flip + geometric + colour augmentation),
  then ``epochs`` epochs end to end on Eq. 9 (colour augmentation only, as the paper).

Loss (paper 001 Eq. 9): ``α L²ᴰ_joint + β L_encoder + γ L_decoder + δ L_boneSym`` with
``loss_alpha … loss_delta``; ``α`` applies only to the heatmap student. ``L_encoder`` (Eq. 6)
uses the 3D target of :mod:`poselab.distill.lifter_data`, or — ``lifter_target="distill"`` — the
x, y part of Eq. 6 plus paper 000's distilling loss (Eq. 14) on the predicted depth.
``L_decoder`` (Eq. 7) compares the decoder output with the *observed* 2D landmarks: Eq. 7 as
printed uses the network's own 2D ``Ŷ_2D``, but with the skip connection that is identically
the squared decoder residual (inert), while against the labelled 2D the skip path carries a
direct 2D gradient into the heatmap network — the effect §3.3.2 describes. For ``lifter2d``
the input *is* the labelled 2D, so the skip makes the decoder term a pure regulariser.

:func:`train_lifter` follows :func:`poselab.distill.train`'s contract (generator of
:class:`Progress`, cancel, atomic checkpoint each epoch via
:mod:`poselab.distill.checkpoint`, resume); :func:`predict_lifter` turns a checkpoint into
``(N, J, 3)`` camera-frame poses in input pixel scale.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError
from poselab.core.normalize import denormalize_keypoints
from poselab.core.progress import CancelToken, EtaClock, Progress
from poselab.distill.checkpoint import FILENAME, load_checkpoint, save_checkpoint
from poselab.distill.lifter_predict import (  # noqa: F401  (predict_lifter: public here too)
    build_model,
    model_kwargs,
    predict_lifter,
    predict_normalized,
)

log = logging.getLogger(__name__)

LIFTER_STUDENTS = ("lifter2d", "heatmap-lifter")
HEATMAP_SIGMA = 1.0  # cells (paper 001 §4: 3×3 Gaussian, σ = 1)


def _images(x_uint8, device, generator, config, pretrain: bool, flip: bool, flip_perm):
    """Crops → normalised network input with paper 001 §4's augmentation: colour jitter always
    (``config.augment``); flip (``flip``), rotation and scale only in heatmap pre-training.

    Returns ``(images, A, perm)`` (see :func:`poselab.distill.data.augment_batch`; A, perm None
    without augmentation)."""
    from poselab.distill.data import augment_batch, normalise_input, to_network_input

    x = to_network_input(x_uint8.to(device))
    if not config.augment:
        return normalise_input(x), None, None
    x, A, perm = augment_batch(x, generator,
                               rotation_deg=config.rotation_deg if pretrain else 0.0,
                               scale_range=config.scale_range if pretrain else 0.0,
                               flip=flip and pretrain, colour=True, flip_perm=flip_perm)
    return normalise_input(x), A, perm


def _losses(out: dict, batch: dict, config, bones, pairs, phase: str) -> dict:
    """Eq. 9 terms (paper 001) of one batch; ``total`` is the weighted sum."""
    from poselab.distill.heatmap import gaussian_heatmaps, heatmap_loss
    from poselab.distill.lifter import bone_symmetry_loss, decoder_loss, encoder_loss
    from poselab.distill.losses import distill_depth_loss
    from poselab.distill.softargmax import normalized_to_cells

    terms: dict = {}
    total = 0.0
    obs = batch["observed"]
    if "heatmaps" in out:
        hm = out["heatmaps"]
        cells = normalized_to_cells(batch["w"], out["input_size"], out["stride"])
        tgt = gaussian_heatmaps(cells, hm.shape[-2], hm.shape[-1], HEATMAP_SIGMA, obs)
        terms["loss_heatmap"] = heatmap_loss(hm, tgt, obs)
        total = terms["loss_heatmap"] if phase == "pretrain" else config.loss_alpha * terms[
            "loss_heatmap"]
    if phase == "pretrain":
        terms["total"] = total
        return terms
    y3d = out["y3d"]
    if "B" in batch:  # distilling loss on depth (paper 000 Eq. 14), Eq. 6 on x, y
        xy = ((y3d[..., :2] - batch["target"][..., :2]) ** 2 * batch["xy_mask"][..., None])
        depth = distill_depth_loss(y3d[..., 2], batch["w"], batch["B"], batch["codes"], obs,
                                   config.l1_weight, config.damping)
        terms["loss_encoder"] = xy.sum(dim=(1, 2)).mean() + depth
    else:
        terms["loss_encoder"] = encoder_loss(y3d, batch["target"], batch["xy_mask"],
                                             batch["z_mask"])
    total = total + config.loss_beta * terms["loss_encoder"]
    if out.get("reproj") is not None:
        terms["loss_decoder"] = decoder_loss(out["reproj"], batch["w"], obs)
        total = total + config.loss_gamma * terms["loss_decoder"]
    if config.loss_delta > 0:
        terms["loss_bone"] = bone_symmetry_loss(y3d, bones, pairs)
        total = total + config.loss_delta * terms["loss_bone"]
    terms["total"] = total
    return terms


def _learning_rate(base: float, step: int, epoch: int, pre: int, steps_per_epoch: int,
                   total_epochs: int) -> float:
    """Cosine decay to 0 over each phase (pre-training, end to end); a pure function of the
    step, so a resumed run continues the same schedule."""
    import math

    start, length = (0, pre) if epoch < pre else (pre, total_epochs - pre)
    t = (step - start * steps_per_epoch) / max(1, length * steps_per_epoch)
    return base * 0.5 * (1 + math.cos(math.pi * min(max(t, 0.0), 1.0)))


def _forward(model, kind: str, batch: dict, x=None, heatmaps_only: bool = False) -> dict:
    if kind == "lifter2d":
        y3d, reproj = model(batch["w"], batch["observed"])
        return {"y3d": y3d, "reproj": reproj}
    out = dict(model(x, heatmaps_only=heatmaps_only))
    out.update(input_size=model.input_size, stride=model.stride)
    return out


def _epoch_metrics(pred, pred2d, idx, collection, targets, teacher_eval, config) -> dict:
    from poselab.distill.evaluation import student_metrics

    out = student_metrics(pred, idx, collection, targets.base, teacher_eval,
                          config.l1_weight, config.damping)
    if pred2d is not None:  # the heatmap network's own 2D (soft-argmax), pixels
        s = targets.base.scale[idx][:, None]
        obs = targets.base.observed[idx]
        d = np.linalg.norm(pred2d - targets.base.w[idx], axis=-1) * s
        out["heatmap_err2d_px"] = float((d * obs).sum() / max(obs.sum(), 1))
    if collection.has_3d and collection.units_3d == "units":  # classic NRSfM sequences
        from poselab.metrics.nrsfm import e3d_akhter

        base = targets.base
        px = denormalize_keypoints(pred, base.centre[idx], base.scale[idx])
        out["student_e3d_akhter"] = float(e3d_akhter(collection.keypoints_3d[idx], px))
        if base.teacher_3d is not None:
            tpx = denormalize_keypoints(base.teacher_3d[idx], base.centre[idx],
                                        base.scale[idx])
            out["teacher_e3d_akhter"] = float(e3d_akhter(collection.keypoints_3d[idx], tpx))
    return out


def train_lifter(collection: PoseCollection, teacher, config, out_dir: str | Path,
                 resume: str | Path | dict | None = None, cancel: CancelToken | None = None,
                 init_heatmaps: str | Path | dict | None = None,
                 ) -> Generator[Progress, None, Any]:
    """Train a lifter student (module doc); generator of :class:`Progress`, returns the result.

    Args:
        collection: N samples, J joints; images needed for ``"heatmap-lifter"``.
        teacher: :class:`poselab.nrsfm.result.NRSfMResult` on the same samples (same ids, same
            order), or None with ``lifter_target="gt"``.
        config: :class:`poselab.distill.config.TrainConfig` with ``student`` in
            ``("lifter2d", "heatmap-lifter")``.
        out_dir: folder of ``checkpoint.pt`` (written atomically after every epoch).
        resume: a checkpoint (path, run folder or loaded dict) to continue from.
        cancel: checked every step; raises :class:`poselab.core.Cancelled`.
        init_heatmaps: a heatmap-lifter checkpoint whose heatmap network initialises this one
            (paper 001 §4, "HRNet initialization": pre-train once, then train several lifters
            end to end from it); the lifter starts fresh.

    Yields:
        ``kind="step"`` records (``loss`` and its terms, ``samples_per_s``) every
        ``log_every`` steps and ``kind="epoch"`` records (metrics of
        :func:`poselab.distill.evaluation.student_metrics`, plus ``heatmap_err2d_px`` and, on
        classic sequences, ``student_e3d_akhter``/``teacher_e3d_akhter``).

    Returns:
        ``poselab.distill.train.TrainResult(checkpoint, metrics, history)``.

    Raises:
        DataError: unusable data/teacher (:func:`poselab.distill.inputs.check_inputs`), a
            target that is not available, a resume checkpoint of another run.
    """
    import torch

    from poselab.core.config import resolve_device
    from poselab.distill.data import build_crops
    from poselab.distill.evaluation import teacher_metrics
    from poselab.distill.inputs import check_inputs
    from poselab.distill.lifter_data import (
        gather_batch,
        lifter_targets,
        random_flip,
        transform_batch,
    )

    if config.student not in LIFTER_STUDENTS:
        raise DataError(None, f"train_lifter trains {LIFTER_STUDENTS}, not {config.student!r}")
    cancel = cancel or CancelToken()
    kind = config.student
    check_inputs(collection, teacher, need_images=kind == "heatmap-lifter")
    if config.num_threads > 0:
        torch.set_num_threads(config.num_threads)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    targets = lifter_targets(collection, teacher, config.lifter_target)
    skel = collection.skeleton
    N, J = collection.num_samples, collection.num_joints
    bones = torch.as_tensor(skel.bones_array, device=device)
    pairs = torch.as_tensor(skel.symmetric_bone_pairs, device=device)
    flip_perm = torch.as_tensor(skel.flip_permutation)
    # a mirror image is the same kind of subject only when left and right can be swapped
    flip = config.flip_augment and len(skel.left_right) > 0

    crops = None
    if kind == "heatmap-lifter":
        crops = yield from build_crops(collection.image_paths, targets.base.centre,
                                       targets.base.scale, config.input_size, cancel)
        crops_t = torch.from_numpy(crops)

    kwargs = model_kwargs(config, J)
    model = build_model(kwargs).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    if init_heatmaps is not None and kind == "heatmap-lifter" and resume is None:
        src = init_heatmaps if isinstance(init_heatmaps, dict) else load_checkpoint(
            init_heatmaps)
        state = {k[len("heatmap_net."):]: v for k, v in src["model"].items()
                 if k.startswith("heatmap_net.")}
        try:
            model.heatmap_net.load_state_dict(state)
        except RuntimeError as err:
            raise DataError(src.get("path"), f"heatmap network does not match ({err})"
                            ) from None
    pre = config.heatmap_pretrain_epochs if kind == "heatmap-lifter" else 0
    total_epochs = pre + config.epochs
    bs = min(config.batch_size, N)
    steps_per_epoch = N // bs if N % bs < 2 else N // bs + 1  # a batch of 1 breaks BatchNorm
    total = total_epochs * steps_per_epoch
    epoch, step, history = 0, 0, []
    if resume is not None:
        ck = resume if isinstance(resume, dict) else load_checkpoint(resume)
        if ck["student"] != kind or list(ck["sample_ids"]) != list(collection.sample_ids):
            raise DataError(ck.get("path"), "the checkpoint belongs to another student or "
                                            "sample set; cannot resume")
        model.load_state_dict(ck["model"])
        if ck.get("optimizer"):
            opt.load_state_dict(ck["optimizer"])
        epoch, step, history = int(ck["epoch"]), int(ck["step"]), list(ck.get("history", []))
        for past in history:  # the run's earlier epochs, so live plots show the whole run
            yield Progress("history", step, total, dict(past), None,
                           f"epoch {int(past.get('epoch', 0))} (before resuming)", kind="epoch")

    eval_idx = np.arange(N)
    if 0 < config.eval_max_samples < N:
        eval_idx = np.linspace(0, N - 1, config.eval_max_samples).round().astype(int)
    teacher_eval = teacher_metrics(eval_idx, collection, targets.base)
    out_path = Path(out_dir) / FILENAME
    clock, metrics = EtaClock(max(1, total - step)), dict(history[-1]) if history else {}
    step0 = step
    while epoch < total_epochs:
        phase = "pretrain" if epoch < pre else "train"
        rng = np.random.default_rng(config.seed * 100003 + epoch)
        gen = torch.Generator().manual_seed(config.seed * 100003 + epoch)
        order = rng.permutation(N)
        model.train()
        t0, seen = time.perf_counter(), 0
        for b in range(steps_per_epoch):
            cancel.check()
            idx = order[b * bs:(b + 1) * bs]
            batch = gather_batch(targets, idx, device)
            x = None
            if kind == "lifter2d":
                A, perm = random_flip(len(idx), flip_perm, gen, device, flip)
            else:
                x, A, perm = _images(crops_t[idx], device, gen, config, phase == "pretrain",
                                     flip, flip_perm)
            if A is not None:
                batch = transform_batch(batch, A, perm)
            out = _forward(model, kind, batch, x, heatmaps_only=phase == "pretrain")
            terms = _losses(out, batch, config, bones, pairs, phase)
            lr = _learning_rate(config.lr, step, epoch, pre, steps_per_epoch, total_epochs)
            for group in opt.param_groups:
                group["lr"] = lr
            opt.zero_grad(set_to_none=True)
            terms["total"].backward()
            opt.step()
            step, seen = step + 1, seen + len(idx)
            loss = float(terms["total"].detach())
            if not np.isfinite(loss):
                raise DataError(collection.source, "lifter training diverged (loss is not "
                                                   "finite); try a lower learning rate")
            if step % config.log_every == 0 or b == steps_per_epoch - 1:
                vals = {"loss": loss, **{k: float(v.detach()) for k, v in terms.items()
                                         if k != "total"},
                        "samples_per_s": seen / max(1e-9, time.perf_counter() - t0)}
                yield Progress(phase, step, total, vals, clock.eta(step - step0),
                               f"epoch {epoch + 1}/{total_epochs} loss {loss:.4f}")
        epoch += 1
        cancel.check()
        ecrops = None if crops is None else crops[eval_idx]
        pred, pred2d = predict_normalized(model, kind, targets.base.w[eval_idx],
                                          targets.base.observed[eval_idx], ecrops, device)
        metrics = {"epoch": float(epoch), "phase_pretrain": float(phase == "pretrain"),
                   **_epoch_metrics(pred, pred2d, eval_idx, collection, targets,
                                    teacher_eval, config)}
        history.append(metrics)
        cancel.check()
        save_checkpoint(out_path, {
            "student": kind, "epoch": epoch, "step": step, "model": model.state_dict(),
            "optimizer": opt.state_dict(), "scheduler": None, "rng": None,
            "config": config.to_dict(), "skeleton": skel.to_dict(),
            "sample_ids": list(collection.sample_ids), "history": history, "metrics": metrics,
            "extra": {"model_kwargs": kwargs}})
        yield Progress("epoch", step, total, metrics, clock.eta(step - step0),
                       f"epoch {epoch}/{total_epochs} done", kind="epoch")
    return _result(out_path, metrics, history)


def _result(path: Path, metrics: dict, history: list):
    try:
        from poselab.distill.train import TrainResult
    except ImportError:  # the engine module is optional for the lifters
        from types import SimpleNamespace

        return SimpleNamespace(checkpoint=path, metrics=metrics, history=history)
    return TrainResult(checkpoint=path, metrics=metrics, history=history)
