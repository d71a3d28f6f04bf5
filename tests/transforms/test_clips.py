import numpy as np
import pytest
import torch

from helpers.config import AugmentConfig, PreprocessConfig
from helpers.data.dataset import validate_dataset
from helpers.data.layouts import COCO17
from helpers.transforms.augment import flip
from helpers.transforms.clips import ClipDataset, clip_to_input, stream_channels
from tests.conftest import make_tiny_dataset

PREPROCESS = PreprocessConfig(length=16)
AUGMENT = AugmentConfig(enabled=True, rotate_degrees=10.0, scale=0.1, flip_probability=0.5, random_sampling=True)


@pytest.fixture(scope="module")
def clips():
    return validate_dataset(make_tiny_dataset(), "mem").annotations[:6]


def test_stream_channels_two_per_stream():
    assert stream_channels(["joint"]) == 2 and stream_channels(["joint", "bone", "motion"]) == 6


def test_one_clip_becomes_a_float32_c_t_v_m_array(clips):
    x = clip_to_input(clips[0], COCO17, PREPROCESS, ["joint", "bone"])
    assert x.shape == (4, 16, COCO17.num_joints, 1) and x.dtype == np.float32 and x.flags.c_contiguous
    assert np.array_equal(x, clip_to_input(clips[0], COCO17, PREPROCESS, ["joint", "bone"]))   # no rng: fixed
    mirrored = clip_to_input(clips[0], COCO17, PREPROCESS, ["joint"], mirror=True)
    plain = clip_to_input(clips[0], COCO17, PREPROCESS, ["joint"])
    expected = flip(plain.transpose(3, 1, 2, 0), COCO17).transpose(3, 1, 2, 0)   # back to (M, T, V, C) and again
    np.testing.assert_allclose(mirrored, expected, atol=1e-6)


def test_without_augmentation_inputs_are_made_once_and_views_differ(clips):
    views = [ClipDataset(clips, COCO17, PREPROCESS, ["joint"], view=k, num_views=3) for k in range(3)]
    assert views[0].inputs.shape == (6, 2, 16, COCO17.num_joints, 1)
    x, y = views[0][2]
    assert torch.equal(x, views[0].inputs[2]) and y.item() == clips[2]["label"] and y.dtype == torch.int64
    long_clip = next(i for i, clip in enumerate(clips) if clip["keypoint"].shape[1] > 16)
    assert not torch.equal(views[0][long_clip][0], views[1][long_clip][0])   # another sampling offset


def test_augmented_items_are_reproducible_per_seed_epoch_and_index(clips):
    first = ClipDataset(clips, COCO17, PREPROCESS, ["joint"], AUGMENT, seed=3)
    again = ClipDataset(clips, COCO17, PREPROCESS, ["joint"], AUGMENT, seed=3)
    assert first.inputs is None                                  # made afresh per item
    first.set_epoch(1), again.set_epoch(1)
    assert torch.equal(first[0][0], again[0][0])
    again.set_epoch(2)
    assert not torch.equal(first[0][0], again[0][0])
    other_seed = ClipDataset(clips, COCO17, PREPROCESS, ["joint"], AUGMENT, seed=4)
    other_seed.set_epoch(1)
    assert not torch.equal(first[0][0], other_seed[0][0])


def test_an_empty_clip_list_gives_an_empty_input_tensor():
    empty = ClipDataset([], COCO17, PREPROCESS, ["joint", "bone"])
    assert len(empty) == 0 and empty.inputs.shape == (0, 4, 16, COCO17.num_joints, 1)
