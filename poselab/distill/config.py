"""TrainConfig: every setting of a student training run (STYLE.md §3).

The config only parametrises :func:`poselab.distill.train`; it implements nothing. Each field
carries GUI hints (label, range, unit, choices) from which the GUI builds its training form.
Presets (:meth:`TrainConfig.preset_defaults`) set the network size:

- ``"cpu"``: a width-reduced ResNet-18 (base width 16) at 64 px with a 16³ heatmap volume —
  small enough for one epoch over 35k images in a few minutes on a 2-core CPU (PLATFORM.md).
- ``"paper"``: paper 000 §5.1 — ResNet-50 at 256 px, 3 deconvolutions of 256 channels, 64³
  heatmap volume, batch 32, lr 1e-3 (a GPU setting).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from poselab.core.config import ConfigBase, hint
from poselab.core.errors import PoselabError

STUDENTS = ("integral", "heatmap-lifter", "lifter2d")
PRESETS = ("cpu", "paper")
BACKBONES = ("resnet18", "resnet34", "resnet50")
DEPTH_LOSSES = ("distill", "weaksup", "supervised")
LIFTER_TARGETS = ("teacher3d", "distill", "gt")

#: Field values each preset sets (everything else keeps the dataclass default).
PRESET_VALUES: dict[str, dict[str, Any]] = {
    "cpu": dict(backbone="resnet18", backbone_width=16, input_size=64, deconv_layers=3,
                deconv_channels=32, heatmap_depth=16, batch_size=32, lr=2e-3),
    "paper": dict(backbone="resnet50", backbone_width=64, input_size=256, deconv_layers=3,
                  deconv_channels=256, heatmap_depth=64, batch_size=32, lr=1e-3),
}


@dataclass(frozen=True)
class TrainConfig(ConfigBase):
    """Settings of one student training run (paper 000 §4.4–5.1; paper 001 for lifters).

    Units: ``input_size`` pixels of the square crop; ``lr`` per step; ``xy_weight`` and
    ``l1_weight`` dimensionless weights of paper 000 Eq. 15 and Eq. 14.

    Raises:
        PoselabError: a value outside its range or choices (``__post_init__``).
    """

    student: str = field(default="lifter2d", metadata=hint(
        "Student", choices=STUDENTS,
        help="lifter2d (default on a CPU): 2D landmarks → 3D, learns in about a minute; "
             "integral: image → 3D integral regression (paper 000); heatmap-lifter: 2D "
             "heatmaps + lifting network (paper 001) — the image students need thousands of "
             "images and tens of epochs (5000 images × 40 epochs: ~7 min on 2 CPU cores, "
             "124 mm MPJPE on unseen S8, limited by their 2D)"))
    preset: str = field(default="cpu", metadata=hint(
        "Preset", choices=PRESETS, help="cpu: small fast network; paper: ResNet-50 at 256 px"))
    backbone: str = field(default="resnet18", metadata=hint(
        "Backbone", choices=BACKBONES, help="torchvision ResNet depth"))
    backbone_width: int = field(default=16, metadata=hint(
        "Backbone width", (4, 64), "channels",
        help="channels of the first ResNet stage; 64 is the standard (ImageNet) network"))
    input_size: int = field(default=64, metadata=hint("Input size", (32, 512), "px"))
    deconv_layers: int = field(default=3, metadata=hint("Deconvolutions", (1, 4)))
    deconv_channels: int = field(default=32, metadata=hint("Deconv channels", (8, 512)))
    heatmap_depth: int = field(default=16, metadata=hint(
        "Depth bins", (4, 128), help="depth resolution D of the 3D heatmaps"))
    depth_loss: str = field(default="distill", metadata=hint(
        "Depth loss", choices=DEPTH_LOSSES,
        help="distill: paper 000 Eq. 14; weaksup: L1 to the teacher's depth (Weaksup-bs); "
             "supervised: L1 to ground-truth depth (upper bound)"))
    teacher3d_weight: float = field(default=1.0, metadata=hint(
        "Teacher-3D weight", (0.0, 100.0),
        help="depth_loss='distill' only: add this weight times the L1 to the teacher's refined "
             "depth (paper 001's 3D target; per joint by the teacher's confidence with "
             "teacher_confidence). 1 by default: on held-out S8 (5000 training images, 40 "
             "epochs) the integral student's depth error went from 82.9 (distilling loss "
             "alone, 0) to 72.7 mm (confidence-weighted; 70.1 unweighted)"))
    teacher_confidence: bool = field(default=False, metadata=hint(
        "Weight by teacher confidence",
        help="teacher-3D term: weight each joint by the teacher's confidence (from "
             "keypoints_3d_std). Off by default: on held-out S8 (5000 training images, 40 "
             "epochs, exact 2D) it raised the depth error in both seeds tried, 70.1 → 72.7 and "
             "68.6 → 71.2 mm"))
    l1_weight: float = field(default=0.3, metadata=hint(
        "L1 weight", (0.0, 10.0), help="weight of ‖φ̃‖₁ in the distilling loss (Eq. 14)"))
    xy_weight: float = field(default=1.0, metadata=hint(
        "xy weight", (0.0, 100.0), help="weight of the 2D L1 term ‖f_xy − w‖₁ (Eq. 15)"))
    heatmap_weight: float = field(default=0.0, metadata=hint(
        "2D heatmap weight", (0.0, 100.0),
        help="integral student: weight of the dense 2D term (cross-entropy of each joint's "
             "x–y heatmap against a Gaussian at its label); 0 = paper 000's L1 only, which "
             "from random weights learns only the median pose in a CPU budget"))
    depth_weight: float = field(default=1.0, metadata=hint(
        "Depth weight", (0.0, 100.0), help="weight of the depth term of Eq. 15"))
    damping: float = field(default=1e-3, metadata=hint(
        "Damping", (0.0, 1.0),
        help="relative damping of the right inverse (B_z B_zᵀ + λ·tr/J·I)⁻¹ (Eq. 13)"))
    epochs: int = field(default=60, metadata=hint(
        "Epochs", (1, 10000), typical=(1, 1000),
        help="60 suits lifter2d (1.5–3 min for 2000 samples on a 2-core CPU); an image "
             "student takes minutes per epoch there"))
    batch_size: int = field(default=32, metadata=hint("Batch size", (1, 4096)))
    lr: float = field(default=2e-3, metadata=hint("Learning rate", (1e-9, 1.0),
                                                  typical=(1e-6, 0.05)))
    weight_decay: float = field(default=0.0, metadata=hint("Weight decay", (0.0, 1.0)))
    device: str = field(default="auto", metadata=hint(
        "Device", help="auto, cpu, cuda or cuda:N"))
    seed: int = field(default=0, metadata=hint("Seed", (0, 2**31 - 1)))
    num_threads: int = field(default=1, metadata=hint(
        "CPU threads", (0, 256), help="torch CPU threads; 0 leaves torch's default"))
    amp: bool = field(default=True, metadata=hint(
        "Mixed precision", help="bfloat16/float16 autocast on CUDA; ignored on CPU"))
    pretrained: bool = field(default=False, metadata=hint(
        "ImageNet weights", help="start the backbone from torchvision's ImageNet weights "
                                 "(needs them in the torch hub cache; falls back to random)"))
    flip_augment: bool = field(default=True, metadata=hint("Flip augmentation"))
    augment: bool = field(default=True, metadata=hint(
        "Augmentation", help="random scale, rotation and colour"))
    rotation_deg: float = field(default=15.0, metadata=hint("Max rotation", (0.0, 90.0), "°"))
    scale_range: float = field(default=0.1, metadata=hint("Scale jitter", (0.0, 0.5)))
    lifter_target: str = field(default="teacher3d", metadata=hint(
        "Lifter target", choices=LIFTER_TARGETS, help="3D target of the lifter students"))
    loss_alpha: float = field(default=1.0, metadata=hint("α (2D heatmap)", (0.0, 1e4)))
    loss_beta: float = field(default=1.0, metadata=hint("β (3D)", (0.0, 1e4)))
    loss_gamma: float = field(default=1.0, metadata=hint("γ (2D reprojection)", (0.0, 1e4)))
    loss_delta: float = field(default=0.1, metadata=hint("δ (bone symmetry)", (0.0, 1e4)))
    lifter_skip: bool = field(default=True, metadata=hint(
        "Decoder skip", help="add the 2D input to the decoder output (paper 001 §3.3.2)"))
    softargmax_beta: float = field(default=50.0, metadata=hint(
        "Soft-argmax β", (1e-3, 1e4), help="temperature of the soft-argmax (paper 001 Eq. 2); "
        "at β = 1 the expectation collapses towards the map centre"))
    heatmap_pretrain_epochs: int = field(default=1, metadata=hint(
        "Heatmap pre-training", (0, 1000), "epochs",
        help="heatmap-lifter only: epochs of heatmap MSE before end-to-end training "
             "(paper 001 §4)"))
    eval_max_samples: int = field(default=2000, metadata=hint(
        "Evaluation samples", (0, 10**7),
        help="samples scored after each epoch (0 = all)"))
    log_every: int = field(default=10, metadata=hint("Log every", (1, 10**6), "steps"))
    val_fraction: float = field(default=0.1, metadata=hint(
        "Held-out fraction", (0.0, 0.9),
        help="share of samples (or of val_key groups) never trained on and scored each epoch "
             "as val_*; 0 = none. A dataset's own val/test split is used instead when present"))
    val_key: str = field(default="", metadata=hint(
        "Held-out groups by",
        help="metadata per-sample key (subject, sequence, video): whole groups are held out; "
             "empty = single samples"))

    def __post_init__(self) -> None:
        self.check_numbers()  # finite, within each hint's range (core.config)
        choice = {"student": STUDENTS, "preset": PRESETS, "backbone": BACKBONES,
                  "depth_loss": DEPTH_LOSSES, "lifter_target": LIFTER_TARGETS}
        for name, options in choice.items():
            if getattr(self, name) not in options:
                raise PoselabError(f"TrainConfig.{name} must be one of {options}, "
                                   f"got {getattr(self, name)!r}")
        positive = ("backbone_width", "input_size", "deconv_layers", "deconv_channels",
                    "heatmap_depth", "epochs", "batch_size", "log_every")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise PoselabError(f"TrainConfig.{name} must be ≥ 1, got {getattr(self, name)}")
        nonneg = ("l1_weight", "xy_weight", "heatmap_weight", "depth_weight",
                  "teacher3d_weight", "damping", "weight_decay",
                  "num_threads", "rotation_deg", "scale_range", "loss_alpha", "loss_beta",
                  "loss_gamma", "loss_delta", "heatmap_pretrain_epochs", "eval_max_samples",
                  "val_fraction")
        for name in nonneg:
            if getattr(self, name) < 0:
                raise PoselabError(f"TrainConfig.{name} must be ≥ 0, got {getattr(self, name)}")
        if not self.lr > 0:
            raise PoselabError(f"TrainConfig.lr must be > 0, got {self.lr}")
        if self.softargmax_beta <= 0:
            raise PoselabError("TrainConfig.softargmax_beta must be > 0")
        if self.input_size % 32:
            raise PoselabError(f"TrainConfig.input_size must be a multiple of 32 (the ResNet "
                               f"stride), got {self.input_size}")
        if self.scale_range >= 1:
            raise PoselabError("TrainConfig.scale_range must be < 1")
        if self.pretrained and self.backbone_width != 64:
            raise PoselabError("ImageNet weights exist only for backbone_width 64")
        if not 0 <= self.val_fraction < 1:
            raise PoselabError(f"TrainConfig.val_fraction must be in [0, 1), got "
                               f"{self.val_fraction}")
        if not isinstance(self.val_key, str):
            raise PoselabError("TrainConfig.val_key must be a metadata key name or ''")
        if not isinstance(self.device, str) or not self.device:
            raise PoselabError("TrainConfig.device must be a device name such as 'auto'")

    @classmethod
    def preset_defaults(cls, name: str) -> dict[str, Any]:
        """The field values preset ``name`` sets (``preset`` included).

        Raises:
            PoselabError: unknown preset.
        """
        if name not in PRESET_VALUES:
            raise PoselabError(f"unknown preset {name!r}; choose one of {PRESETS}")
        return {"preset": name, **PRESET_VALUES[name]}

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> TrainConfig:
        """A config with preset ``name``'s values, then ``overrides`` applied."""
        return cls(**{**cls.preset_defaults(name), **overrides})
