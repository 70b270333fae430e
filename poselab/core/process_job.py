"""Run a progress generator in a child process and stream its records back.

Why: a job run in a thread of the GUI process shares the interpreter lock with the Qt event
loop. A training loop is thousands of small Python-level steps, each holding the lock for a
moment, so the event loop — and a spinning 3D view — stutters (scripts/bench_gui.py part 2).
:func:`run_in_process` moves the job into a ``spawn``-ed child process; the calling thread only
waits on a pipe, which releases the lock, and re-yields what the child reports.

Protocol (child → parent, over a one-way :func:`multiprocessing.Pipe`):
``("progress", Progress)``, ``("log", logger_name, level, message)``, and one final
``("result", value)``, ``("cancelled",)`` or ``("error", poselab_error, type_name, message,
traceback_text)``. Cancellation (parent → child) is a :class:`multiprocessing.Event` that the
child's :class:`~poselab.core.progress.CancelToken` reads, so the job stops at its next check
exactly as it would in a thread and writes nothing partial.

The target must be a module-level generator function (it is pickled by reference) taking
``cancel=`` as a keyword, and its arguments and result must pickle; it must not import Qt.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import traceback
from collections.abc import Callable, Generator
from typing import Any

from poselab.core.errors import Cancelled, PoselabError
from poselab.core.progress import CancelToken, Progress

log = logging.getLogger(__name__)

#: seconds the parent waits for a cancelled or abandoned child before terminating it
STOP_GRACE_S = 10.0


class JobProcessError(RuntimeError):
    """The child process failed with an error that is not a :class:`PoselabError`.

    The message is the child's one-line error; :attr:`child_traceback` holds its traceback.
    """

    def __init__(self, message: str, child_traceback: str = "") -> None:
        super().__init__(message)
        self.child_traceback = child_traceback


class _PipeLogHandler(logging.Handler):
    """Forwards the child's log records (INFO and above) to the parent's loggers."""

    def __init__(self, conn) -> None:
        super().__init__(logging.INFO)
        self._conn = conn

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._conn.send(("log", record.name, record.levelno, record.getMessage()))
        except Exception:  # noqa: BLE001 - the pipe is gone: the parent stopped listening
            pass


def _child_main(target: Callable, args: tuple, kwargs: dict, conn, stop_event,
                niceness: int = 0) -> None:
    """Entry point of the child: run ``target(*args, cancel=token, **kwargs)``, report back."""
    if niceness and hasattr(os, "nice"):
        os.nice(niceness)  # lower priority than the parent (POSIX only)
    token = CancelToken(stop_event)  # shared with the parent
    root = logging.getLogger()
    root.addHandler(_PipeLogHandler(conn))
    root.setLevel(logging.INFO)
    try:
        job = target(*args, cancel=token, **kwargs)
        while True:
            try:
                record = next(job)
            except StopIteration as done:
                conn.send(("result", done.value))
                break
            conn.send(("progress", record))
    except Cancelled:
        conn.send(("cancelled",))
    except BaseException as err:  # noqa: BLE001 - everything is reported to the parent
        conn.send(("error", isinstance(err, PoselabError), type(err).__name__, str(err),
                   traceback.format_exc()))
    finally:
        conn.close()


def run_in_process(target: Callable[..., Generator[Progress, Any, Any]], *args,
                   cancel: CancelToken | None = None, name: str = "job",
                   poll_s: float = 0.05, niceness: int = 0,
                   **kwargs) -> Generator[Progress, None, Any]:
    """Run ``target(*args, cancel=..., **kwargs)`` in a spawned process; a progress generator.

    Args:
        target: a module-level generator function yielding :class:`Progress` and returning a
            picklable result; it receives the child's cancel token as ``cancel=``.
        *args, **kwargs: picklable arguments of ``target``.
        cancel: the caller's token; when set, the child is told to stop at its next check.
        name: used in error messages ("training process ended unexpectedly").
        poll_s: how often the parent looks at ``cancel`` while waiting for the child.
        niceness: added to the child's scheduling niceness (``os.nice``; POSIX only, ignored
            elsewhere): a GUI gives its background jobs a lower priority so that the event loop
            and the 3D view get the CPU first when both want it.

    Yields:
        the child's :class:`Progress` records, in order. The child's log records are re-logged
        under the same logger names in this process.

    Returns:
        ``target``'s return value.

    Raises:
        Cancelled: ``cancel`` was set and the child stopped.
        PoselabError: the child raised a :class:`PoselabError` (same one-line message).
        JobProcessError: the child raised anything else, or died (e.g. killed, out of memory).
    """
    ctx = mp.get_context("spawn")  # fork would copy the GUI's threads and Qt/GL state
    recv_conn, send_conn = ctx.Pipe(duplex=False)
    stop_event = ctx.Event()
    proc = ctx.Process(target=_child_main,
                       args=(target, args, kwargs, send_conn, stop_event, niceness),
                       name=f"poselab-{name}", daemon=True)
    proc.start()
    send_conn.close()  # the child holds the only writing end: EOF when it exits
    try:
        while True:
            if cancel is not None and cancel.cancelled:
                stop_event.set()
            if not recv_conn.poll(poll_s):
                continue
            try:
                msg = recv_conn.recv()
            except EOFError:
                proc.join(1.0)
                raise JobProcessError(f"the {name} process ended unexpectedly (exit code "
                                         f"{proc.exitcode})") from None
            kind = msg[0]
            if kind == "progress":
                yield msg[1]
            elif kind == "log":
                logging.getLogger(msg[1]).log(msg[2], "%s", msg[3])
            elif kind == "result":
                return msg[1]
            elif kind == "cancelled":
                raise Cancelled("cancelled by the user")
            else:  # "error"
                _, is_poselab, type_name, message, tb = msg
                if is_poselab:
                    raise PoselabError(message)
                raise JobProcessError(f"{type_name}: {message}", tb)
    finally:
        stop_event.set()  # also when the consumer abandons this generator
        proc.join(STOP_GRACE_S)
        if proc.is_alive():
            log.warning("%s process did not stop in %.0f s; terminating it", name, STOP_GRACE_S)
            proc.terminate()
            proc.join(2.0)
        recv_conn.close()
