"""The metrics panel's numbers (poselab.metrics.report.app_report): rows without 3D left out,
units stated, the teacher's ~0 output reprojection not shown, mm with a known length."""

from __future__ import annotations

import numpy as np

from poselab.core import PoseCollection, get_skeleton
from poselab.core.metric_scale import KnownLength
from poselab.metrics.report import app_report


def test_report_skips_rows_without_3d_and_states_units():
    sk = get_skeleton("lsp14")
    rng = np.random.default_rng(0)
    kp = rng.uniform(0, 200, (5, 14, 2)).astype(np.float32)
    c = PoseCollection(sk, kp, np.full((5, 14), 2, np.uint8))
    teacher = np.concatenate([kp, rng.normal(0, 10, (5, 14, 1))], -1)
    student = teacher + rng.normal(0, 2, teacher.shape)
    teacher[2] = np.nan  # sample 3 was excluded when the teacher was fitted
    r = app_report(c, {"teacher": teacher, "student": student},
                   {"teacher": "px", "student": "px"})
    assert r["family"] == "reprojection" and "teacher" not in r["set"]
    per = r["per_sample"]["student"]
    assert np.isnan(per["disagreement_pct"][2]) and np.isfinite(np.delete(per["disagreement_pct"],
                                                                           2)).all()
    assert r["score_units"] == {"reprojection_px": "px", "disagreement_pct": "% of bone length"}
    assert r["mm_per_unit"] is None
    # a known length: the scale of each sample (NaN where the teacher has no 3D)
    r = app_report(c, {"teacher": teacher}, {"teacher": "px"},
                   known=KnownLength(300.0, ("right_shoulder", "left_shoulder")))
    s = r["mm_per_unit"]
    assert np.isnan(s[2]) and np.isfinite(np.delete(s, 2)).all()
    assert r["known"] == "right_shoulder–left_shoulder = 300 mm"
