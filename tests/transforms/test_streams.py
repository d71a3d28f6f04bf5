import numpy as np
import pytest
import torch

from helpers.data.layouts import JHMDB15, LAYOUTS
from helpers.transforms.streams import (STREAMS, bone_motion, bones, joint_motion, joints, motion,
                                       stack_streams)


@pytest.fixture(params=list(LAYOUTS.values()), ids=list(LAYOUTS))
def layout(request):
    return request.param


def clip(layout, persons=2, frames=5, seed=0):
    return np.random.default_rng(seed).normal(size=(persons, frames, layout.num_joints, 2)).astype(np.float32)


def test_bones_are_joint_minus_parent(layout):
    x = clip(layout)
    b = bones(x, layout)
    assert b.shape == x.shape
    for child, parent in layout.edges:
        np.testing.assert_allclose(b[..., child, :], x[..., child, :] - x[..., parent, :])


def test_root_bone_is_zero(layout):
    b = bones(clip(layout), layout)
    assert np.all(b[..., layout.root, :] == 0)


def test_named_bone_in_jhmdb():
    x = clip(JHMDB15)
    wrist, elbow = JHMDB15.joint_names.index("left_wrist"), JHMDB15.joint_names.index("left_elbow")
    np.testing.assert_allclose(bones(x, JHMDB15)[..., wrist, :], x[..., wrist, :] - x[..., elbow, :])


def test_motion_is_frame_difference_with_last_frame_zero(layout):
    x = clip(layout)
    for m, base in ((joint_motion(x, layout), joints(x, layout)), (bone_motion(x, layout), bones(x, layout))):
        assert m.shape == x.shape
        np.testing.assert_allclose(m[..., :-1, :, :], base[..., 1:, :, :] - base[..., :-1, :, :], atol=1e-6)
        assert np.all(m[..., -1, :, :] == 0)


def test_stack_streams_concatenates_channels_in_order(layout):
    x = clip(layout)
    names = ("joint", "bone", "joint_motion", "bone_motion")
    s = stack_streams(x, layout, names)
    assert s.shape == x.shape[:-1] + (8,)
    for i, name in enumerate(names):
        np.testing.assert_allclose(s[..., 2 * i:2 * i + 2], STREAMS[name](x, layout))
    with pytest.raises(ValueError):
        stack_streams(x, layout, ("angle",))


def test_streams_work_on_torch_tensors():
    x = clip(JHMDB15)
    s = stack_streams(torch.from_numpy(x), JHMDB15, ("bone", "joint_motion"))
    assert isinstance(s, torch.Tensor)
    np.testing.assert_allclose(s.numpy(), stack_streams(x, JHMDB15, ("bone", "joint_motion")), atol=1e-6)
    np.testing.assert_allclose(motion(torch.from_numpy(x)).numpy(), motion(x), atol=1e-6)
