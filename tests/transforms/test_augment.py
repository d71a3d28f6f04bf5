import numpy as np
import pytest

from helpers.transforms import augment
from helpers.data.layouts import COCO17, JHMDB15, LAYOUTS
from helpers.transforms.streams import bones


@pytest.fixture(params=list(LAYOUTS.values()), ids=list(LAYOUTS))
def layout(request):
    return request.param


def clip(layout, persons=2, frames=6, seed=0):
    return np.random.default_rng(seed).normal(size=(persons, frames, layout.num_joints, 2)).astype(np.float32)


@pytest.mark.parametrize("layout_", [JHMDB15, COCO17], ids=["jhmdb15", "coco17"])
def test_flip_swaps_named_wrists_and_negates_x(layout_):
    x = clip(layout_)
    f = augment.flip(x, layout_)
    left, right = layout_.joint_names.index("left_wrist"), layout_.joint_names.index("right_wrist")
    np.testing.assert_allclose(f[..., left, 0], -x[..., right, 0])
    np.testing.assert_allclose(f[..., left, 1], x[..., right, 1])
    np.testing.assert_allclose(f[..., right, 0], -x[..., left, 0])
    centre = layout_.joint_names.index("neck" if layout_ is JHMDB15 else "nose")  # unpaired joint keeps its slot
    np.testing.assert_allclose(f[..., centre, :], x[..., centre, :] * np.array([-1, 1], np.float32))


def test_flip_twice_is_identity_and_keeps_shape(layout):
    x = clip(layout)
    assert augment.flip(x, layout).shape == x.shape
    np.testing.assert_array_equal(augment.flip(augment.flip(x, layout), layout), x)
    np.testing.assert_array_equal(augment.flip(augment.flip(x[0], layout), layout), x[0])  # (T, V, 2)


def test_random_flip_uses_probability(layout):
    x = clip(layout)
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(augment.random_flip(x, layout, rng, p=0.0), x)
    np.testing.assert_array_equal(augment.random_flip(x, layout, rng, p=1.0), augment.flip(x, layout))


def test_rotation_preserves_bone_lengths(layout):
    x = clip(layout)
    r = augment.random_rotate(x, np.random.default_rng(1), max_degrees=30.0)
    assert r.shape == x.shape and not np.allclose(r, x)
    np.testing.assert_allclose(
        np.linalg.norm(bones(r, layout), axis=-1), np.linalg.norm(bones(x, layout), axis=-1), rtol=1e-5, atol=1e-6
    )


def test_scale_multiplies_by_a_factor_in_range():
    x = clip(JHMDB15)
    s = augment.random_scale(x, np.random.default_rng(2), 0.8, 1.2)
    factor = s[x != 0] / x[x != 0]
    assert np.allclose(factor, factor[0]) and 0.8 <= factor[0] <= 1.2


@pytest.mark.parametrize("num_frames", [1, 7, 15, 32, 40, 101])
def test_random_sampling_sorted_in_range_and_seeded(num_frames):
    a = augment.random_sample_indices(num_frames, 32, np.random.default_rng(3))
    b = augment.random_sample_indices(num_frames, 32, np.random.default_rng(3))
    assert a.shape == (32,)
    np.testing.assert_array_equal(a, b)
    assert np.all(np.diff(a) >= 0) and a.min() >= 0 and a.max() < num_frames
    if num_frames >= 32:  # one frame per segment: no repeats
        assert len(np.unique(a)) == 32


@pytest.mark.parametrize("num_frames", [15, 40])
def test_uniform_sampling_is_deterministic_multi_clip(num_frames):
    idx = augment.uniform_sample_indices(num_frames, 32, num_clips=4)
    assert idx.shape == (4, 32)
    np.testing.assert_array_equal(idx, augment.uniform_sample_indices(num_frames, 32, num_clips=4))
    assert np.all(np.diff(idx, axis=1) >= 0) and idx.min() >= 0 and idx.max() < num_frames
