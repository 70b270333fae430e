"""Smoke run of scripts/bench_lifter.py (STYLE.md §6: every script is smoke-run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_lifter_smoke(shared_data) -> None:
    data = shared_data / "mocap17" / "h36m17_train35k.npz"
    r = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench_lifter.py"), "--data", str(data),
         "--train", "300", "--heldout", "100", "--epochs", "1", "--teacher-steps", "20"],
        capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    for row in ("flat (input 2D, depth 0)", "Deep NRSfM teacher", "L_encoder",
                "+ skip-connection", "weak: teacher3d", "weak: distill"):
        assert row in r.stdout
    flat = next(line for line in r.stdout.splitlines() if line.startswith("flat"))
    assert 120 < float(flat.split("|")[1].split()[0]) < 180  # ≈ README's 149.6 mm
