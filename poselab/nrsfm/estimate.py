"""How long a Deep NRSfM fit will take, before it starts (the GUI's Reconstruct dialog).

``steps × seconds per step + samples × seconds per sample``, measured on the 2-core development
CPU with one torch thread (2026-12-03, idle):

- a training step costs about ``14.5 ms + 0.028 ms × batch`` (classic sequences, 41 landmarks:
  batch 64 ≈ 16–17 ms, 128 ≈ 18–19 ms; h36m17_train35k, batch 256: 21.5 ms);
- steps: ``restarts × exploration + (steps − exploration)``, plus, for rigid bones,
  ``self_training × max(100, steps // 12)``; where the restarts train side by side
  (:mod:`poselab.nrsfm.concurrent`: CPU, ≥ 2 cores, one torch thread) their steps go 1.64×
  (two restarts) or 1.83× (three or more) as fast in all, and the run kept then trains on
  their cores when that is faster (:class:`poselab.nrsfm.concurrent.ThreadChooser`): on idle
  cores its steps go about 1.5× as fast (h36m17_train35k main fit, back to back on another
  day: 18.4–20.3 → 12.4–13.0 ms);
- the output steps (with the noise check before them) cost about 0.3 ms per sample, and each
  self-training round's new targets about 0.08 ms per sample (35k samples, measured alone on
  2026-12-05 after the least squares were solved along the skeleton's tree,
  :mod:`poselab.nrsfm.tree_solve`: output 7.7 s, a round's targets 2.6 s; before, 0.5 and
  0.27 ms).

h36m17_train35k with the defaults (8 self-training rounds since 2026-12-05): 3 × 1500
exploration steps side by side + 8500 at 1.5× → about 209 s; measured 169 s idle that day, on
which the same code with 4 rounds took 147 s and the code before the tree solve 180 s (its
estimate then 202 s). Earlier: before the run kept had the restarts' cores, estimated 249 s,
measured 244 s, 291 s one restart after the other;
pickup (357 samples) with the small-set schedule: 3 × 500 side by side + 1500 steps at 1.5× →
about 33 s (measured 40.5 s before, 21.8 s after on that faster day). Not counted: a
noisy set of more than 1500 samples is fitted twice (:mod:`poselab.nrsfm.relabel`; a shorter
noisy sequence is smoothed first and fitted once), so is a short sequence of many
landmarks (:mod:`poselab.nrsfm.code_choice`: one restart, beside the first on a CPU of two
or more cores when the labels look exact: pickup 48 s), and on a small set whose restarts
disagree as many again are explored from new seeds (stretch, yoga). A shared CPU
can be twice as slow. A GPU is no faster: the steps are too small to fill one (an H200 took
74 s where this CPU took 56 s, :mod:`poselab.nrsfm.device_choice`), so ``"auto"`` trains on
whichever measures faster and a fit named ``"cuda"`` takes about this long too.
"""

from __future__ import annotations

from poselab.nrsfm import concurrent

_STEP_S = 0.0145
_STEP_PER_SAMPLE_S = 0.000028
_OUTPUT_PER_SAMPLE_S = 0.0003
_ROUND_PER_SAMPLE_S = 0.00008
#: Restarts trained side by side on the 2 cores: total steps/s against one restart alone.
_SIDE_BY_SIDE = {2: 1.64, 3: 1.83}
#: The run kept after them, on their cores: its steps/s against one torch thread.
_ONE_RUN_ON_CORES = 1.5


def estimate_seconds(config, num_samples: int, rigid: bool) -> float:
    """Estimated wall time, seconds, of :func:`poselab.nrsfm.fit` with ``config``.

    Args:
        config: a :class:`poselab.nrsfm.NRSfMConfig`.
        num_samples: samples to fit (≥ 0).
        rigid: whether the bones are made rigid (then ``config.self_training`` rounds run;
            :func:`poselab.nrsfm.articulation.rigid_wanted`).

    Returns:
        seconds (float ≥ 0) on the CPU the costs were measured on.
    """
    n = max(int(num_samples), 0)
    batch = min(config.batch_size, max(n, 1))
    explore = config.exploration if config.restarts > 1 else config.steps
    exploring, alone = config.restarts * explore, 1.0
    if _side_by_side(config):  # poselab.nrsfm.concurrent
        exploring /= _SIDE_BY_SIDE.get(config.restarts, _SIDE_BY_SIDE[3])
        alone = _ONE_RUN_ON_CORES
    rounds = config.self_training if rigid else 0
    steps = exploring + (config.steps - explore + rounds * max(100, config.steps // 12)) / alone
    per_step = _STEP_S + _STEP_PER_SAMPLE_S * batch
    return steps * per_step + n * (_OUTPUT_PER_SAMPLE_S + rounds * _ROUND_PER_SAMPLE_S)


def _side_by_side(config) -> bool:
    """Whether the fit will train its restarts in threads (the rule of
    :func:`poselab.nrsfm.concurrent.restarts_in_parallel`; ``"auto"`` counted as the CPU)."""
    device = "cuda" if str(config.device).startswith("cuda") else "cpu"
    return concurrent.restarts_in_parallel(device, config.restarts, config.num_threads)


def describe_estimate(config, num_samples: int, rigid: bool) -> str:
    """One line for a dialog: ``"Estimated duration: about 4.9 min (35000 samples, CPU; …)"``."""
    s = estimate_seconds(config, num_samples, rigid)
    text = f"{s:.0f} s" if s < 90 else (f"{s / 60:.1f} min" if s < 5400 else f"{s / 3600:.1f} h")
    where = "CPU" if not str(config.device).startswith("cuda") else "measured on a CPU; a GPU " \
                                                                    "is no faster"
    return (f"Estimated duration: about {text} ({num_samples} samples, {where}; noisy labels "
            f"of a large set, or a short sequence of many landmarks, are fitted twice)")
