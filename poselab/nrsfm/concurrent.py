"""Train the restarts of a Deep NRSfM fit side by side, one thread each (CPU only).

A training step is a few hundred small torch operations; each releases Python's interpreter
lock while it computes, so independent restarts trained in threads share the cores. On the
2-core development CPU with one torch thread per operation (h36m17_train35k, batch 256,
2026-12-03): one restart 53.6 steps/s, two in threads 87.7 steps/s in all (1.64×), three 96.1
(1.8×); the default 35k fit went from 291 to 244 s (idle), with the same 3D. The result is the
same as training them one after the other: each restart has its own model,
optimiser and batch generator, created in order before the threads start, and its operations
run on one thread, so every restart sees exactly the numbers it would see alone
(``tests/nrsfm/test_concurrent_restarts.py``).

After the restarts, the one run kept trains alone: its training steps may then use their
cores as torch threads, when timing shows that this is faster (:class:`ThreadChooser`); the
rest of the fit (inference, refinement, label cleaning) runs on the fit's own thread count, and
the fit gives torch its thread count back when it ends.

Used only where it cannot oversubscribe the CPU (:func:`restarts_in_parallel`): with more torch
threads per operation, threads compete for the same cores (PLATFORM.md measured runs 30×
slower), and on a GPU the steps are queued on one device anyway.

A whole second fit can also run beside the first (:class:`Beside`; the code choice of
:mod:`poselab.nrsfm.code_choice`): both on one torch thread, the first's run kept not given
more, so neither changes the thread count under the other.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Generator, Iterator

import numpy as np

from poselab.core.progress import CancelToken

#: Seconds between progress reports while the restarts train.
POLL_S = 0.25


def usable_cpus() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one, e.g. a
    container limited to 2 of the host's cores; else ``os.cpu_count()``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def restarts_in_parallel(device: str, restarts: int, torch_threads: int | None = None) -> bool:
    """Whether :func:`train_together` should train ``restarts`` restarts on ``device``:
    CPU, at least two usable cores, one torch thread per operation, more than one restart.
    ``torch_threads``: the threads the fit will use (None: torch's setting now; the GUI's
    duration estimate passes ``NRSfMConfig.num_threads`` without importing torch)."""
    if torch_threads is None:
        import torch

        torch_threads = torch.get_num_threads()
    return (restarts > 1 and str(device) == "cpu" and torch_threads == 1
            and usable_cpus() >= 2)


def threads_for_one(restarts: int, torch_threads: int) -> int:
    """Most torch threads for the one run trained after ``restarts`` restarts trained side by
    side with ``torch_threads`` each: the cores they used."""
    return max(1, min(restarts, usable_cpus()) * torch_threads)


def threads_change_nothing(run, data, most: int) -> bool:
    """Whether a gradient of ``run`` (:meth:`poselab.nrsfm.train.Run.gradient`) is bitwise
    the same on one and on ``most`` torch threads: the premise of :class:`ThreadChooser`,
    checked once per fit (the cost of two steps) because it rests on how this machine's torch
    splits its operations."""
    import torch

    before = torch.get_num_threads()
    grads = []
    try:
        for n in (1, most):
            torch.set_num_threads(n)
            grads.append(run.gradient(data))
    finally:
        torch.set_num_threads(before)
    return all((a is None and b is None) or (a is not None and b is not None
                                             and torch.equal(a, b))
               for a, b in zip(*grads, strict=True))


#: :class:`ThreadChooser`: steps timed on each thread count, and steps between two trials.
PROBE_STEPS, PROBE_PERIOD = 20, 500


class ThreadChooser:
    """Torch threads for one run's steps, the faster of 1 and ``most``, chosen by timing.

    More threads split each operation, which pays on idle cores (h36m17_train35k, batch 256,
    2026-12-03: 12.3 → 9.9 ms per step on 2 threads) but not beside other work: with one busy
    process on the 2-core CPU, 2 threads took 29.8 ms against 12.6 on one (their OpenMP
    workers wait for each other; PLATFORM.md saw 30×). So every :data:`PROBE_PERIOD` steps,
    :data:`PROBE_STEPS` steps run on each count and the rest of the period on the faster.
    The count does not change the numbers: elementwise operations and these matrix products
    split over threads without changing a result (300 steps on 1 and on 2 threads gave
    bitwise equal weights; ``tests/nrsfm/test_concurrent_restarts.py``). A fit checks that on
    its machine first (:func:`threads_change_nothing`) and otherwise keeps one thread, so its
    result never depends on timing.

    Use: ``n = chooser.threads()`` before a step (set it with ``torch.set_num_threads`` when
    it changed), ``chooser.took(seconds)`` after it.
    """

    def __init__(self, most: int, probe: int = PROBE_STEPS, period: int = PROBE_PERIOD) -> None:
        self.most, self.probe, self.period = int(most), int(probe), max(int(period), 2 * probe)
        self.choice, self.step = self.most, 0
        self._time = {1: 0.0, self.most: 0.0}

    def threads(self) -> int:
        """Torch threads for the next step."""
        k = self.step % self.period
        if k < 2 * self.probe and self.most > 1:
            return 1 if k < self.probe else self.most
        return self.choice

    def took(self, seconds: float) -> None:
        """Record the wall time of the step just taken (the first of each trial, which starts
        the threads, is not counted)."""
        k = self.step % self.period
        self.step += 1
        if self.most <= 1 or k >= 2 * self.probe:
            return
        if k % self.probe:
            self._time[1 if k < self.probe else self.most] += seconds
        if k == 2 * self.probe - 1:  # both trials done: keep the faster
            self.choice = self.most if self._time[self.most] < self._time[1] else 1
            self._time = {1: 0.0, self.most: 0.0}


class Diverged(FloatingPointError):
    """A restart's loss was not finite (the caller names the data)."""


