"""Progress records and cooperative cancellation for long jobs.

Long jobs (``poselab.nrsfm.fit``, ``poselab.distill.train``, thumbnail and render jobs) are
generators: they ``yield`` :class:`Progress` records and ``return`` their result. They check a
:class:`CancelToken` at every yield. The CLI drains them with :func:`drain`; the GUI runs the same
generator in a superqt ``GeneratorWorker`` (STYLE.md §2). Records hold plain floats and numpy
values only, never torch tensors, so they cross threads safely.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from poselab.core.errors import Cancelled

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    """One progress report of a long job.

    Attributes:
        stage: short machine-readable stage name, e.g. ``"fit"``, ``"epoch"``, ``"restart 2/4"``.
        step: steps done so far (>= 0).
        total: steps planned, or 0 when unknown.
        values: named scalars of this step (losses, metrics, ``samples_per_s``), plain floats.
        eta_s: estimated seconds left, or None when unknown.
        message: one human-readable line for logs and status bars.
        kind: ``"step"`` for per-step values, ``"epoch"`` for per-epoch metrics, ``"info"``.
    """

    stage: str
    step: int
    total: int = 0
    values: Mapping[str, float] = field(default_factory=dict)
    eta_s: float | None = None
    message: str = ""
    kind: str = "step"

    @property
    def fraction(self) -> float:
        """Fraction done in [0, 1], 0 when the total is unknown."""
        return min(1.0, self.step / self.total) if self.total > 0 else 0.0


class CancelToken:
    """A thread-safe cancel flag checked by long jobs at every yield.

    ``cancel()`` may be called from any thread; the job raises :class:`Cancelled` at its next
    check, before writing anything.

    Args:
        event: the flag to use, e.g. a :class:`multiprocessing.Event` shared with another
            process (:mod:`poselab.core.process_job`); default a new :class:`threading.Event`.
    """

    def __init__(self, event=None) -> None:
        self._event = threading.Event() if event is None else event

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if cancellation was requested."""
        if self._event.is_set():
            raise Cancelled("cancelled by the user")


class EtaClock:
    """Estimates seconds left from steps done, for :attr:`Progress.eta_s`."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.start = time.perf_counter()

    def eta(self, step: int) -> float | None:
        if step <= 0 or self.total <= 0:
            return None
        elapsed = time.perf_counter() - self.start
        return max(0.0, elapsed / step * (self.total - step))

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def drain(
    job: Generator[Progress, Any, T], on_progress: Callable[[Progress], None] | None = None
) -> T:
    """Run a progress generator to completion and return its result.

    Args:
        job: a generator yielding :class:`Progress` and returning a result.
        on_progress: called with every record (e.g. a CLI progress bar), or None.

    Returns:
        The generator's return value.
    """
    while True:
        try:
            record = next(job)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(record)


def continued(job: Generator[Progress, Any, T], offset: int) -> Generator[Progress, None, T]:
    """Run a progress generator whose steps continue ``offset`` steps already done (a second
    fit after a first): its records' ``step`` and ``total`` move on by ``offset``.

    Returns:
        ``job``'s return value.
    """
    from dataclasses import replace

    while True:
        try:
            p = next(job)
        except StopIteration as stop:
            return stop.value
        yield replace(p, step=p.step + offset, total=p.total + offset)
