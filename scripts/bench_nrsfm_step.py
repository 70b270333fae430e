"""Milliseconds per Deep NRSfM training step on each device (issue 15's speed, the GPU path).

The teacher's default fit on h36m17_train35k is some 10k Adam steps of batch 256 on 17 joints:
its wall time is steps × this figure. Random 2D (the cost of a step does not depend on the
values). ``--profile``: the operations that take the time, from torch.profiler.

    .venv/bin/python scripts/bench_nrsfm_step.py [--steps 200] [--devices cpu,cuda] [--profile]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from poselab.nrsfm.config import NRSfMConfig
from poselab.nrsfm.data import prepare_inputs
from poselab.nrsfm.train import Batches, Run


def time_steps(device: str, steps: int, profile: bool) -> None:
    rng = np.random.default_rng(0)
    kp = rng.normal(500.0, 80.0, (35000, 17, 2)).astype(np.float32)
    inputs = prepare_inputs(kp, None, None, "weak_perspective")
    run = Run(17, NRSfMConfig(), 0, device)
    data = Batches(inputs, device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    for _ in range(20):  # warm-up: allocator, kernels, threads
        run.train_step(data)
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        run.train_step(data)
    sync()
    ms = (time.perf_counter() - t0) / steps * 1e3
    print(f"{device}: {ms:.2f} ms per step (batch 256, J = 17, {torch.get_num_threads()} "
          f"torch threads) → 10k steps in {ms * 10:.0f} s", flush=True)
    if profile:
        from torch.profiler import ProfilerActivity
        from torch.profiler import profile as prof

        acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA]
                                         if device.startswith("cuda") else [])
        with prof(activities=acts) as p:
            for _ in range(20):
                run.train_step(data)
            sync()
        print(p.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--devices", default="cpu,cuda")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    for dev in args.devices.split(","):
        if dev.startswith("cuda") and not torch.cuda.is_available():
            print(f"{dev}: torch sees no CUDA GPU; skipped")
            continue
        time_steps(dev, args.steps, args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
