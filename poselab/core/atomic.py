"""Atomic file writes: write a temporary file beside the target, then rename over it.

A crash or kill mid-write leaves either the old file or the new one, never a truncated file.
The temporary file is ``.<name>.<host>.<pid>.<random>.tmp``; a write whose process was killed
leaves it behind, and the next atomic write of the same target removes it (only temporaries
of processes that no longer run on this host, and never one this process is still writing).
After the rename the folder is fsynced too, so the new name survives a power loss.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

#: temporaries written by this process and not yet renamed or removed
_ACTIVE: set[str] = set()
_ACTIVE_LOCK = threading.Lock()
#: temporaries of the old naming (``.<name>.<random>.tmp``, no pid) count as stale after this
LEGACY_TMP_STALE_S = 3600.0


def _host_tag() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]


def _tmp_prefix(path: Path) -> str:
    return f".{path.name}."


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Remove the temporaries that earlier, killed atomic writes of ``path`` left behind.

    A temporary of this host whose process no longer runs is stale, as is an old-style one
    (no pid in its name) older than :data:`LEGACY_TMP_STALE_S`. Returns the removed paths.
    """
    from poselab.core.lock import pid_alive

    path = Path(path)
    prefix, host = _tmp_prefix(path), _host_tag()
    removed = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return removed
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        tmp = path.parent / name
        parts = name[len(prefix):-len(".tmp")].split(".")
        if len(parts) == 3 and parts[1].isdigit():
            pid = int(parts[1])
            with _ACTIVE_LOCK:
                mine_active = str(tmp) in _ACTIVE
            if parts[0] != host or mine_active or (pid != os.getpid() and pid_alive(pid)):
                continue
        elif len(parts) == 1:  # mkstemp name of earlier poselab versions
            try:
                if time.time() - tmp.stat().st_mtime < LEGACY_TMP_STALE_S:
                    continue
            except OSError:
                continue
        else:
            continue
        with contextlib.suppress(OSError):
            os.unlink(tmp)
            removed.append(tmp)
            log.info("removed %s, left by an interrupted write of %s", tmp.name, path.name)
    return removed


def fsync_folder(folder: str | Path) -> None:
    """fsync a folder so that a rename inside it is durable (no-op where unsupported)."""
    if sys.platform == "win32":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temporary file in ``path``'s folder; on success rename it to ``path``.

    Args:
        path: final file path; its folder is created if missing.
        mode: ``"w"`` (text) or ``"wb"`` (binary).

    On an exception inside the block the temporary file is removed and ``path`` is untouched.
    The file gets the permissions an ordinary ``open`` would give it (an existing file's mode
    is kept; a new file gets ``0o666`` minus the umask), not ``mkstemp``'s private ``0o600``.
    Stale temporaries of earlier killed writes of ``path`` are removed first
    (:func:`remove_stale_temporaries`); the folder is fsynced after the rename.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f"{_tmp_prefix(path)}{_host_tag()}.{os.getpid()}.",
                               suffix=".tmp", dir=path.parent)
    with _ACTIVE_LOCK:
        _ACTIVE.add(tmp)
    try:
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
        fsync_folder(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.discard(tmp)


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once at import (not from worker threads,
    # where a momentary umask of 0 would leak into files other threads create meanwhile)
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()


def _mode_for(path: Path) -> int:
    """Permission bits of ``path`` if it exists, else ``0o666`` minus the process umask."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_UMASK


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def atomic_savez(path: str | Path, **arrays) -> None:
    """``numpy.savez_compressed`` to ``path`` atomically (``path`` keeps its name exactly)."""
    import numpy as np

    with atomic_open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)
