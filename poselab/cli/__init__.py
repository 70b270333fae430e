"""The ``poselab`` command: subcommands for every job the GUI runs (SLEAP-style, STYLE.md §3).

``poselab`` with no subcommand (or a data path as its only argument) opens the desktop app.
Each subcommand lives in its own module ``poselab/cli/<name>.py`` exposing
``register(subparsers)``, which adds its parser and sets ``func(args) -> int``. Modules import
heavy packages (torch, Qt) inside ``func`` only, so ``poselab --help`` stays fast.
Errors a user can cause (:class:`poselab.core.PoselabError`) print one line, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from poselab import __version__
from poselab.core.errors import Cancelled, PoselabError

#: Subcommand modules, in help order.
COMMANDS = ("info", "nrsfm", "eval", "train", "predict", "export", "synth", "demo", "gui")


class OneLineParser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line (``poselab nrsfm: error: ...``), exit 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="poselab",
        description="2D landmarks → 3D poses: Deep NRSfM teacher and distilled students. "
                    "With no command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"poselab {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"poselab.cli.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"poselab.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``poselab`` console script. Returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # `poselab` or `poselab PATH` opens the GUI.
    known = set(COMMANDS) | {"-h", "--help", "--version"}
    if not argv or (argv[0] not in known and not argv[0].startswith("-")):
        argv = ["gui", *argv]
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except Cancelled:
        print("poselab: cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\nposelab: interrupted", file=sys.stderr)
        return 130
    except PoselabError as err:
        print(f"poselab: error: {err}", file=sys.stderr)
        return 2
