"""Error types shared by the whole code base.

Every error a user can cause names the file (when there is one) and the problem in one line, so
the CLI prints it without a traceback and the GUI shows it in a dialog.
"""

from __future__ import annotations

from pathlib import Path


class PoselabError(Exception):
    """Base class of the errors poselab raises for bad input or bad requests."""


class DataError(PoselabError, ValueError):
    """Input data that cannot be used, with the file it came from.

    Args:
        path: the offending file or folder, or None when the data came from memory.
        problem: one sentence saying what is wrong, e.g. ``"landmark 3 of sample 7 is NaN"``.
    """

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path is not None else problem)


class Cancelled(PoselabError):
    """Raised inside a long job when its cancel token is set; nothing partial is written."""
