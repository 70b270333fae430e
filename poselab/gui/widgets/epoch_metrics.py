"""Per-epoch metrics of a training run, sorted into training samples and held-out samples.

The engine (``poselab.distill``) reports each epoch's scores of
:func:`poselab.distill.evaluation.student_metrics` twice: on samples the optimiser saw
(``train_`` prefix) and on the held-out split it never saw (``val_`` prefix), with the sample
counts ``train_count`` / ``val_count``. Runs from before the split have unprefixed scores
(``student_mpjpe``, ``err2d_px``…), all measured on seen samples: they count as "train".
Other ``train_*`` keys of older runs are epoch means of the losses, not scores.
"""

from __future__ import annotations

import html
import math

TRAIN = "train (seen)"
HELD_OUT = "held-out"
#: Scores of student_metrics without the student_/teacher_ families.
SCORES = frozenset({"err2d_px", "teacher_agreement_px", "reprojection_cost", "distill_cost"})
SEPARATOR = " · "


def is_score(base: str) -> bool:
    """True for a name of :func:`poselab.distill.evaluation.student_metrics`' output."""
    return base in SCORES or base.startswith(("student_", "teacher_"))


def split_metric(name: str) -> tuple[str, str] | None:
    """``(split, score)`` of an epoch record's key — split :data:`TRAIN` or
    :data:`HELD_OUT` — or None for keys that are no score (losses, counts, bookkeeping)."""
    if name.startswith("val_"):
        base = name[4:]
        return (HELD_OUT, base) if is_score(base) else None
    if name.startswith("train_"):
        base = name[6:]
        return (TRAIN, base) if is_score(base) else None
    return (TRAIN, name) if is_score(name) else None


def curve_name(split: str, score: str) -> str:
    """The plot curve of ``score`` on ``split``, e.g. ``"student_mpjpe · held-out"``."""
    return f"{score}{SEPARATOR}{split}"


def is_held_out_curve(name: str) -> bool:
    """True for a curve made by :func:`curve_name` on the held-out split (drawn dashed)."""
    return name.endswith(SEPARATOR + HELD_OUT)


def curve_key(name: str) -> str:
    """The score of a curve (train and held-out curves of one score share a colour)."""
    return name.split(SEPARATOR)[0]


def counts_text(values: dict) -> str:
    """``"train (seen): 18 samples, held-out: 2 samples"`` from an epoch record, or ``""``."""
    parts = []
    for key, label in (("train_count", TRAIN), ("val_count", HELD_OUT)):
        n = values.get(key)
        if n is not None and math.isfinite(float(n)):
            parts.append(f"{label}: {int(n)} samples")
    return ", ".join(parts)


def split_scores(values: dict) -> dict[str, dict[str, float]]:
    """score → {split → value} of one epoch's record (finite numbers only)."""
    out: dict[str, dict[str, float]] = {}
    for name, v in values.items():
        sm = split_metric(name)
        try:
            v = float(v)
        except (TypeError, ValueError):
            continue
        if sm is not None and math.isfinite(v):
            out.setdefault(sm[1], {})[sm[0]] = v
    return out


_LABELS = {"mpjpe": "MPJPE", "pa_mpjpe": "PA-MPJPE", "depth_error": "depth error",
           "err2d_px": "2D error [px]", "teacher_agreement_px": "teacher agreement [px]",
           "reprojection_cost": "reprojection cost", "distill_cost": "distilling cost"}


def score_label(score: str) -> str:
    """A column header for a score: ``"student MPJPE"``, ``"2D error [px]"``."""
    for family in ("student_", "teacher_"):
        if score.startswith(family):
            base = score.removeprefix(family)
            return f"{family[:-1]} {_LABELS.get(base, base)}"
    return _LABELS.get(score, score)


def split_table_html(values: dict) -> str:
    """An HTML table of one epoch's scores: a row per split, a column per score."""
    scores = split_scores(values)
    if not scores:
        return ""
    cols = sorted(scores)
    head = "".join(f"<th>{html.escape(score_label(c))}</th>" for c in cols)
    counts = {TRAIN: values.get("train_count"), HELD_OUT: values.get("val_count")}
    rows = []
    for split in (TRAIN, HELD_OUT):
        if not any(split in scores[c] for c in cols):
            continue
        n = counts[split]
        label = f"{split} (n={int(n)})" if n is not None else split
        cells = "".join(f"<td align='right'>{_fmt(scores[c].get(split))}</td>" for c in cols)
        rows.append(f"<tr><td><b>{label}</b></td>{cells}</tr>")
    return ("<table cellspacing='0' cellpadding='3' border='1'>"
            f"<tr><th></th>{head}</tr>{''.join(rows)}</table>")


def _fmt(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v:.3g}" if abs(v) < 100 else f"{v:.1f}"
