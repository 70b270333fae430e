"""Progress generators (poselab.core.progress)."""

from __future__ import annotations

from poselab.core.progress import Progress, continued, drain


def test_a_job_continued_after_others_moves_its_steps_and_total_on():
    def job():
        yield Progress("fit", 1, 4, {"loss": 0.5}, None, "step 1")
        yield Progress("fit", 4, 4, {}, 2.0, "step 4", kind="info")
        return "done"

    records: list = []
    assert drain(continued(job(), 10), records.append) == "done"
    assert [(p.step, p.total, p.stage, p.kind) for p in records] == [
        (11, 14, "fit", "step"), (14, 14, "fit", "info")]
    assert records[0].values == {"loss": 0.5} and records[1].eta_s == 2.0
