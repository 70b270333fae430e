"""Work-arounds for bugs of the installed Qt bindings, applied once when the GUI starts.

PySide6 6.12 on Python 3.11: every ``SignalInstance.emit()`` called from Python returns
``True`` without taking a reference, so each emit lowers ``True``'s reference count by one
(measured: −1 per emit, also unconnected). Python < 3.12 does not make ``True`` immortal, so
after a few thousand emits — a minute of thumbnails or a training run — the interpreter aborts
with ``Fatal Python error: bool_dealloc: deallocating True or False`` (before that, memory near
``True`` may be corrupted). :func:`pin_true` detects the leak with a probe signal and, only
when it is there, adds 2**40 references to ``True`` (what Python 3.12+ does for every
built-in constant), which no session can use up.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

_PINNED = False


def emit_leaks_true(probes: int = 16) -> int:
    """References of ``True`` lost by ``probes`` Python-side signal emits (0 when healthy)."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        probed = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(probes):
        probe.probed.emit()
    return before - sys.getrefcount(True)


def pin_true() -> bool:
    """Make ``True`` effectively immortal when the bindings leak it (see module doc).

    Returns:
        True when the work-around was applied (now or earlier).
    """
    global _PINNED
    if _PINNED:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    lost = emit_leaks_true()
    if lost <= 0:
        return False
    ctypes.c_ssize_t.from_address(id(True)).value += 1 << 40
    _PINNED = True
    log.debug("PySide6 signal emit leaks a reference of True per call (%d in %d); True pinned",
              lost, 16)
    return True
