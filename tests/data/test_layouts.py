import numpy as np
import pytest

from helpers.data.layouts import COCO17, JHMDB15, LAYOUTS, get_layout, layout_for_joint_count


@pytest.mark.parametrize("layout", list(LAYOUTS.values()), ids=list(LAYOUTS))
def test_layout_invariants(layout):
    v = layout.num_joints
    assert len(set(layout.joint_names)) == v
    children = [c for c, _ in layout.edges]
    assert len(children) == v - 1 and len(set(children)) == v - 1   # a tree: one parent per non-root joint
    parents = layout.parents()
    for joint in range(v):                                          # every joint reaches the root
        seen = set()
        while joint != layout.root:
            assert joint not in seen
            seen.add(joint)
            joint = parents[joint]
    for left, right in layout.left_right:
        assert layout.joint_names[left].startswith("left") and layout.joint_names[right].startswith("right")
        assert layout.joint_names[left][4:] == layout.joint_names[right][5:]
    perm = layout.flip_permutation()
    assert sorted(perm) == list(range(v)) and (perm[perm] == np.arange(v)).all()
    for shoulder, hip in layout.torso:
        assert "shoulder" in layout.joint_names[shoulder] and "hip" in layout.joint_names[hip]
    assert all("hip" in layout.joint_names[j] for j in layout.center)
    for name, side in zip(layout.joint_names, layout.joint_sides()):
        assert side == ("left" if name.startswith("left") else "right" if name.startswith("right") else "centre")


def test_lookup_by_name_and_joint_count():
    assert get_layout("COCO-17") is COCO17
    assert layout_for_joint_count(15) is JHMDB15
    assert layout_for_joint_count(18).name == "openpose18"
    with pytest.raises(ValueError, match="no known skeleton layout has 5 joints.*--layout"):
        layout_for_joint_count(5)
    with pytest.raises(ValueError, match="unknown skeleton layout 'h36m'"):
        get_layout("h36m")
