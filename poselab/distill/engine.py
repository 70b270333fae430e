"""The one training loop of every student (:mod:`poselab.distill.students`), a progress
generator.

The loop owns what the students share: unusable images left out (with the teacher subset to
match), the held-out split (:mod:`poselab.distill.split`), data order (a seeded permutation of
the training samples per epoch, sharded across torchrun ranks like ``DistributedSampler``:
padded to a multiple of the world size, rank ``r`` takes every ``world``-th sample), Adam, the
student's learning-rate schedule as a ``LambdaLR``, mixed precision on CUDA, DDP, cancel at
every step (broadcast to every rank), evaluation on the training and held-out samples after
every epoch (:func:`poselab.distill.evaluation.split_metrics`), and an atomic checkpoint with
optimiser, scheduler, RNG states, architecture and split, from which a run resumes exactly.
Rank 0 alone evaluates and writes. ``POSELAB_TRACE_SAMPLES=<folder>`` makes every rank write
``rank<r>.json``: the sample ids it trained on per epoch (tests, debugging).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from poselab.core.collection import PoseCollection
from poselab.core.errors import DataError, PoselabError
from poselab.core.progress import CancelToken, EtaClock, Progress
from poselab.distill.checkpoint import FILENAME, load_checkpoint, save_checkpoint

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What a finished run leaves: its checkpoint, final metrics and per-epoch history."""

    checkpoint: Path
    metrics: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)


