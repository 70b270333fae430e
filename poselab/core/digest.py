"""Content hashes stored inside poselab's own files, checked when they are loaded.

A result (``nrsfm.npz``) or a student checkpoint carries the SHA-256 of its arrays; a file
whose bytes changed on disk (a bad copy, a flipped bit, a hand edit) no longer matches and is
reported instead of silently producing NaN poses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import numpy as np

from poselab.core.errors import DataError

#: key under which files store the digest
DIGEST_KEY = "content_sha256"


def content_digest(arrays: Mapping[str, np.ndarray] | Iterable[tuple[str, np.ndarray]]) -> str:
    """SHA-256 (hex) of named arrays: names, dtypes, shapes and bytes, in name order.

    Args:
        arrays: name → array (any dtype but object; strings are hashed as their unicode bytes).

    Returns:
        64 hex digits; equal for equal contents whatever the order the arrays came in.
    """
    items = arrays.items() if isinstance(arrays, Mapping) else arrays
    h = hashlib.sha256()
    for name, arr in sorted(items, key=lambda kv: kv[0]):
        a = np.ascontiguousarray(arr)
        if a.dtype == object:
            raise TypeError(f"cannot hash object array {name!r}")
        h.update(name.encode("utf-8"))
        h.update(f"|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def verify_digest(path, arrays, stored: str | None) -> bool:
    """Compare ``arrays``' digest with the ``stored`` one.

    Returns:
        False when nothing was stored (a file written before digests existed), True when it
        matches.

    Raises:
        DataError: the digest differs: the file is damaged (names ``path``).
    """
    if stored is None:
        return False
    if content_digest(arrays) != str(stored):
        raise DataError(path, "is damaged: its content no longer matches the hash stored when "
                              "it was written (restore or recompute it)")
    return True


def first_non_finite(arrays: Mapping[str, np.ndarray]) -> str | None:
    """Name of the first floating array (in name order) with a NaN or infinite value, or None."""
    for name in sorted(arrays):
        a = np.asarray(arrays[name])
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            return name
    return None


class VerifiedNpz:
    """The arrays of an ``.npz`` file, read at once and checked (see :func:`load_npz_verified`);
    used like ``numpy.load``'s NpzFile: ``files``, ``z[key]``, ``with z:``."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self._arrays = arrays
        self.files = list(arrays)

    def __getitem__(self, key: str) -> np.ndarray:
        return self._arrays[key]

    def __contains__(self, key: str) -> bool:
        return key in self._arrays

    def __enter__(self) -> VerifiedNpz:
        return self

    def __exit__(self, *exc) -> None:
        self._arrays = {}


def load_npz_verified(path, finite: Iterable[str] = ()) -> VerifiedNpz:
    """Read every array of an ``.npz`` (no pickle) and check it.

    Checks: the zip's CRCs (a damaged member is an error, not a traceback), the
    :data:`DIGEST_KEY` hash when the file stores one, and that the arrays named in ``finite``
    (when present) hold no NaN or infinity.

    Raises:
        ValueError: with a one-line reason (callers wrap it in their DataError naming the
            file): unreadable zip member, hash mismatch, non-finite values.
        OSError: the file cannot be opened.
    """
    import zipfile
    import zlib

    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, zlib.error, EOFError) as err:
        raise ValueError(f"damaged file ({err})") from None
    stored = arrays.pop(DIGEST_KEY, None)
    if stored is not None and content_digest(arrays) != str(stored):
        raise ValueError("damaged: its content no longer matches the hash stored when it was "
                         "written (restore or recompute it)")
    bad = first_non_finite({k: arrays[k] for k in finite if k in arrays})
    if bad is not None:
        raise ValueError(f"{bad} holds NaN or infinite values")
    return VerifiedNpz(arrays)
