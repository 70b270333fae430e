"""Compute packages never load Qt (STYLE.md §1); core/io/metrics never load torch either.

Each check imports the packages in a fresh interpreter and lists the forbidden modules that
ended up in ``sys.modules``. A package that does not exist yet (no ``__init__.py``) is skipped;
once it exists, a leak fails the test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
QT_PREFIXES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "vispy", "superqt",
               "poselab.gui")
TORCH_PREFIXES = ("torch", "torchvision")

PROBE = """
import importlib, json, sys
for name in {packages!r}:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def loaded_modules(packages: list[str]) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE.format(packages=packages)],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def existing(package: str) -> bool:
    return (REPO / "poselab" / package / "__init__.py").is_file()


def forbidden(modules: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes)]


@pytest.mark.parametrize("package", ["core", "io", "metrics"])
def test_core_io_metrics_load_neither_qt_nor_torch(package):
    if not existing(package):
        pytest.skip(f"poselab.{package} does not exist yet")
    mods = loaded_modules([f"poselab.{package}"])
    assert f"poselab.{package}" in mods
    assert forbidden(mods, QT_PREFIXES) == []
    assert forbidden(mods, TORCH_PREFIXES) == []


@pytest.mark.parametrize("package", ["nrsfm", "distill", "synth"])
def test_compute_packages_load_no_qt(package):
    if not existing(package):
        pytest.skip(f"poselab.{package} does not exist yet")
    mods = loaded_modules([f"poselab.{package}"])
    assert forbidden(mods, QT_PREFIXES) == []


def test_probe_detects_a_leak():
    """The check itself can fail: importing pyqtgraph is seen as a Qt leak."""
    pytest.importorskip("pyqtgraph")
    mods = loaded_modules(["json"])
    assert forbidden(mods, QT_PREFIXES) == []
    assert forbidden(loaded_modules(["pyqtgraph"]), QT_PREFIXES) != []
