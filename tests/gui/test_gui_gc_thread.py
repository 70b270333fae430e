"""Reference cycles are collected in the GUI thread only (poselab.gui.qtcompat): a collection
in a worker thread can destroy Qt objects there (CI segfault, 2026-12-03)."""

from __future__ import annotations

import gc
import threading


class _Cycle:
    """Records the thread that finalises it; refers to itself, so only the cyclic collector
    can free it."""

    def __init__(self, seen: list) -> None:
        self.me, self.seen = self, seen

    def __del__(self) -> None:
        self.seen.append(threading.current_thread().name)


def test_cycles_made_garbage_in_a_worker_are_collected_in_the_gui_thread(qtbot):
    from poselab.gui.app import create_app

    create_app()
    assert not gc.isenabled()
    seen: list[str] = []

    def work() -> None:
        _Cycle(seen)
        # far past the generation-0 threshold: automatic collection would run here
        junk = [[] for _ in range(20 * gc.get_threshold()[0])]
        for a in junk:
            a.append(a)
        del junk

    worker = threading.Thread(target=work, name="worker")
    worker.start()
    worker.join()
    assert seen == []  # nothing collected in the worker
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)  # the GUI thread's timer collects
    assert seen == [threading.main_thread().name]
