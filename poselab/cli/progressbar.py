"""A text progress bar that drains a progress generator (the CLI side of STYLE.md §2)."""

from __future__ import annotations

import sys
import time
from collections.abc import Generator
from typing import Any, TextIO, TypeVar

from poselab.core.progress import Progress, drain

T = TypeVar("T")


def _fmt_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    m, s = divmod(int(seconds + 0.5), 60)
    return f"{m:02d}:{s:02d}" if m < 60 else f"{m // 60}h{m % 60:02d}"


def run_with_bar(job: Generator[Progress, Any, T], stream: TextIO | None = None,
                 width: int = 30, min_interval: float = 0.2) -> T:
    """Drain ``job`` printing ``[#####.....] 42% step 420/1000 loss=0.12 ETA 01:10``.

    Per-epoch records (``kind == "epoch"``) and info records get a line of their own.
    Returns the job's result.
    """
    stream = stream or sys.stderr
    last = [0.0]
    tty = stream.isatty()

    def show(p: Progress) -> None:
        now = time.perf_counter()
        if p.kind in ("epoch", "info"):
            vals = " ".join(f"{k}={v:.4g}" for k, v in p.values.items())
            stream.write(("\r" if tty else "") + f"{p.stage}: {p.message} {vals}".rstrip() + "\n")
            stream.flush()
            return
        if now - last[0] < min_interval and p.step < p.total:
            return
        last[0] = now
        filled = int(width * p.fraction)
        vals = " ".join(f"{k}={v:.4g}" for k, v in list(p.values.items())[:4])
        line = (f"[{'#' * filled}{'.' * (width - filled)}] {100 * p.fraction:3.0f}% "
                f"{p.stage} {p.step}/{p.total} {vals} ETA {_fmt_eta(p.eta_s)}")
        stream.write(("\r" + line) if tty else (line + "\n"))
        stream.flush()

    result = drain(job, show)
    if tty:
        stream.write("\n")
    return result
