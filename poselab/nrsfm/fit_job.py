"""Fit the teacher and save it next to the data: the GUI's "Reconstruct" job.

A module-level generator so that it can run in a child process
(:func:`poselab.core.process_job.run_in_process` pickles it by reference), keeping the NRSfM
optimiser's many small Python-level steps off the GUI process's interpreter lock.
"""

from __future__ import annotations

from pathlib import Path

from poselab.core.collection import PoseCollection
from poselab.core.progress import CancelToken


def fit_and_save(collection: PoseCollection, config, out_path: str | Path,
                 cancel: CancelToken | None = None):
    """:func:`poselab.nrsfm.fit`, then :meth:`NRSfMResult.save` to ``out_path`` (atomic).

    Args:
        collection: the 2D landmarks to reconstruct (N samples, J joints).
        config: :class:`poselab.nrsfm.NRSfMConfig`.
        out_path: the teacher file (``keypoints_3d`` (N, J, 3), camera frame, input units).
        cancel: checked at every step; nothing is written after a cancel.

    Yields:
        the fit's :class:`~poselab.core.progress.Progress` records.

    Returns:
        the :class:`~poselab.nrsfm.result.NRSfMResult`.

    Raises:
        Cancelled, DataError: as :func:`poselab.nrsfm.fit`.
    """
    from poselab.nrsfm.fit import fit

    cancel = cancel or CancelToken()
    result = yield from fit(collection, config, cancel=cancel)
    cancel.check()
    result.save(out_path)
    return result
