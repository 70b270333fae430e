"""Run poselab's long jobs (progress generators) in superqt workers (STYLE.md §2).

A job is any callable ``factory(cancel) -> Generator[Progress, Any, T]`` — e.g.
``lambda cancel: nrsfm.fit(collection, config, cancel=cancel)``. :class:`JobRunner` runs it in a
``superqt`` :class:`~superqt.utils.GeneratorWorker` on Qt's thread pool and re-emits what happens
as its own signals. Threading rules (PLATFORM.md):

- the worker's signals are connected to *bound methods of the runner*, a QObject living in the
  GUI thread, so the slots run in the GUI thread (PySide6 6.12 runs lambdas connected to a
  worker's signal in the worker thread);
- Cancel sets the job's :class:`~poselab.core.progress.CancelToken` (the job raises
  :class:`~poselab.core.errors.Cancelled` at its next check, writing nothing) *and* calls
  ``worker.quit()`` (superqt stops between two yields);
- ``torch.set_num_threads(n)`` is called inside the worker thread when the job asks for it.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from poselab.core.errors import Cancelled, PoselabError
from poselab.core.progress import CancelToken, Progress
from poselab.gui.qtcompat import pin_singletons

log = logging.getLogger(__name__)

pin_singletons()  # every Qt call from Python leaks: see poselab.gui.qtcompat

JobFactory = Callable[[CancelToken], Generator[Progress, Any, Any]]


def _job_body(factory: JobFactory, cancel: CancelToken, torch_threads: int | None):
    """The generator superqt runs in its thread: sets torch threads, then runs the job."""
    if torch_threads is not None:
        import torch

        torch.set_num_threads(torch_threads)
    result = yield from factory(cancel)
    return result


def _start_now(worker) -> None:
    """Queue a superqt worker on Qt's global thread pool now.

    ``WorkerBase.start()`` defers the start through ``QTimer.singleShot(1, functools.partial(
    ...))`` whenever an event loop runs; with PySide6 6.12 that deferred call was sometimes
    never made (the GUI tests saw a worker that never started, its pool idle). Every signal
    is connected before this call, so nothing is gained by deferring; this does what the
    deferred call would do.
    """
    from PySide6.QtCore import QThreadPool

    if worker in worker._worker_set:
        raise RuntimeError("this worker is already started")
    worker._worker_set.add(worker)
    worker._finished.connect(worker._set_discard)
    QThreadPool.globalInstance().start(worker)


class JobRunner(QObject):
    """One long job at a time, run in a worker thread, reported through Qt signals.

    Signals:
        started(str): the job's name, when it starts.
        progressed(object): every record the job yields (:class:`Progress` for poselab jobs).
        finished(object): the job's return value, when it completes.
        cancelled(): the user cancelled (token or ``worker.quit``) and the job stopped.
        failed(str): the job raised; the message is one line (details go to the log).
        stopped(): emitted last, whatever the outcome.
    """

    started = Signal(str)
    progressed = Signal(object)
    finished = Signal(object)
    cancelled = Signal()
    failed = Signal(str)
    stopped = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker = None
        self._cancel: CancelToken | None = None
        self._name = ""
        self._outcome_sent = False
        self._level = logging.INFO
        self.started_at = 0.0

    # ------------------------------------------------------------------ API
    @property
    def running(self) -> bool:
        """True while a job is running (until :attr:`stopped` is emitted)."""
        return self._worker is not None

    @property
    def name(self) -> str:
        return self._name

    def start(self, name: str, factory: JobFactory, torch_threads: int | None = None,
              quiet: bool = False) -> None:
        """Start ``factory(cancel)`` in a worker thread.

        Args:
            name: short job name for the log and status bar ("Reconstruct", "Train").
            factory: builds the progress generator given a :class:`CancelToken`.
            torch_threads: call ``torch.set_num_threads`` with this in the worker, or None.
            quiet: log start/finish at debug level (background chores such as thumbnails).

        Raises:
            RuntimeError: a job is already running.
        """
        from superqt.utils import create_worker

        if self._worker is not None:
            raise RuntimeError(f"{self._name} is still running")
        self._name = name
        self._cancel = CancelToken()
        self._outcome_sent = False
        self._level = logging.DEBUG if quiet else logging.INFO
        worker = create_worker(_job_body, factory, self._cancel, torch_threads,
                               _start_thread=False, _ignore_errors=True)
        worker.yielded.connect(self._on_worker_yielded)
        worker.returned.connect(self._on_worker_returned)
        worker.errored.connect(self._on_worker_errored)
        worker.aborted.connect(self._on_worker_aborted)
        worker.finished.connect(self._on_worker_finished)
        self._worker = worker
        self.started_at = time.perf_counter()
        log.log(self._level, "%s started", name)
        self.started.emit(name)
        _start_now(worker)

    def cancel(self) -> None:
        """Ask the running job to stop (cancel token and ``worker.quit``); no-op when idle."""
        if self._worker is None:
            return
        log.info("%s: cancel requested", self._name)
        if self._cancel is not None:
            self._cancel.cancel()
        self._worker.quit()

    # ------------------------------------------------------------------ slots (GUI thread)
    @Slot(object)
    def _on_worker_yielded(self, record: object) -> None:
        self.progressed.emit(record)

    @Slot(object)
    def _on_worker_returned(self, result: object) -> None:
        if self._cancel is not None and self._cancel.cancelled:
            self._send_cancelled()
            return
        self._outcome_sent = True
        log.log(self._level, "%s finished in %.1f s", self._name,
                time.perf_counter() - self.started_at)
        self.finished.emit(result)

    @Slot(object)
    def _on_worker_errored(self, exc: object) -> None:
        if isinstance(exc, Cancelled):
            self._send_cancelled()
            return
        self._outcome_sent = True
        if isinstance(exc, PoselabError):  # the user's data or request: one line, no trace
            log.error("%s failed: %s", self._name, exc)
        elif isinstance(exc, BaseException):
            detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            log.error("%s failed: %s\n%s", self._name, exc, detail)
        self.failed.emit(str(exc) or type(exc).__name__)

    @Slot()
    def _on_worker_aborted(self) -> None:
        self._send_cancelled()

    @Slot()
    def _on_worker_finished(self) -> None:
        worker, self._worker = self._worker, None
        if not self._outcome_sent:  # aborted between yields without a returned/errored signal
            self._send_cancelled()
        if worker is not None:
            # superqt left the generator suspended at a yield: close it so its finally-blocks run.
            gen = getattr(worker, "_gen", None)
            if gen is not None:
                try:
                    gen.close()
                except Exception:  # noqa: BLE001 - a job that fails while closing is logged
                    log.debug("closing %s raised", self._name, exc_info=True)
        self.stopped.emit()

    def _send_cancelled(self) -> None:
        if self._outcome_sent:
            return
        self._outcome_sent = True
        log.log(self._level, "%s cancelled", self._name)
        self.cancelled.emit()
