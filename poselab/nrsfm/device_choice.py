"""The device a Deep NRSfM fit trains on when its config says ``"auto"``: the faster, measured.

A training step is some 900 small operations on a batch of 256 samples × 17 joints (forward,
backward, Adam; ``scripts/bench_nrsfm_step.py --profile``). On a GPU each is a kernel launch,
so a step costs its launches, not its arithmetic, and a GPU was no faster than a CPU. Measured
on an NVIDIA H200 (2026-12-04, torch 2.11, 16-core host): the teacher of ``bench_distill.py
--quick`` (800 samples) took 74 s on ``cuda`` against 56 s on the 2-core CPU of our CI
machine; the default h36m17_train35k fit did not finish within 150 s on ``cuda`` (145–165 s on
that CPU, whose restarts train side by side, :mod:`poselab.nrsfm.concurrent`).

So with ``"auto"`` and a GPU present, :func:`choose_device` times a few steps of the fit's own
network on each device and trains on the faster; the times are kept in the result
(``extra["device_choice"]``). Without a GPU nothing is measured. A device named in the config
(``"cpu"``, ``"cuda"``, ``"cuda:1"``) is used as it is. The image students are another matter:
their convolutions fill a GPU, and ``poselab.distill`` keeps ``"auto"`` → ``cuda``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

#: Steps timed on each device after :data:`WARMUP_STEPS` untimed ones (allocator, kernels,
#: threads): about 0.2 s on the 2-core CPU at batch 256, plus the GPU's context start on its
#: first use (not measured here).
PROBE_STEPS, WARMUP_STEPS = 12, 4


def step_seconds(inputs, num_joints: int, config, device: str,
                 steps: int = PROBE_STEPS) -> float:
    """Mean wall seconds of one training step of a fresh network on ``device`` (a batch of
    ``inputs``, :class:`poselab.nrsfm.data.NRSfMInputs`), waiting for the GPU to finish."""
    import torch

    from poselab.nrsfm.train import Batches, Run

    run = Run(num_joints, config, config.seed, device)
    data = Batches(inputs, device)
    cuda = device.startswith("cuda")
    for _ in range(WARMUP_STEPS):
        run.train_step(data)
    if cuda:
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        run.train_step(data)  # its float() of the loss waits for the GPU anyway
    if cuda:
        torch.cuda.synchronize(device)
    return (time.perf_counter() - t0) / steps


def gpu_present() -> bool:
    """Whether torch sees a CUDA GPU."""
    import torch

    return torch.cuda.is_available()


def choose_device(config, inputs, num_joints: int,
                  measure: Callable[[str], float] | None = None) -> tuple[str, dict | None]:
    """The device to train on and, when it was measured, what was measured.

    Args:
        config: :class:`poselab.nrsfm.config.NRSfMConfig`; only ``device == "auto"`` with a
            GPU present leads to a measurement.
        inputs: the fit's normalised inputs. num_joints: J.
        measure: ``device → seconds per step`` (default :func:`step_seconds` on ``inputs``).

    Returns:
        ``(device, info)``: ``info`` is None when nothing was measured, else
        ``{"seconds_per_step": {"cpu": s, "cuda": s}, "chosen": device}``; a GPU whose step
        fails (a driver error, out of memory) gives ``"cpu"`` and ``info["cuda_error"]``.

    Raises:
        PoselabError: ``"cuda"`` named but torch sees no GPU (:func:`resolve_device`).
    """
    from poselab.core.config import resolve_device

    if config.device != "auto" or not gpu_present():
        return resolve_device(config.device), None
    measure = measure or (lambda d: step_seconds(inputs, num_joints, config, d))
    try:
        gpu = float(measure("cuda"))
    except (RuntimeError, MemoryError) as err:  # a GPU torch sees but cannot use
        log.warning("NRSfM device auto: the GPU failed a training step (%s); using the CPU",
                    err)
        return "cpu", {"seconds_per_step": {}, "chosen": "cpu", "cuda_error": str(err)}
    times = {"cuda": gpu, "cpu": float(measure("cpu"))}
    chosen = min(times, key=times.get)  # ties go to the GPU, measured first
    log.info("NRSfM device auto: %.1f ms per step on cuda, %.1f on the CPU -> %s",
             1e3 * times["cuda"], 1e3 * times["cpu"], chosen)
    return chosen, {"seconds_per_step": times, "chosen": chosen}


def describe_choice(info: dict | None) -> str:
    """Where a fit with ``device="auto"`` trained and why, for the GUI's status line and the
    CLI: ``"trained on the CPU: 8.2 ms per step against 19.0 on the GPU"``; ``""`` when
    nothing was measured (no GPU, or a device named). ``info``: ``extra["device_choice"]``."""
    if not info:
        return ""
    if "cuda_error" in info:
        return f"trained on the CPU: the GPU failed a training step ({info['cuda_error']})"
    t, chosen = info["seconds_per_step"], info["chosen"]
    other = "cpu" if chosen == "cuda" else "cuda"
    name = {"cpu": "CPU", "cuda": "GPU"}
    return (f"trained on the {name[chosen]}: {1e3 * t[chosen]:.1f} ms per step against "
            f"{1e3 * t[other]:.1f} on the {name[other]}")
