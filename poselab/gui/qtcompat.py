"""Work-arounds for bugs of the installed Qt bindings, applied once when the GUI starts.

PySide6 6.12 on Python 3.11 returns the singletons without taking a reference: every method
returning ``void`` (``QPainter.setPen``, ``QObject.setObjectName``, …) lowers ``None``'s
reference count by one, and every ``SignalInstance.emit()`` lowers ``True``'s (measured: −1 per
call). Python < 3.12 does not make these constants immortal, so after enough calls — minutes
of plot repaints, or a few thousand progress signals — the interpreter aborts with ``Fatal
Python error: none_dealloc: deallocating None`` (or ``bool_dealloc``), and before that memory
near them may be corrupted. :func:`pin_singletons` detects the leak with two probes and, only
when it is there, adds 2**40 references to ``None``, ``True`` and ``False`` (what Python 3.12+
does for every built-in constant), which no session can use up.

:func:`collect_in_gui_thread`: Python's cyclic garbage collector runs in whichever thread happens
to allocate when a threshold is crossed; in a worker thread it can destroy Qt objects that belong
to the GUI thread, and the process dies (CI, 2026-12-03: ``Fatal Python error: Segmentation
fault`` in "Garbage-collecting" during a ``torch.load`` of a Predict 3D job run in a worker
thread). Automatic collection is therefore switched off and done by a timer in the GUI thread
(pyqtgraph's ``GarbageCollector``, same thresholds, once a second).
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

_PINNED = False
PROBES = 16
_COLLECTOR = None


def leaked_references(probes: int = PROBES) -> dict[str, int]:
    """References of ``None`` and ``True`` lost by ``probes`` void calls and signal emits."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        probed = Signal()

    probe = _Probe()
    before_none, before_true = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(probes):
        probe.setObjectName("probe")  # returns void
    lost_none = before_none - sys.getrefcount(None)
    before_true = sys.getrefcount(True)
    for _ in range(probes):
        probe.probed.emit()  # returns bool
    return {"None": lost_none, "True": before_true - sys.getrefcount(True)}


def pin_singletons() -> bool:
    """Make ``None``/``True``/``False`` effectively immortal when the bindings leak them.

    Returns:
        True when the work-around is in place (applied now or earlier).
    """
    global _PINNED
    if _PINNED:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    lost = leaked_references()
    if max(lost.values()) <= 0:
        return False
    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40
    _PINNED = True
    log.debug("Qt bindings leak references of singletons (%s per %d calls); pinned", lost, PROBES)
    return True


def collect_in_gui_thread() -> None:
    """Collect reference cycles only in the GUI thread (module docstring). Call from the GUI
    thread once a QApplication exists; idempotent (automatic collection is switched off again
    on every call, since a test harness may switch it back on between GUI tests)."""
    global _COLLECTOR
    import gc

    if _COLLECTOR is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _COLLECTOR = GarbageCollector(interval=1.0)
    gc.disable()
