"""How long a training run will take, before it starts (shown by the GUI's Train dialog).

The estimate is ``samples × epochs / rate`` plus a fixed start-up cost, with rates measured on
the 2-core development CPU (one torch thread, other jobs sharing the cores; issue 17):

- ``lifter2d``: 1700 demo samples × 60 epochs in 88 s (≈ 1200 sample-epochs/s, scoring
  included); 2000 × 60 took 191 s through ``poselab train`` while a benchmark shared the cores;
- ``integral``: ≈ 130 images/s at 64 px with the ``cpu`` preset (ResNet-18 of base width 16),
  scaled by ``(input_size / 64)² · (backbone_width / 16)²`` and by 2 for ResNet-34, 3 for
  ResNet-50; cropping ≈ 150 images/s once;
- ``heatmap-lifter``: ≈ 35 images/s at 64 px (HRNet-lite), same scaling, plus its
  ``heatmap_pretrain_epochs``.

On a GPU (``device`` cuda) the figure is an upper bound. It is an order of magnitude, not a
promise: a shared CPU can be twice as slow.
"""

from __future__ import annotations

_RATE = {"lifter2d": 1200.0, "integral": 130.0, "heatmap-lifter": 35.0}
_DEPTH_COST = {"resnet18": 1.0, "resnet34": 2.0, "resnet50": 3.0}
_STARTUP_S = 5.0
_CROPS_PER_S = 150.0


def estimate_seconds(config, num_samples: int) -> float:
    """Estimated wall time, seconds, of training ``config`` on ``num_samples`` samples.

    Args:
        config: a :class:`poselab.distill.config.TrainConfig`.
        num_samples: samples the run trains on (≥ 0).

    Returns:
        seconds (float ≥ 0) on the 2-core CPU the rates were measured on.
    """
    n = max(int(num_samples), 0)
    epochs = config.epochs
    if config.student == "lifter2d":
        return _STARTUP_S + n * epochs / _RATE["lifter2d"]
    size = (config.input_size / 64.0) ** 2
    if config.student == "heatmap-lifter":
        epochs += config.heatmap_pretrain_epochs
        rate = _RATE["heatmap-lifter"] / size
    else:
        width = (config.backbone_width / 16.0) ** 2
        rate = _RATE["integral"] / (size * width * _DEPTH_COST.get(config.backbone, 1.0))
    return _STARTUP_S + n / _CROPS_PER_S + n * epochs / rate


def describe_estimate(config, num_samples: int) -> str:
    """One line for a dialog: ``"Estimated duration: about 1.5 min (2000 samples, CPU)"``."""
    s = estimate_seconds(config, num_samples)
    text = f"{s:.0f} s" if s < 90 else (f"{s / 60:.1f} min" if s < 5400 else f"{s / 3600:.1f} h")
    where = "CPU" if not str(config.device).startswith("cuda") else "measured on a CPU; a GPU " \
                                                                    "is faster"
    return f"Estimated duration: about {text} ({num_samples} samples, {where})"