def steps_per_epoch(n_local: int, batch_size: int) -> int:
    """Optimiser steps over ``n_local`` samples: full batches, plus the remainder when it
    holds at least 2 samples (a batch of 1 breaks BatchNorm)."""
    bs = max(1, min(batch_size, n_local))
    return max(1, n_local // bs + (1 if n_local % bs >= 2 else 0))


def epoch_order(train_idx: np.ndarray, seed: int, epoch: int, rank: int = 0,
                world: int = 1) -> np.ndarray:
    """This rank's training samples of ``epoch`` in order: a seeded permutation of
    ``train_idx`` padded to a multiple of ``world`` with its own start, every ``world``-th."""
    perm = np.random.default_rng([int(seed), int(epoch), 1]).permutation(len(train_idx))
    pad = (-len(perm)) % world
    perm = np.concatenate([perm, perm[:pad]]) if pad else perm
    return np.asarray(train_idx)[perm[rank::world]]


def _drop_unusable(collection, teacher, student):
    if not student.needs_images:
        return collection, teacher
    from poselab.distill.data import drop_unusable_images
    from poselab.distill.inputs import subset_teacher

    sub, kept = drop_unusable_images(collection)
    return sub, (teacher if sub is collection else subset_teacher(teacher, kept))


def _check_resume(state: dict, collection, student, split) -> None:
    from poselab.distill.split import check_same_split
    from poselab.distill.students import student_from_checkpoint

    if state["student"] != student.name:
        raise PoselabError(f"cannot resume {state['path']}: it trains student "
                           f"{state['student']!r}, not {student.name!r}")
    _, old = student_from_checkpoint(state)
    new = json.loads(json.dumps(student.arch()))
    diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    if diff:
        raise PoselabError(f"cannot resume {state['path']}: it was trained with other network "
                           f"settings ({', '.join(diff)})")
    if list(state["sample_ids"]) != list(collection.sample_ids):
        raise DataError(state["path"], "the checkpoint was trained on a different sample set")
    if list(state["skeleton"]["joint_names"]) != list(collection.skeleton.joint_names):
        raise DataError(state["path"], "the checkpoint was trained on another skeleton")
    check_same_split(state.get("split"), split, collection.sample_ids, state["path"])


def _eval_parts(split, cap: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([int(seed), 2])
    parts = {}
    for prefix, idx in (("train_", split.train_idx), ("val_", split.val_idx)):
        if cap and len(idx) > cap:
            idx = np.sort(rng.choice(idx, cap, replace=False))
        parts[prefix] = idx
    return parts


def train(collection: PoseCollection, teacher, config, out_dir: str | Path,
          resume: str | Path | dict | None = None, cancel: CancelToken | None = None,
          init_heatmaps: str | Path | dict | None = None,
          ) -> Generator[Progress, None, TrainResult]:
    """Train ``config.student`` on ``collection`` with ``teacher``'s knowledge (generator).

    Args:
        collection: N samples (images for image students; 2D landmarks); 3D ground truth is
            read only for scoring and for the supervised settings.
        teacher: :class:`poselab.nrsfm.result.NRSfMResult` fitted on exactly this collection,
            or None for ground-truth targets.
        config: :class:`poselab.distill.config.TrainConfig`.
        out_dir: run folder; ``checkpoint.pt`` and ``split.json`` are written there (atomic).
        resume: checkpoint (path, run folder or loaded dict) to continue from exactly.
        cancel: checked at every step; raises :class:`poselab.core.errors.Cancelled`.
        init_heatmaps: heatmap-lifter only — a checkpoint whose heatmap network initialises
            this one (paper 001 §4).

    Yields:
        :class:`Progress`: ``kind="step"`` (stage = phase) every ``log_every`` steps with the
        loss terms, ``lr``, ``samples_per_s``; ``kind="epoch"`` after every epoch with
        ``train_*``/``val_*`` scores (module doc), ``train_count``/``val_count``; stage
        ``"history"`` records replay a resumed run's earlier epochs first.

    Returns:
        :class:`TrainResult`.

    Raises:
        DataError: unusable data, teacher or checkpoint; training diverged.
        PoselabError: a resume checkpoint of another student, network or split.
    """
    import torch

    from poselab.distill import distributed as ddp
    from poselab.distill.split import FILENAME as SPLIT_FILE
    from poselab.distill.split import make_split, save_split
    from poselab.distill.students import make_student

    cancel = cancel or CancelToken()
    student = make_student(config, collection.num_joints)
    student.check(collection, teacher)
    collection, teacher = _drop_unusable(collection, teacher, student)
    split = make_split(collection, config.val_fraction, config.val_key, config.seed)
    state = resume if isinstance(resume, dict) else (
        load_checkpoint(resume) if resume is not None else None)
    if state is not None:
        _check_resume(state, collection, student, split)
    if config.num_threads > 0:
        torch.set_num_threads(config.num_threads)
    info = ddp.setup(config.device)
    dev = torch.device(info.device)
    torch.manual_seed(config.seed)
    yield from student.prepare(collection, teacher, info.device, cancel)
    model = student.build().to(dev)
    if init_heatmaps is not None and state is None and hasattr(student, "init_heatmaps"):
        src = init_heatmaps if isinstance(init_heatmaps, dict) else load_checkpoint(
            init_heatmaps)
        student.init_heatmaps(model, src)
    if config.pretrained and not getattr(model, "pretrained_loaded", True):
        yield Progress("setup", 0, 0, message="ImageNet weights not available offline; "
                                              "training from random initialisation", kind="info")
    net = model
    if info.world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[dev.index] if dev.type == "cuda" else None,
            find_unused_parameters=student.find_unused_parameters)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    train_idx = split.train_idx
    n_local = -(-len(train_idx) // info.world)
    bs = max(1, min(config.batch_size, n_local))
    spe = steps_per_epoch(n_local, config.batch_size)
    total_epochs = sum(n for _, n in student.phases())
    total = spe * total_epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: student.lr_factor(s, spe))
    use_amp = student.uses_amp and config.amp and dev.type == "cuda"
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)

    start_epoch, step, history = 0, 0, []
    if state is not None:
        model.load_state_dict(state["model"])
        if state.get("optimizer"):
            opt.load_state_dict(state["optimizer"])
        if state.get("scheduler"):
            sched.load_state_dict(state["scheduler"])
        if state.get("scaler") and scaler.is_enabled():
            scaler.load_state_dict(state["scaler"])
        rng = state.get("rng") or {}
        if rng.get("torch") is not None:
            torch.set_rng_state(rng["torch"])
        if rng.get("cuda") is not None and dev.type == "cuda":
            torch.cuda.set_rng_state(rng["cuda"], dev)
        start_epoch, step = int(state["epoch"]), int(state["step"])
        history = list(state.get("history", []))
        yield Progress("resume", step, total, message=f"resumed at epoch {start_epoch}, "
                                                      f"step {step}", kind="info")
        for past in history:  # the run's earlier epochs, so live plots show the whole run
            yield Progress("history", step, total, dict(past), None,
                           f"epoch {int(past.get('epoch', 0))} (before resuming)", kind="epoch")

    out_dir = Path(out_dir)
    ckpt_path = out_dir / FILENAME
    split_record = split.to_dict(collection.sample_ids)
    if info.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
        save_split(out_dir / SPLIT_FILE, split_record)
    parts = _eval_parts(split, config.eval_max_samples, config.seed)
    score_idx = np.concatenate(list(parts.values()))
    inputs = {"w": student.targets.w, "observed": student.targets.observed,
              "crops": student.crops}
    teacher_cache: dict = {}
    trace_dir = os.environ.get("POSELAB_TRACE_SAMPLES")
    trace: list[list[str]] = []
    gen = torch.Generator()
    clock, step0 = EtaClock(max(1, total - step)), step
    metrics: dict[str, float] = dict(history[-1]) if history else {}

    for epoch in range(start_epoch, total_epochs):
        phase = student.phase_at(epoch)
        model.train()
        gen.manual_seed(config.seed * 1_000_003 + epoch * 1009 + info.rank)
        order = epoch_order(train_idx, config.seed, epoch, info.rank, info.world)
        t0, seen, sums, used = time.perf_counter(), 0, {}, []
        for b in range(spe):
            if ddp.broadcast_flag(info, cancel.cancelled):
                cancel.cancel()
            cancel.check()
            idx = order[b * bs:(b + 1) * bs]
            used.extend(collection.sample_ids[i] for i in idx)
            batch = student.batch(idx, phase, gen)
            with torch.autocast(dev.type, dtype=amp_dtype, enabled=use_amp):
                terms = student.losses(net, batch, phase)
            loss_t = terms.pop("total")
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss_t).backward()
            scaler.step(opt)
            scaler.update()
            lr = float(sched.get_last_lr()[0])
            sched.step()
            step, seen = step + 1, seen + len(idx)
            vals = {"loss": float(loss_t.detach()),
                    **{k: float(v.detach()) for k, v in terms.items()}}
            if not np.isfinite(vals["loss"]) and not scaler.is_enabled():
                raise DataError(collection.source, f"{student.name} training diverged (loss "
                                                   f"is not finite); try a lower learning rate")
            for k, v in vals.items():
                sums[k] = sums.get(k, 0.0) + v
            if step % config.log_every == 0 or b == spe - 1:
                rate = seen * info.world / max(time.perf_counter() - t0, 1e-9)
                yield Progress(phase, step, total, {**vals, "lr": lr, "samples_per_s": rate},
                               clock.eta(step - step0), f"epoch {epoch + 1}/{total_epochs} "
                                                        f"loss {vals['loss']:.4f}")
        if ddp.broadcast_flag(info, cancel.cancelled):
            cancel.cancel()
        cancel.check()
        trace.append(used)
        if trace_dir:
            _write_trace(trace_dir, info.rank, trace)
        epoch_time = time.perf_counter() - t0
        if info.is_main:
            y3, y2 = student.predict_normalized(model, inputs, score_idx, info.device)
            extra, start = {}, 0
            if y2 is not None:
                extra[""] = student.extra_metrics(y2, score_idx)
                for prefix, idx in parts.items():
                    if len(idx):
                        extra[prefix] = student.extra_metrics(y2[start:start + len(idx)], idx)
                    start += len(idx)
            from poselab.distill.evaluation import split_metrics

            metrics = {"epoch": float(epoch + 1), "step": float(step),
                       "phase_pretrain": float(phase == "pretrain"),
                       **{f"train_{k}": v / spe for k, v in sums.items()},
                       "samples_per_s": seen * info.world / max(epoch_time, 1e-9),
                       **split_metrics(y3, extra, parts, collection, student.targets,
                                       teacher_cache, config.l1_weight, config.damping)}
            history.append(metrics)
            save_checkpoint(ckpt_path, {
                "student": student.name, "epoch": epoch + 1, "step": step,
                "model": model.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                **({"scaler": scaler.state_dict()} if scaler.is_enabled() else {}),
                "rng": {"torch": torch.get_rng_state(),
                        **({"cuda": torch.cuda.get_rng_state(dev)} if dev.type == "cuda"
                           else {})},
                "config": config.to_dict(), "skeleton": collection.skeleton.to_dict(),
                "sample_ids": list(collection.sample_ids), "history": history,
                "metrics": metrics, "split": split_record,
                "extra": {"arch": student.arch(), "world_size": info.world,
                          **({"model_kwargs": student.arch()} if student.name != "integral"
                             else {})}})
            log.info("epoch %d/%d: %s", epoch + 1, total_epochs,
                     " ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
        ddp.barrier(info)
        yield Progress("epoch", step, total, dict(metrics), clock.eta(step - step0),
                       f"epoch {epoch + 1}/{total_epochs}", kind="epoch")
    ddp.teardown(info)
    return TrainResult(ckpt_path, dict(metrics), list(history))


def _write_trace(folder: str, rank: int, trace: list[list[str]]) -> None:
    from poselab.core.atomic import atomic_write_bytes

    Path(folder).mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(Path(folder) / f"rank{rank}.json", json.dumps(trace).encode())
