"""run_in_process: a progress generator run in a spawned child, streamed back, cancellable."""

from __future__ import annotations

import logging
import os
import time

import pytest

from poselab.core.errors import Cancelled, DataError, PoselabError
from poselab.core.process_job import JobProcessError, run_in_process
from poselab.core.progress import CancelToken, Progress, drain


# targets: module level, so the spawned child imports them by name
def counting(n, cancel=None, scale=1):
    logging.getLogger("poselab.test_child").info("child %d starts", os.getpid())
    for i in range(n):
        cancel.check()
        yield Progress("count", i + 1, n, {"pid": float(os.getpid())})
    return [scale * i for i in range(n)]


def forever(cancel=None):
    i = 0
    while True:
        cancel.check()
        i += 1
        yield Progress("spin", i, 0)
        time.sleep(0.01)


def bad_data(cancel=None):
    yield Progress("read", 0, 1)
    raise DataError("/data/poses.json", "landmark 3 of sample 7 is NaN")


def dies(cancel=None):
    yield Progress("about to die", 0, 1)
    os._exit(3)


def own_niceness(cancel=None):
    yield Progress("nice", 1, 1)
    return os.nice(0)


@pytest.mark.skipif(not hasattr(os, "nice"), reason="os.nice is POSIX only")
def test_niceness_lowers_only_the_childs_priority():
    parent = os.nice(0)
    assert drain(run_in_process(own_niceness, niceness=3)) == min(19, parent + 3)
    assert drain(run_in_process(own_niceness)) == parent
    assert os.nice(0) == parent


def test_records_result_and_logs_come_back_from_another_process(caplog):
    seen = []
    with caplog.at_level(logging.INFO, logger="poselab.test_child"):
        result = drain(run_in_process(counting, 4, scale=10), seen.append)
    assert result == [0, 10, 20, 30]
    assert [p.step for p in seen] == [1, 2, 3, 4]
    child_pid = int(seen[0].values["pid"])
    assert child_pid != os.getpid()
    assert f"child {child_pid} starts" in caplog.text


def test_cancel_stops_the_child_and_raises_cancelled():
    token = CancelToken()
    job = run_in_process(forever, cancel=token, name="spinner")
    assert next(job).step == 1
    token.cancel()
    t0 = time.perf_counter()
    with pytest.raises(Cancelled):
        for _ in job:
            pass
    assert time.perf_counter() - t0 < 5.0


def test_child_errors_keep_their_message():
    with pytest.raises(PoselabError, match=r"poses.json: landmark 3 of sample 7 is NaN"):
        drain(run_in_process(bad_data))
    with pytest.raises(JobProcessError, match="training process ended unexpectedly .exit code 3"):
        drain(run_in_process(dies, name="training"))
