"""The job functions the main window's long jobs run (:mod:`poselab.gui.jobs` starts them): each
returns, or is, a progress generator for a :class:`~poselab.gui.workers.JobRunner` (STYLE.md
§2). Reconstruct and Train run in a child process or in the worker thread
(:data:`JOBS_IN_PROCESS`); the compute lives in ``poselab.nrsfm``, ``poselab.distill``,
``poselab.metrics`` and ``poselab.synth``.
"""

from __future__ import annotations

from pathlib import Path

from poselab.gui.widgets.metrics_panel import compute_metrics

#: Run Reconstruct and Train in a child process (True) or in a worker thread of the GUI process
#: (False). In a thread their many small Python-level steps hold the interpreter lock and the
#: event loop and the 3D view stutter (issue 6, scripts/bench_gui.py part 2). Read at run time
#: from this module (set it here: ``job_functions.JOBS_IN_PROCESS = False``).
JOBS_IN_PROCESS = True
#: Niceness added to those child processes: on a machine with few cores the window and the 3D
#: view get the CPU first; the job takes whatever they leave (bench_gui.py part 2).
JOB_NICENESS = 5


def reconstruct_job(collection, config, out_path: Path):
    """Fit and save the teacher (:func:`poselab.nrsfm.fit_job.fit_and_save`) in a child process
    (see :data:`JOBS_IN_PROCESS`)."""
    def factory(cancel):
        from poselab.core.lock import output_lock
        from poselab.core.process_job import run_in_process
        from poselab.nrsfm.fit_job import fit_and_save

        with output_lock(out_path):  # a second writer fails: "another poselab job is writing"
            if not JOBS_IN_PROCESS:
                return (yield from fit_and_save(collection, config, out_path, cancel=cancel))
            return (yield from run_in_process(fit_and_save, collection, config, out_path,
                                              cancel=cancel, name="reconstruction",
                                              niceness=JOB_NICENESS))

    return factory


def train_job(collection, teacher, config, out_dir: Path, resume: Path | None, pred_path: Path):
    """Train then predict (:func:`poselab.distill.train_predict.train_and_predict`) in a child
    process: training in a thread of this process would hold the interpreter lock between its
    many small steps and make the event loop and the 3D view stutter (issue 6, bench_gui.py)."""
    def factory(cancel):
        from poselab.core.lock import output_lock
        from poselab.core.process_job import run_in_process
        from poselab.distill.train_predict import train_and_predict

        args = (collection, teacher, config, out_dir, resume, pred_path)
        with output_lock(out_dir, pred_path):
            if not JOBS_IN_PROCESS:
                return (yield from train_and_predict(*args, cancel=cancel))
            return (yield from run_in_process(train_and_predict, *args, cancel=cancel,
                                              name="training", niceness=JOB_NICENESS))

    return factory


def metrics_job(collection, sources, units, teacher=None, known=None):
    """Compute the metrics panel's result in the worker thread, without progress (arguments:
    :func:`poselab.gui.widgets.metrics_panel.compute_metrics`)."""
    def factory(cancel):
        result = compute_metrics(collection, sources, units, teacher=teacher, known=known)
        return result
        yield  # a generator with no progress

    return factory


def warm_up_job(cancel):
    """Import torch/torchvision and build an optimizer once, in the background, so that the
    first Reconstruct/Train does not stall the GUI while torch loads (PLATFORM.md)."""
    import torch

    torch.set_num_threads(1)
    import torchvision  # noqa: F401 - loads torchvision's operators once

    param = torch.zeros(4, requires_grad=True)
    torch.optim.Adam([param], lr=1e-3).step()
    return torch.__version__
    yield  # a generator without progress


def demo_job(cancel):
    """Build the bundled demo collection if needed (:func:`poselab.synth.demo.ensure_demo`)
    and return its folder."""
    from poselab.synth.demo import ensure_demo

    folder = yield from ensure_demo(cancel=cancel)
    return folder


__all__ = ["JOBS_IN_PROCESS", "JOB_NICENESS", "demo_job", "metrics_job", "reconstruct_job",
           "train_job", "warm_up_job"]
