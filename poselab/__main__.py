"""``python -m poselab`` (also what ``torchrun -m poselab train ...`` runs)."""

import sys

from poselab.cli import main

sys.exit(main())
