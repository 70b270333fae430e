"""The training steps of one fit, with its progress bar, cancellation and thread choice.

:func:`poselab.nrsfm.fit.fit` trains restarts (one after another, or side by side in threads:
:mod:`poselab.nrsfm.concurrent`), then the run it keeps, then fine-tunes it (reflection
repair, self-training). Every phase advances one progress bar whose length grows as phases
are decided (a second round of restarts, the label cleaning, self-training rounds), is
cancelled at every step, and fails with the same message when the loss is no longer finite.
:class:`Stepper` holds that state so the fit only says which phase comes next.

Threads: after restarts side by side the run kept may train on their cores, as many torch
threads as :class:`poselab.nrsfm.concurrent.ThreadChooser` finds faster (``chooser``); only the
training steps do, since only they were checked to give the same numbers on more threads.
Everything after a phase (inference, the output step, label cleaning, a second fit) runs on the
fit's own thread count, so timing can never change a result.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from pathlib import Path

import numpy as np

from poselab.core.errors import DataError
from poselab.core.progress import CancelToken, EtaClock, Progress


def set_threads(n: int) -> None:
    """torch's thread count, changed only when it differs (numbers do not depend on it:
    :class:`poselab.nrsfm.concurrent.ThreadChooser`)."""
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


class Stepper:
    """Runs training steps of :class:`poselab.nrsfm.train.Run` for one fit.

    Args:
        config: the fit's NRSfMConfig (``log_every``, ``batch_size``, ``restarts``).
        data: the fit's :class:`poselab.nrsfm.train.Batches`; ``samples``: how many (N).
        clock: the fit's EtaClock; ``clock.total`` is the bar's length (steps).
        done: steps already on the bar (e.g. the hidden-landmark completion's).
        cancel: checked before every step (raises :class:`poselab.core.Cancelled`).
        source: the collection's file, named by the error when training diverges.
        own_threads: the fit's torch thread count outside training steps.

    Attributes:
        done: steps done so far. history: ``step``, ``loss``, ``reproj``, ``sparsity`` lists of
        the logged steps of recorded phases. chooser: a ThreadChooser once the kept run may
        use more threads, else None.
    """

    def __init__(self, config, data, samples: int, clock: EtaClock, done: int,
                 cancel: CancelToken, source: Path | None, own_threads: int) -> None:
        self.config, self.data, self.clock, self.done = config, data, clock, done
        self.cancel, self.source, self.own_threads = cancel, source, own_threads
        self.batch = min(config.batch_size, samples)
        self.history: dict[str, list] = {"step": [], "loss": [], "reproj": [], "sparsity": []}
        self.chooser = None

    @property
    def total(self) -> int:
        """The bar's length, steps."""
        return self.clock.total

    def grow(self, steps: int) -> None:
        """Lengthen (or, negative, shorten) the bar by ``steps``."""
        self.clock.total += steps

    def progress(self, stage: str, values: dict, message: str, kind: str = "step") -> Progress:
        """A progress record at the current step."""
        return Progress(stage, self.done, self.total, values, self.clock.eta(self.done),
                        message, kind=kind)

    def diverged(self) -> DataError:
        """The error raised when the loss is no longer finite."""
        return DataError(self.source, "NRSfM training diverged (loss is not finite); "
                                      "try a lower learning rate")

    def steps(self, run, n_steps: int, stage: str, record: bool, step_args: dict | None = None
              ) -> Generator[Progress, None, None]:
        """Train ``run`` ``n_steps`` steps (``step_args`` to its ``train_step``), yielding
        progress every ``config.log_every`` steps; ``record``: keep them in ``history``.

        Raises:
            DataError: the loss is not finite. Cancelled: when cancelled.
        """
        cancel, chooser = self.cancel, self.chooser
        t0, s0 = time.perf_counter(), run.step
        for _ in range(n_steps):
            cancel.check()
            if chooser is not None:
                set_threads(chooser.threads())
            t = time.perf_counter()
            vals = run.train_step(self.data, **(step_args or {}))
            if chooser is not None:
                chooser.took(time.perf_counter() - t)
            self.done += 1
            if not np.isfinite(vals["loss"]):
                raise self.diverged()
            if run.step % self.config.log_every == 0 or run.step == n_steps + s0:
                rate = (run.step - s0) * self.batch / max(1e-9, time.perf_counter() - t0)
                vals = {**vals, "samples_per_s": rate}
                if record:
                    for k in ("loss", "reproj", "sparsity"):
                        self.history[k].append(vals[k])
                    self.history["step"].append(run.step)
                cancel.check()
                yield self.progress(stage, vals, f"step {run.step} loss {vals['loss']:.4f}")
        if chooser is not None:  # the rest runs on the fit's own count (module docstring)
            set_threads(self.own_threads)

    def explore_together(self, runs, n_steps: int) -> Generator[Progress, None, None]:
        """Train ``runs`` ``n_steps`` each, side by side in threads
        (:func:`poselab.nrsfm.concurrent.train_together`; the same numbers as one by one)."""
        from poselab.nrsfm.concurrent import Diverged, train_together

        t0, base, every = time.perf_counter(), self.done, self.config.log_every * len(runs)
        shown = 0
        job = train_together(runs, n_steps, self.data, lambda: self.cancel.cancelled)
        try:
            for count, per_run, vals in job:
                self.done = base + count
                self.cancel.check()
                if vals is None or (count - shown < every and count < n_steps * len(runs)):
                    continue
                shown = count
                rate = count * self.batch / max(1e-9, time.perf_counter() - t0)
                yield self.progress(f"restarts 1-{len(runs)}", {**vals, "samples_per_s": rate},
                                    f"{len(runs)} restarts side by side: step {min(per_run)}/"
                                    f"{n_steps} loss {vals['loss']:.4f}")
        except Diverged:
            raise self.diverged() from None
        finally:
            job.close()  # whatever ends this loop, the threads stop and are joined now
        self.cancel.check()

    def explore(self, runs, n_steps: int, side_by_side: bool) -> Generator[Progress, None, None]:
        """Train each restart ``n_steps``: side by side, or one after another (stage
        ``"restart r/R"``, or ``"fit"`` and recorded when there is one restart)."""
        R = self.config.restarts
        if side_by_side and n_steps:
            yield from self.explore_together(runs, n_steps)
        elif not side_by_side:
            for r, run in enumerate(runs):
                yield from self.steps(run, n_steps, f"restart {r + 1}/{len(runs)}" if R > 1
                                      else "fit", R == 1)
