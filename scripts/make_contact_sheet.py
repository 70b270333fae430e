#!/usr/bin/env python
"""Write a contact sheet of 16 rendered demo samples (default: resources/contact_sheet.png)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=REPO / "resources" / "contact_sheet.png")
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--size", type=int, default=160)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from poselab.synth.sheet import demo_contact_sheet

    sheet = demo_contact_sheet(args.out, args.n, args.size, args.seed)
    print(f"wrote {args.out} ({sheet.shape[1]}×{sheet.shape[0]} px)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
