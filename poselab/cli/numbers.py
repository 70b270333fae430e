"""argparse types for the command-line numbers that are not config fields (those are checked
by the configs' ranges, :meth:`poselab.core.config.ConfigBase.check_numbers`).

A bad value is an argparse error: one line, exit code 2.
"""

from __future__ import annotations

import argparse
import math


def int_in(lo: int, hi: int):
    """An argparse ``type`` accepting whole numbers in ``lo … hi`` (inclusive)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is out of range ({lo} … {hi})")
        return value

    parse.__name__ = "whole number"
    return parse


def finite_float(text: str) -> float:
    """An argparse ``type`` accepting finite floats only (no nan, inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value