def train_together(runs: list, n_steps: int, data, stop_requested=None
                   ) -> Iterator[tuple[int, list[int], dict | None]]:
    """Train every run ``n_steps`` steps (:meth:`poselab.nrsfm.train.Run.train_step`), one
    thread each.

    Args:
        runs: :class:`poselab.nrsfm.train.Run` objects (independent models).
        n_steps: steps per run.
        data: the :class:`poselab.nrsfm.train.Batches` they share (read only).
        stop_requested: optional callable, checked by each thread before every step; when it
            returns True the threads stop (the caller's cancel token).

    Yields:
        about every :data:`POLL_S` seconds and once at the end: ``(steps done over all runs,
        steps done per run, the last step's values of the run furthest behind)``. The caller
        may raise (e.g. ``Cancelled``) at a yield: the threads are then stopped and joined.

    Raises:
        Diverged: a run's loss was not finite (the other runs are stopped).
        Exception: whatever a run's step raised.
    """
    counts = [0] * len(runs)
    last: list[dict | None] = [None] * len(runs)
    errors: list[BaseException] = []
    halt, wake = threading.Event(), threading.Event()
    left = [len(runs)]
    lock = threading.Lock()

    def work(i: int, run) -> None:
        try:
            for _ in range(n_steps):
                if halt.is_set() or (stop_requested is not None and stop_requested()):
                    return
                vals = run.train_step(data)
                if not np.isfinite(vals["loss"]):
                    raise Diverged(f"restart {i + 1}: loss {vals['loss']}")
                last[i], counts[i] = vals, counts[i] + 1
        except BaseException as exc:  # noqa: BLE001 -- handed to the caller's thread
            errors.append(exc)
            halt.set()
        finally:
            with lock:
                left[0] -= 1
                if left[0] == 0 or errors:
                    wake.set()

    threads = [threading.Thread(target=work, args=(i, run), daemon=True,
                                name=f"nrsfm-restart-{i + 1}") for i, run in enumerate(runs)]
    try:
        for t in threads:
            t.start()
        while not wake.wait(POLL_S):
            slow = int(np.argmin(counts))
            yield sum(counts), list(counts), last[slow]
        if errors:
            raise errors[0]
        yield sum(counts), list(counts), last[int(np.argmin(counts))]
    finally:
        halt.set()
        for t in threads:
            t.join()


class Beside:
    """A progress generator (a whole fit) drained in a thread beside the caller's work.

    Both must run on one torch thread per operation and must not change torch's thread count
    (:func:`poselab.nrsfm.code_choice.beside` checks the settings; the first fit's run kept
    then gets no more threads); torch's global random state is only read under
    :data:`poselab.nrsfm.train.SEEDING`, so the job's numbers are the ones it would compute
    alone.

    Args:
        make: ``make(cancel)`` → the generator, given this object's own cancel token.
    """

    def __init__(self, make: Callable[..., Generator]) -> None:
        self.cancel = CancelToken()
        self._make, self._thread, self._done = make, None, threading.Event()
        self._last = self._value = self._error = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is not None:
            return

        def work() -> None:
            try:
                job = self._make(self.cancel)
                while True:
                    try:
                        self._last = next(job)
                    except StopIteration as stop:
                        self._value = stop.value
                        return
            except BaseException as exc:  # noqa: BLE001 -- raised again by wait()
                self._error = exc
            finally:
                self._done.set()

        self._thread = threading.Thread(target=work, daemon=True, name="nrsfm-beside")
        self._thread.start()

    def wait(self, cancel) -> Generator:
        """Start if not started, then yield the job's latest progress record about every
        :data:`POLL_S` seconds until it ends; return its value.

        Raises:
            Cancelled: ``cancel`` (the caller's token) was set (the job is stopped first).
            Exception: whatever the job raised.
        """
        self.start()
        shown = None
        while not self._done.wait(POLL_S):
            if cancel is not None and cancel.cancelled:
                self.stop()
                cancel.check()
            if self._last is not None and self._last is not shown:
                shown = self._last
                yield shown
        if self._last is not None and self._last is not shown:
            yield self._last
        if self._error is not None:
            raise self._error
        return self._value

    def stop(self) -> None:
        """Cancel the job and join its thread (it stops at its next step)."""
        self.cancel.cancel()
        if self._thread is not None:
            self._thread.join()
