#!/usr/bin/env bash
# Install everything poselab needs on a fresh Debian machine (run as root), idempotently:
# system packages for Qt/OpenGL under Xvfb, a virtual environment in .venv, the package with
# its `dev` extra, and the triton/Mesa fix (../shared/PLATFORM.md "torch + Mesa in one process").
set -euo pipefail
cd "$(dirname "$0")/.."

SYS_PKGS="xvfb xauth libgl1 libegl1 libgl1-mesa-dri libglx-mesa0 libegl-mesa0 libfontconfig1
libfreetype6 fonts-dejavu-core libdbus-1-3 libglib2.0-0 libx11-xcb1 libxkbcommon0
libxkbcommon-x11-0 libxcb-cursor0 libxcb-glx0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
libxcb-randr0 libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-shm0 libxcb-sync1
libxcb-util1 libxcb-xfixes0 libxcb-xkb1"

missing=""
for p in $SYS_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing system packages:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends --no-upgrade $missing
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch/torchvision first so pip takes them from the machine's local wheel store.
.venv/bin/python -m pip install -q "torch==2.14.1" "torchvision==0.29.1"
.venv/bin/python -m pip install -q -e ".[dev]"
# triton ships its own LLVM, which collides with Mesa's when both are in one process
# (segfault). CPU torch/torchvision work without it; the app also blocks it at start-up
# (poselab/gui/app.py), so a reinstall that brings it back does not crash the GUI.
if .venv/bin/python -m pip show -q triton >/dev/null 2>&1; then
    echo "setup: removing triton (clashes with Mesa's LLVM)"
    .venv/bin/python -m pip uninstall -y -q triton
fi
echo "setup: done. Activate with: source .venv/bin/activate"
