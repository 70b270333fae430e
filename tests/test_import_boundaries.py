"""Layering (STYLE.md §1, DESIGN §6): the import-linter contracts in ``.importlinter`` hold,
and they would catch a violation.

``lint-imports`` sees every import statement, lazy ones included, so a compute module that
imports Qt inside a function is caught too. What import-linter cannot see is *when* a module
is loaded: core, io and metrics may import torch lazily (``resolve_device``) but must not load
it on import, which the last test checks in a fresh interpreter.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")
TORCH_PREFIXES = ("torch", "torchvision")

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed "
                                "(dev extra)")


def lint(root: Path) -> subprocess.CompletedProcess:
    """Run ``lint-imports`` on the ``poselab`` package found under ``root``."""
    return subprocess.run([str(LINT), "--config", str(root / ".importlinter"), "--no-cache"],
                          capture_output=True, text=True, cwd=root, timeout=120,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


def copy_tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "poselab", root / "poselab",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / ".importlinter", root / ".importlinter")
    return root


def test_contracts_are_kept():
    proc = lint(REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 kept, 0 broken" in proc.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("metrics/pose.py", "import PySide6.QtCore", "never imports Qt"),
    ("nrsfm/fit.py", "def _late():\n    import pyqtgraph\n", "never imports Qt"),
    ("distill/losses.py", "from poselab.gui import app", "never imports Qt"),
    ("core/skeleton.py", "import poselab.nrsfm", "Layers"),
])
def test_an_injected_violation_breaks_a_contract(tmp_path, module, line, contract):
    """The same contracts fail on a copy of the package with one bad import added."""
    root = copy_tree(tmp_path)
    target = root / "poselab" / module
    target.write_text(target.read_text() + "\n" + line + "\n")
    proc = lint(root)
    assert proc.returncode != 0
    broken = [ln for ln in proc.stdout.splitlines() if ln.endswith("BROKEN")]
    assert any(contract in ln for ln in broken), proc.stdout


PROBE = """
import importlib, json, sys
for name in {packages!r}:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("package", ["core", "io", "metrics"])
def test_core_io_metrics_do_not_load_torch(package):
    proc = subprocess.run([sys.executable, "-c", PROBE.format(packages=[f"poselab.{package}"])],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    mods = json.loads(proc.stdout.strip().splitlines()[-1])
    assert f"poselab.{package}" in mods
    assert [m for m in mods if m.split(".")[0] in TORCH_PREFIXES] == []
