"""``python -m poselab`` (also what ``torchrun -m poselab train ...`` runs)."""

import sys

from poselab.cli import main

if __name__ == "__main__":  # not when a spawned child process re-imports the main module
    sys.exit(main())
