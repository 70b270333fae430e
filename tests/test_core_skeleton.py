import numpy as np
import pytest

from poselab.core import DataError, PoseCollection, Skeleton, get_skeleton
from poselab.core.skeletons import BUILTIN, H36M17


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_builtin_json_round_trip(name, tmp_path):
    sk = BUILTIN[name]
    sk.save(tmp_path / "s.json")
    assert Skeleton.load(tmp_path / "s.json") == sk
    assert get_skeleton(tmp_path / "s.json") == sk


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_flip_permutation_is_an_involution_that_swaps_sides(name):
    sk = BUILTIN[name]
    perm = sk.flip_permutation
    assert np.array_equal(perm[perm], np.arange(sk.num_joints))
    for a, b in sk.left_right:
        assert perm[a] == b and sk.sides[a] == "left" and sk.sides[b] == "right"


def test_h36m_symmetric_bones_pair_left_with_right_limbs():
    pairs = {tuple(H36M17.bones[e] for e in p) for p in H36M17.symmetric_bone_pairs}
    assert ((0, 1), (0, 4)) in pairs  # RHip bone <-> LHip bone
    assert ((15, 16), (12, 13)) in {(b, a) for a, b in pairs} | pairs  # forearms
    assert len(H36M17.symmetric_bone_pairs) == 6


def test_from_edges_generic():
    sk = Skeleton.from_edges([(0, 1), (1, 2)])
    assert sk.num_joints == 3 and sk.joint_names[2] == "joint_2"


def test_bad_skeletons_raise():
    with pytest.raises(DataError, match="repeats"):
        Skeleton("x", ("a", "a"))
    with pytest.raises(DataError, match="bone"):
        Skeleton("x", ("a", "b"), ((0, 5),))
    with pytest.raises(DataError, match="unknown skeleton"):
        get_skeleton("nope")


def test_collection_validation_and_subset():
    kp = np.random.default_rng(0).random((4, 17, 2)) * 100
    vis = np.full((4, 17), 2, np.uint8)
    vis[1, 3] = 0
    kp[1, 3] = np.nan  # unobserved NaN is fine and becomes 0
    c = PoseCollection(H36M17, kp, vis)
    assert c.keypoints_2d[1, 3].tolist() == [0.0, 0.0]
    sub = c.subset([1, 3])
    assert len(sub) == 2 and sub.visibility[0, 3] == 0
    both = PoseCollection.concatenate([sub, c.subset([0])])
    assert len(both) == 3
    kp[2, 5] = np.nan
    with pytest.raises(DataError, match="NaN"):
        PoseCollection(H36M17, kp, vis)
    with pytest.raises(DataError, match="shape"):
        PoseCollection(H36M17, kp[:, :14])
