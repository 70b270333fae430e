"""BonePriors: the skeleton terms added to the NRSfM loss (bone proportions, mirror bones)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from poselab.core import get_skeleton
from poselab.nrsfm import NRSfMConfig
from poselab.nrsfm.train import BonePriors

H36M = get_skeleton("h36m17")


def symmetric_h36m() -> np.ndarray:
    """``(17, 3)`` a T-pose-like h36m17 skeleton whose left and right bones are equally long."""
    p = {"Hip": (0, 0, 0), "RHip": (-1, 0, 0), "RKnee": (-1, -4, 0), "RFoot": (-1, -8, 0),
         "LHip": (1, 0, 0), "LKnee": (1, -4, 0), "LFoot": (1, -8, 0), "Spine": (0, 2, 0),
         "Thorax": (0, 4, 0), "Neck/Nose": (0, 5, 0.5), "Head": (0, 6, 0),
         "LShoulder": (1.5, 4, 0), "LElbow": (4, 4, 0), "LWrist": (6.5, 4, 0),
         "RShoulder": (-1.5, 4, 0), "RElbow": (-4, 4, 0), "RWrist": (-6.5, 4, 0)}
    return np.array([p[n] for n in H36M.joint_names], np.float64)


def priors(**weights) -> BonePriors:
    return BonePriors(H36M, NRSfMConfig(**weights), "cpu")


def test_consistency_is_zero_for_one_skeleton_rotated_and_scaled_and_sees_a_stretched_bone():
    base = symmetric_h36m()
    rots = Rotation.random(6, random_state=0).as_matrix()
    batch = np.stack([s * base @ r.T for s, r in zip([1, 2, 0.5, 3, 1.5, 0.7], rots,
                                                     strict=True)])
    term = priors(bone_consistency=1.0)
    assert term.active
    assert term(torch.tensor(batch, dtype=torch.float32)).abs().max() < 1e-5
    stretched = batch.copy()
    knee, foot = H36M.joint_names.index("LKnee"), H36M.joint_names.index("LFoot")
    stretched[2, foot] += 0.5 * (stretched[2, foot] - stretched[2, knee])  # shin 1.5× longer
    out = term(torch.tensor(stretched, dtype=torch.float32))
    assert out[2] > 0.02 and out[2] == out.max()  # the odd sample is the one penalised most


def test_symmetry_is_zero_for_equal_mirror_bones_and_positive_otherwise():
    base = symmetric_h36m()
    term = priors(symmetry=1.0)
    assert float(term(torch.tensor(base[None], dtype=torch.float32))[0]) == pytest.approx(0,
                                                                                      abs=1e-6)
    bent = base.copy()
    bent[H36M.joint_names.index("RWrist")] = (-5.0, 4, 0)  # right forearm 1.0 instead of 2.5
    assert float(term(torch.tensor(bent[None], dtype=torch.float32))[0]) > 0.02


def test_no_weight_or_no_bones_means_no_term():
    assert not priors(symmetry=0.0, bone_consistency=0.0).active
    from poselab.core import Skeleton

    bare = Skeleton("points", tuple(f"p{j}" for j in range(5)))
    assert not BonePriors(bare, NRSfMConfig(bone_consistency=1.0, symmetry=1.0), "cpu").active
