"""``poselab gui [PATH]`` (also plain ``poselab`` / ``poselab PATH``): open the desktop app."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "gui", help="open the desktop app (default command)",
        description="Open the poselab window on PATH (a folder of images with annotations, or "
                    "an annotation file); with no PATH, on the bundled demo collection.")
    p.add_argument("path", nargs="?", help="folder or annotation file to open")
    p.add_argument("--no-demo", action="store_true", help="start with an empty window")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from poselab.gui.app import guard_triton

    guard_triton()  # before anything can import torch (PLATFORM.md: triton + Mesa)
    from poselab.gui.app import run as run_app

    return run_app(args.path, demo=not args.no_demo)
