"""Shared fixtures: where ../shared/data lives, and a skip when it is absent."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("POSELAB_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or ``$POSELAB_SHARED_DATA``); skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (set POSELAB_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def dlc_machine_labels(tmp_path) -> Path:
    """A DeepLabCut machine-labels CSV (``tmp_path/machinelabels-iter0.csv``; images
    ``img0.png``, ``img1.png`` beside it, not written): two body parts, one prediction under
    DeepLabCut's default pcutoff 0.6 (the tail of img0, likelihood 0.3)."""
    f = tmp_path / "machinelabels-iter0.csv"
    f.write_text("scorer,net,net,net,net,net,net\n"
                 "bodyparts,nose,nose,nose,tail,tail,tail\n"
                 "coords,x,y,likelihood,x,y,likelihood\n"
                 "img0.png,10,20,0.95,30,40,0.3\n"
                 "img1.png,11,21,0.9,31,41,0.8\n")
    return f


@pytest.fixture(autouse=True)
def _automatic_gc_outside_gui_tests(request):
    """The GUI switches automatic garbage collection off (a timer collects in the GUI thread,
    poselab.gui.qtcompat); tests without a GUI get it back."""
    if "gui" not in request.node.path.parts and not gc.isenabled():
        gc.enable()


@pytest.fixture(autouse=True)
def _short_hidden_landmark_predictor(request, monkeypatch):
    """Every fit with unlabelled landmarks first trains the hidden-landmark predictor
    (poselab.nrsfm.completion, 3000 steps, about 30 s on the 2-core CPU). Outside its own
    tests, which measure it at its default, it trains 300 (a weaker predictor, which the fit
    uses only when its held-out error passes the same gate): the suite ran 855 → 683 s."""
    if request.node.path.name != "test_completion.py":
        monkeypatch.setattr("poselab.nrsfm.completion.STEPS", 300)
