"""Exclusive output locks: one poselab job writes a file or a run folder at a time.

A lock is a small file beside the target, ``.<name>.poselab-lock``, created with ``O_EXCL``
(atomic on local file systems) and holding the owner's pid, host and start time as JSON.
A second writer finds it and fails with ``another poselab job is writing <target>``. A lock
left by a process that no longer runs on this host (kill -9, power loss) is stale: the next
writer takes it over with a warning. Locks of other hosts are never taken over (their pids
mean nothing here); remove such a file by hand when its job is known to be gone.

Usage::

    with output_lock(out):        # raises OutputBusy when another job holds it
        ...write out...
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from poselab.core.errors import DataError

log = logging.getLogger(__name__)

LOCK_SUFFIX = ".poselab-lock"
#: seconds after which an empty or unreadable lock file (its writer died between creating and
#: filling it) counts as stale
EMPTY_LOCK_STALE_S = 10.0


class OutputBusy(DataError):
    """Another poselab job holds the lock of this output (message: ``another poselab job is
    writing <target> (...)``; ``path`` is the target)."""

    def __init__(self, target: str | Path, problem: str):
        super().__init__(None, problem)
        self.path = Path(target)


def lock_path(target: str | Path) -> Path:
    """The lock file of ``target``: ``.<name>.poselab-lock`` in the same folder."""
    target = Path(target)
    return target.parent / f".{target.name}{LOCK_SUFFIX}"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (True when that cannot be told)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill would terminate the process on Windows
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.get_last_error() == 5  # access denied: it exists
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read(path: Path) -> dict | None:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


class OutputLock:
    """The lock of one output file or run folder (see the module docstring).

    Args:
        target: the file or folder to be written; its parent folder is created if missing.
    """

    def __init__(self, target: str | Path):
        self.target = Path(target)
        self.path = lock_path(self.target)
        self.token = uuid.uuid4().hex
        self.held = False

    def acquire(self) -> OutputLock:
        """Take the lock.

        Raises:
            OutputBusy: a live process (or one on another host) holds it.
            DataError: the lock file cannot be created (folder not writable).
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "time": time.time(),
                "token": self.token, "target": str(self.target)}
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._take_over_if_stale()
                continue
            except OSError as err:
                raise DataError(self.target, f"cannot create lock file {self.path.name} "
                                             f"({err.strerror or err})") from None
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(info, fh)
            self.held = True
            return self
        raise OutputBusy(self.target, f"another poselab job is writing {self.target} "
                                      f"(lock {self.path})")

    def _take_over_if_stale(self) -> None:
        owner = _read(self.path)
        if owner is None:
            try:
                age = time.time() - self.path.stat().st_mtime
            except FileNotFoundError:
                return  # released meanwhile: try again
            if age < EMPTY_LOCK_STALE_S:
                raise OutputBusy(self.target, f"another poselab job is writing {self.target} "
                                              f"(lock {self.path} being created)")
            log.warning("removing the unreadable lock %s (%.0f s old)", self.path, age)
        else:
            pid, host = int(owner.get("pid", -1)), str(owner.get("host", ""))
            if host != socket.gethostname() or pid_alive(pid):
                where = f"pid {pid}" + (f" on {host}" if host != socket.gethostname() else "")
                raise OutputBusy(self.target, f"another poselab job is writing {self.target} "
                                              f"({where}; lock {self.path})")
            log.warning("taking over the stale lock %s of process %d, which no longer runs",
                        self.path, pid)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def release(self) -> None:
        """Remove the lock file if it is still this lock's (idempotent)."""
        if not self.held:
            return
        self.held = False
        owner = _read(self.path)
        if owner is not None and owner.get("token") == self.token:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


@contextlib.contextmanager
def output_lock(*targets: str | Path | None) -> Iterator[list[OutputLock]]:
    """Hold the locks of every non-None target for the block; released on exit or exception.

    Raises:
        OutputBusy: one of them is held by another job (none is kept then).
    """
    locks: list[OutputLock] = []
    try:
        unique = {Path(t).absolute(): Path(t) for t in targets if t is not None}
        for key in sorted(unique):
            locks.append(OutputLock(unique[key]).acquire())
        yield locks
    finally:
        for lk in reversed(locks):
            lk.release()
