"""NRSfMConfig: the settings of the Deep NRSfM teacher (DESIGN.md §4; STYLE.md §3).

The config only parametrises :func:`poselab.nrsfm.fit`; it implements nothing.

Sparsity weight, and why the paper's λ = 0.01 is not portable (CALIBRATION.md): the penalty's
meaning depends on how the dictionaries and the penalty are scaled. Here every dictionary atom
has unit norm (D1 atoms unit Frobenius norm as J×3 shapes, columns of D2..Dn unit Euclidean
norm), so ``‖φ_{l−1}‖₂ ≤ ‖φ_l‖₁`` and ``‖φ_l‖₁ / ‖S‖_F`` is a scale-free "effective number of
atoms" (1 for a single atom). The per-sample loss is

    ‖(Ŵ − W) ⊙ m‖_F / ‖W ⊙ m‖_F  +  λ · mean_l ‖φ_l‖₁ / ‖W ⊙ m‖_F

(paper 000 Eq. 4 with both terms divided by the observed 2D norm), i.e. λ prices one extra unit
of relative code mass in units of relative 2D error. It does not depend on pixel units, J,
the number of missing landmarks or the dictionary sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from poselab.core.config import ConfigBase, hint
from poselab.core.errors import PoselabError

CAMERA_MODELS = ("auto", "weak_perspective", "perspective")
#: Sets of at most this many samples get the quick schedule of :meth:`NRSfMConfig.for_samples`.
SMALL_SET = 1500
#: That schedule: steps and batch size (instead of 6000 and 256).
SMALL_SET_STEPS, SMALL_SET_BATCH = 2000, 128
#: Sets with at least this share of their landmarks unlabelled get at least
#: :data:`HIDDEN_RESTARTS` restarts and :data:`HIDDEN_SELF_TRAINING` self-training rounds
#: from :meth:`NRSfMConfig.for_samples`.
HIDDEN_SHARE, HIDDEN_RESTARTS, HIDDEN_SELF_TRAINING = 0.1, 5, 12
BONE_LENGTHS = ("auto", "rigid", "free")
LABEL_OUTLIERS = ("report", "set_aside", "off")
LABEL_SWAPS = ("correct", "report", "off")


@dataclass(frozen=True)
class NRSfMConfig(ConfigBase):
    """Settings of the Deep NRSfM teacher.

    Attributes:
        dict_sizes: atoms per layer K1..Kn, largest first (paper 000 §5.1: 256-128-64-32-16-8).
        sparsity: λ of the normalised loss above (dimensionless). Not a lever under label
            noise: on h36m17_train35k S1/S5/S6 (5000 samples, σ = 5 px, 3000-step networks)
            λ = 0.001 / 0.003 / 0.01 / 0.03 gave output MPJPE 82.3 / 81.0 / 81.9 / 82.6 mm.
        lr: Adam learning rate (cosine-decayed to ``lr * 0.02``).
        batch_size: samples per step.
        steps: optimisation steps of the selected run (including its exploration steps).
        restarts: independent initialisations; each trains ``explore_steps`` steps, one is
            chosen without ground truth (:mod:`poselab.nrsfm.selection`) and trained on.
        explore_steps: steps per restart before the choice (0 = ``steps // 4``).
        complete_hidden: when landmarks are unlabelled (sets of at least
            :data:`poselab.nrsfm.denoise.MIN_SAMPLES` samples), a predictor trained on the
            labelled ones fills them in for the encoder's input only
            (:mod:`poselab.nrsfm.completion`; about 40 s), when their held-out error is
            under half a body's radius. Chosen on h36m17_train35k S1/S5/S6 (5000 samples,
            30 % hidden, exact labels): output MPJPE 86.8 → 77.7 (seed 0), 92.7 → 79.8 mm
            (seed 10); reported on S7/S8: 80.4 → 63.0 (exact), 111.9 → 97.1 (σ = 5 px).
        impute_missing: when inputs are missing, run the encoder again with them filled by the
            first pass's reprojection (both passes are trained). Off by default: until
            2026-12-04 the second pass masked the filled-in landmarks out again, so it repeated
            the first at twice the cost; done as described, on h36m17_train35k S1/S5/S6 (5000
            samples, 30 % hidden) it gave output MPJPE 88.7 against 86.3 mm without it.
        symmetry: weight of the mirror-bone length term (:class:`poselab.nrsfm.train.BonePriors`).
        bone_consistency: weight of the bone-proportion term (same class; beyond paper 000,
            whose §2 lists fixed articulation among the classic NRSfM constraints); inactive
            for skeletons without bones. With 0.3, on h36m17_train35k the default fit went
            from 94.6 / 70.6 / 78.2 to 83.8 / 61.1 / 66.8 mm (MPJPE / PA-MPJPE / depth;
            3000-step runs: −8 mm on each metric for two seeds). But on cmu17_train (11k,
            3000 steps) it went from 82.3 / 59.5 / 72.3 to 88.5 / 67.4 / 78.8, and it hurts
            the classic marker sets (e3d_akhter drink 0.0216 → 0.0273, pickup 0.0280 →
            0.0356): experimental, off by default.
        camera_solver: ``"procrustes"``: each sample's camera is the orthogonal-Procrustes fit
            of the decoded shape to its 2D (the encoder's camera only steers the code);
            ``"encoder"``: the encoder's camera (paper 000, DESIGN §4).
        encoder: block thresholding of the encoder, ``"group"`` (block soft-thresholding) or
            ``"relu"`` (element-wise, as the prototype of CALIBRATION.md).
        agreement: when the chosen restart's median relative 3D distance to the other restarts
            exceeds this, the restarts disagree: the two largest dictionary layers are dropped
            and the restarts explored again (at most until 4 layers remain).
        landmark_dropout: fraction of observed landmarks hidden from the encoder at random
            during training (the loss still uses them), so it learns to infer missing inputs.
            Off by default: measured on h36m17_train35k S1/S5/S6 (5000 samples, defaults)
            with 30 % of landmarks hidden, 0 / 0.1 / 0.2 / 0.4 gave output MPJPE 111.5 /
            107.1 / 102.5 / 113.5 mm, but another seed without dropout gave 91.8 (the
            restart chosen varies more than the setting gains); with every landmark observed
            0.2 cost 42.3 → 45.7, and on the synthetic low-rank sets of the tests with 30 %
            missing (quick schedule) 0.05 → 0.13 and 0.04 → 0.17 (e3d_frame). Re-checked
            once the restart lottery was mended (session 24, tuning split S1/S5/S6, 22040
            samples, 30 % hidden, exact, seed 0, the same restart kept): 0 → 0.2 gave
            73.4 / 57.6 / 59.1 → 82.7 / 63.7 / 67.2 mm.
        selection: how a restart is chosen without ground truth (:mod:`poselab.nrsfm.selection`):
            ``"objective"`` (lowest training objective, 2D error plus sparsity, after the
            reflection repair; with missing landmarks plus the held-out error, and on large
            sets of bodies plus the bones' variation and the label noise each restart's
            shapes imply) or ``"consensus"`` (medoid of the restarts).
        reflection_repair: after training, give every sample the depth sign (chirality) of
            the set and fine-tune the network towards it (:mod:`poselab.nrsfm.reflection`);
            under the perspective camera only when over 5 % of the samples are mirrored
            (:data:`poselab.nrsfm.fit.PERSPECTIVE_MIRRORED`).
        exact_2d: after the fit, move every observed landmark along its ray, at the teacher's
            depth, onto its observed 2D (:func:`poselab.nrsfm.articulation.on_rays`), so
            ``keypoints_3d`` reprojects exactly onto the labels (h36m17_train35k: MPJPE 96.0 →
            84.8 mm); False keeps the teacher's own projection.
        noise_aware: with ``exact_2d``: the output joints are fitted by least squares — the
            2D labels weighted by their noise level (estimated from the data alone), the
            network's shape as a prior, rigid bones when rigid
            (:mod:`poselab.nrsfm.noise_aware`) — and self-training weights its targets by
            their confidence; False: exactly through the labels (issue 15).
        smooth_sequences: with ``noise_aware``: when the label noise is told from the
            network's error and the samples are frames of a sequence, labels and network
            shapes are smoothed along it by the Gaussian width of least estimated risk (SURE,
            :mod:`poselab.nrsfm.temporal`) before the output step; exact labels and samples in
            no order choose no smoothing (h36m17_train35k, cmu17_train at σ = 0 and 5 px).
            Sequences of at most :data:`SMALL_SET` samples are smoothed before the fit when
            their order alone says so, and fitted once (:mod:`poselab.nrsfm.relabel`).
        denoise_labels: with ``noise_aware``: when the labels are noisy, the bones rigid and
            the samples not a sequence worth smoothing, each label is averaged with its
            prediction from the sample's other landmarks (Noise2Self;
            :mod:`poselab.nrsfm.denoise`) and the whole fit runs again on them (about twice
            the time, for such sets only; :mod:`poselab.nrsfm.relabel`). Not for sets with
            :data:`HIDDEN_SHARE` or more of their landmarks unlabelled (it did not pay there).
        code_choice: sequences of at most :data:`SMALL_SET` samples with many landmarks (32
            or more): a second fit without the last dictionary layer (a 16-atom code), kept
            when its depth moves more smoothly along the frames
            (:mod:`poselab.nrsfm.code_choice`; one restart, in a thread beside the first
            on a CPU of two or more cores when the labels look exact, else after it, about
            1.5× the time; for such sets only; not when the first fit found the labels
            noisy and fitted again on cleaned ones).
        low_rank: the output of sequences of at most :data:`SMALL_SET` samples whose bones
            are not made rigid (weak perspective, 17 or more landmarks) has its depth refined
            so that the aligned shapes have low rank around their mean, the labels' x, y held
            (:mod:`poselab.nrsfm.low_rank`; under a second for such sets).
        label_outliers: with ``noise_aware``, on sets of more than :data:`SMALL_SET`
            samples: landmarks whose first-fit reprojection and blind-spot prediction both
            lie far off look like gross errors (:mod:`poselab.nrsfm.outliers`; the check
            costs ~1 s on clean labels, ~50 s more when the residuals have a tail).
            They are listed in ``extra["label_outliers"]`` (the GUI's "Suspect labels");
            ``"set_aside"`` (default): also treated as unlabelled in a second fit (about
            twice the time, for such sets only; the rest is denoised when its noise,
            estimated without the far-out landmarks, calls for it);
            ``"report"``: only listed; ``"off"``: no check.
        label_swaps: for skeletons with left/right pairs: samples whose left and right
            labels look swapped for some limbs, told by how much better the network fits
            them swapped (:mod:`poselab.nrsfm.swaps`; about 7 s on 39k samples). They are
            listed in ``extra["label_swaps"]`` (among the GUI's "Suspect labels");
            ``"correct"`` (default): their output 3D is that of the labels with the swap
            applied; ``"report"``: only listed; ``"off"``: no check.
        bone_lengths: ``"rigid"``: after the fit, each sample's joints are moved along their
            rays so its bones follow the set's proportions, estimated from the teacher without
            3D, keeping the teacher's front/back order of every bone
            (:mod:`poselab.nrsfm.articulation`; h36m17_train35k 84.8 / 64.2 / 81.2 →
            56.8 / 44.7 / 55.0 mm, cmu17_train 78.5 / 56.9 / 72.1 → 76.7 / 58.2 / 70.7);
            ``"free"``: the teacher's depths; ``"auto"``: rigid for the human-body skeletons
            (h36m17, coco17, lsp14, mpii16), free for the rest (faces, marker sets and custom
            skeletons, whose edges need not be rigid).
        self_training: rounds, when the bones are rigid, in which the network is fine-tuned
            (``max(100, steps // 12)`` steps at a third of the learning rate) towards its own
            rigid-bone 3D, which is then computed again — the bone constraint spreads through
            the network's shared shape model (GT-free; figures in the ``fit`` module
            docstring). At equal cost, 4 rounds of 500 steps beat 2 of 1000 (h36m17 3000-step
            fit: 40.8 against 42.9 mm MPJPE; 30 % hidden, default fit: 92.2 against 93.6);
            8 rounds of 500 beat 4 (and 8 of 250) on every split tried (``fit`` module
            docstring), for about 20 s more on 35k samples.
        camera_model: ``"auto"`` = perspective when the collection has intrinsics, else weak
            perspective; or force ``"weak_perspective"`` / ``"perspective"``.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        seed: random seed (restart r uses ``seed + r``).
        num_threads: torch CPU threads (1 on a shared 2-core machine; 0 = leave torch's).
        log_every: steps between progress records.
    """

    dict_sizes: tuple[int, ...] = field(
        default=(256, 128, 64, 32, 16, 8),
        metadata=hint("Dictionary sizes", None, "atoms",
                      help="Atoms per layer, largest first (paper 000: 256-128-64-32-16-8)"))
    sparsity: float = field(
        default=3e-3, metadata=hint("Sparsity weight λ", (0.0, 1.0), "",
                                    help="Code L1 per unit of relative 2D error (normalised; "
                                         "not the paper's 0.01 scale)"))
    lr: float = field(default=3e-3, metadata=hint("Learning rate", (1e-6, 1.0), "",
                                                    typical=(1e-5, 0.05)))
    batch_size: int = field(default=256, metadata=hint("Batch size", (2, 65536), "samples"))
    steps: int = field(default=6000, metadata=hint("Steps", (1, 10**7), "steps",
                                                      typical=(1, 200_000)))
    restarts: int = field(default=3, metadata=hint(
        "Restarts", (1, 64), "", help="Random initialisations; one is picked without 3D",
        typical=(1, 16)))
    explore_steps: int = field(default=0, metadata=hint(
        "Steps per restart", (0, 10**7), "steps", help="0 = a quarter of the steps"))
    agreement: float = field(default=0.08, metadata=hint(
        "Restart agreement", (0.0, 10.0), "", help="If the most-agreed restart still differs "
        "from the others by more than this (relative 3D), explore as many again from new "
        "seeds (sets of at most 1500 samples)"))
    landmark_dropout: float = field(default=0.0, metadata=hint(
        "Landmark dropout", (0.0, 0.9), "", help="Observed landmarks hidden from the encoder "
                                                "while training"))
    complete_hidden: bool = field(default=True, metadata=hint(
        "Complete hidden landmarks", None, "", help="Show the encoder each unlabelled "
        "landmark predicted from the sample's labelled ones (never used as a label)"))
    impute_missing: bool = field(default=False, metadata=hint(
        "Impute missing inputs", None, "", help="Second encoder pass with missing landmarks "
                                                "filled by the first pass's reprojection"))
    symmetry: float = field(default=0.0, metadata=hint(
        "Bone symmetry weight", (0.0, 100.0), "", help="Left and right bones equally long "
                                                      "(needs left/right pairs)",
        typical=(0.0, 10.0)))
    bone_consistency: float = field(default=0.0, metadata=hint(
        "Bone proportion weight", (0.0, 100.0), "", help="Bone proportions constant over the "
        "set (needs bones). Experimental: 0.3 lowered MPJPE by 11 mm on h36m17 but raised it "
        "by 6 mm on cmu17 and hurt marker sets", typical=(0.0, 10.0)))
    camera_solver: str = field(default="encoder", metadata=hint(
        "Camera solver", None, "", choices=("procrustes", "encoder"),
        help="procrustes: camera fitted to the decoded shape; encoder: the paper's camera "
             "estimate"))
    encoder: str = field(default="group", metadata=hint(
        "Block thresholding", None, "", choices=("group", "relu"),
        help="group: block soft-thresholding (rotation-equivariant); relu: element-wise"))
    selection: str = field(default="objective", metadata=hint(
        "Restart selection", None, "", choices=("objective", "consensus"),
        help="objective: lowest 2D error plus sparsity; consensus: the restart the others "
             "agree with most"))
    reflection_repair: bool = field(default=True, metadata=hint(
        "Reflection repair", None, "", help="Give every sample the set's depth sign "
                                            "(chirality) after training"))
    exact_2d: bool = field(default=True, metadata=hint(
        "3D through the 2D labels", None, "", help="Move each landmark along its ray, at the "
        "teacher's depth, onto its observed 2D"))
    noise_aware: bool = field(default=True, metadata=hint(
        "Noise-aware output", None, "", help="Fit each sample's joints by least squares with "
        "the 2D label noise estimated from the data, instead of exactly through the labels"))
    smooth_sequences: bool = field(default=True, metadata=hint(
        "Smooth noisy sequences", None, "",
        help="When the samples are frames of a sequence with noisy labels, smooth the labels "
             "and the network's shapes along it before the noise-aware output (the width of "
             "least estimated risk; none for exact labels or unordered samples)"))
    denoise_labels: bool = field(default=True, metadata=hint(
        "Denoise noisy labels", None, "",
        help="When the labels of samples in no order are noisy (rigid bones), average each "
             "with its prediction from the sample's other landmarks and fit again"))
    code_choice: bool = field(default=True, metadata=hint(
        "Compare code sizes", None, "",
        help="For short sequences of many landmarks: fit again with a 16-atom code and keep "
             "the fit whose depth moves more smoothly along the frames"))
    low_rank: bool = field(default=True, metadata=hint(
        "Low-rank polish", None, "",
        help="For short sequences without rigid bones (weak perspective): refine the output's "
             "depth so that the aligned shapes span few dimensions, labels held"))
    label_outliers: str = field(default="set_aside", metadata=hint(
        "Gross label errors", None, "", choices=LABEL_OUTLIERS,
        help="Labels far from where the network and the sample's other landmarks put them "
             "(a click on the wrong limb), listed as Suspect labels: set_aside treats them as "
             "unlabelled and fits again; report only lists them; off skips the check"))
    label_swaps: str = field(default="correct", metadata=hint(
        "Left/right swaps", None, "", choices=LABEL_SWAPS,
        help="Samples whose left and right labels look swapped for some limbs, listed as "
             "Suspect labels: correct gives them the 3D of the swapped labels; report only "
             "lists them; off skips the check"))
    bone_lengths: str = field(default="auto", metadata=hint(
        "Bone lengths", None, "", choices=BONE_LENGTHS,
        help="rigid: bones keep the set's proportions (articulated bodies); free: the "
             "teacher's depths; auto: rigid for human-body skeletons, free otherwise"))
    self_training: int = field(default=8, metadata=hint(
        "Rigid-bone self-training", (0, 20), "rounds", help="With rigid bones: fine-tune the "
        "network towards its own rigid-bone 3D this many times"))
    camera_model: str = field(default="auto", metadata=hint(
        "Camera model", None, "", choices=CAMERA_MODELS,
        help="auto: perspective when intrinsics are known, else weak perspective"))
    device: str = field(default="auto", metadata=hint("Device", None, "",
                                                      choices=("auto", "cpu", "cuda")))
    seed: int = field(default=0, metadata=hint("Seed", (0, 2**31 - 1), ""))
    num_threads: int = field(default=1, metadata=hint("CPU threads", (0, 256), "threads"))
    log_every: int = field(default=50, metadata=hint("Log every", (1, 10**6), "steps"))

    def __post_init__(self) -> None:
        self.check_numbers()  # finite, within each hint's range (core.config)
        sizes = tuple(int(k) for k in self.dict_sizes)
        object.__setattr__(self, "dict_sizes", sizes)
        if not sizes or any(not 1 <= k <= 65536 for k in sizes):
            raise PoselabError(f"NRSfMConfig: dict_sizes must be in 1 … 65536, got {sizes}")
        if self.camera_solver not in ("procrustes", "encoder"):
            raise PoselabError(f"NRSfMConfig: camera_solver must be 'procrustes' or 'encoder', "
                               f"got {self.camera_solver!r}")
        if self.encoder not in ("group", "relu"):
            raise PoselabError(f"NRSfMConfig: encoder must be 'group' or 'relu', got "
                               f"{self.encoder!r}")
        if self.selection not in ("objective", "consensus"):
            raise PoselabError(f"NRSfMConfig: selection must be 'objective' or 'consensus', "
                               f"got {self.selection!r}")
        if self.camera_model not in CAMERA_MODELS:
            raise PoselabError(f"NRSfMConfig: camera_model must be one of {CAMERA_MODELS}, "
                               f"got {self.camera_model!r}")
        if self.bone_lengths not in BONE_LENGTHS:
            raise PoselabError(f"NRSfMConfig: bone_lengths must be one of {BONE_LENGTHS}, "
                               f"got {self.bone_lengths!r}")
        if self.label_swaps not in LABEL_SWAPS:
            raise PoselabError(f"NRSfMConfig: label_swaps must be one of {LABEL_SWAPS}, "
                               f"got {self.label_swaps!r}")
        if self.label_outliers not in LABEL_OUTLIERS:
            raise PoselabError(f"NRSfMConfig: label_outliers must be one of {LABEL_OUTLIERS}, "
                               f"got {self.label_outliers!r}")
        for name, lo in (("steps", 1), ("restarts", 1), ("batch_size", 2), ("log_every", 1)):
            if int(getattr(self, name)) < lo:
                raise PoselabError(f"NRSfMConfig: {name} must be ≥ {lo}")
        if self.explore_steps < 0 or self.num_threads < 0 or self.self_training < 0:
            raise PoselabError("NRSfMConfig: explore_steps, num_threads and self_training "
                               "must be ≥ 0")
        if not (self.sparsity >= 0 and self.lr > 0):
            raise PoselabError("NRSfMConfig: sparsity must be ≥ 0 and lr > 0")
        if not 0 <= self.landmark_dropout < 1:
            raise PoselabError("NRSfMConfig: landmark_dropout must be in [0, 1)")

    @classmethod
    def for_samples(cls, num_samples: int, missing: float = 0.0, **changes) -> NRSfMConfig:
        """The recommended settings for a set of ``num_samples`` samples of which a share
        ``missing`` of the landmarks is unlabelled (what the GUI's form and ``poselab
        reconstruct`` start from; the dataclass defaults are for large, labelled sets).

        At least :data:`HIDDEN_SHARE` of the landmarks missing: at least :data:`HIDDEN_RESTARTS`
        restarts, since which restart lands in a good minimum varies most there and the choice
        (objective and held-out error, :mod:`poselab.nrsfm.selection`) then has more to choose from.
        Chosen on h36m17_train35k S1/S5/S6 (5000 samples, 30 % hidden, defaults otherwise): seed 0
        88.1 / 69.0 / 72.1 mm with 3 or 5 restarts (the same restart kept), seed 10 106.9 / 75.6 /
        82.8 → 92.6 / 72.2 / 75.3; reported in docs/measurements.md (S7/S8). Exploring two more
        restarts costs about 8 % more time. And at least :data:`HIDDEN_SELF_TRAINING` self-training
        rounds (instead of 8): chosen on the same split (output 73.4 / 58.3 / 59.6 → 72.4 / 57.6 /
        58.8 mm; without the widened prior of :mod:`poselab.nrsfm.noise_aware` 75.0 → 74.1),
        reported on S7/S8 (12960 samples): 59.9 / 47.6 / 48.9 → 59.5 / 47.0 / 48.6, network 80.8 →
        78.1; cmu17_train 68.4 / 58.3 / 61.0 → 67.3 / 57.0 / 60.1 (2026-12-05, session 19;
        docs/measurements.md), about 15 % more time.

        At most :data:`SMALL_SET` samples (a lab's few hundred labelled frames; the bundled
        demo's 2000 keep the defaults): a third of the steps at batch 128 — the default
        schedule visits each sample thousands of times there, and on this 2-core CPU it took
        240–430 s for a 300-frame sequence. Chosen on the classic sequences drink and pickup
        (e3d_akhter, exact 2D, defaults → this schedule: drink 0.0155 → 0.0255 in 60 s,
        pickup 0.0263 → 0.0390 in 61 s; BMM 0.0266 / 0.1731), reported on stretch and yoga:
        0.0589 → 0.0429 in 62 s, 0.0453 → 0.0469 in 60 s (BMM 0.1034 / 0.1150; times with
        other benchmarks sharing the CPU). Since the run kept may use both cores these take
        22–28 s; spending that on 3000 / 4000 steps gave drink 0.0227 / 0.0217 and pickup
        0.0356 / 0.0287 (chosen on), but stretch 0.0353 / 0.0335 (68.5 s at 4000: over a
        minute) and yoga 0.0557 / 0.0515 (reported): mixed, not adopted (2026-12-03).
        ``changes`` override fields.
        """
        base = cls()
        if num_samples <= SMALL_SET:
            base = base.replace(steps=SMALL_SET_STEPS, batch_size=SMALL_SET_BATCH)
        if missing >= HIDDEN_SHARE:
            base = base.replace(restarts=max(base.restarts, HIDDEN_RESTARTS),
                                self_training=max(base.self_training, HIDDEN_SELF_TRAINING))
        return base.replace(**changes) if changes else base

    @property
    def exploration(self) -> int:
        """Steps each restart trains before the selection (≤ steps)."""
        e = self.explore_steps or max(1, self.steps // 4)
        return min(e, self.steps)
