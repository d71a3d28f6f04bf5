import numpy as np
import pytest

from helpers.data.dataset import load_dataset
from helpers.data.layouts import COCO17
from helpers.config import PreprocessConfig
from helpers.transforms.preprocess import fix_length, normalize, preprocess_clip, rank_persons


def test_fix_length_loop_crops_and_loops():
    clip = np.arange(10)
    np.testing.assert_array_equal(fix_length(clip, 4, "loop"), [0, 1, 2, 3])
    np.testing.assert_array_equal(fix_length(clip, 13, "loop"), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2])
    cropped = fix_length(clip, 4, "loop", np.random.default_rng(0))
    assert (np.diff(cropped) == 1).all() and 0 <= cropped[0] <= 6


def test_fix_length_uniform_is_sorted_and_covers_clip():
    index = fix_length(np.arange(100), 8, "uniform")
    assert (np.diff(index) > 0).all() and index[0] < 13 and index[-1] > 87
    a = fix_length(np.arange(100), 8, "uniform", np.random.default_rng(1))
    b = fix_length(np.arange(100), 8, "uniform", np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert (np.diff(a) > 0).all()
    with pytest.raises(ValueError, match="unknown sampling"):
        fix_length(np.arange(5), 3, "zigzag")


def test_rank_persons_prefers_highest_total_score():
    score = np.zeros((3, 5, 17))
    score[0, :2] = 0.9   # detected in two frames
    score[2] = 0.5       # detected in every frame
    assert list(rank_persons(score)) == [2, 0, 1]
    assert list(rank_persons(score, "first")) == [0, 1, 2]


def test_normalize_centres_on_mid_hip_and_scales_by_torso():
    skeleton = np.zeros((1, 4, 17, 2), np.float32)
    hips, shoulders = list(COCO17.center), [s for s, _ in COCO17.torso]
    skeleton[0][:, hips] = [[100, 200], [140, 200]]           # mid-hip (120, 200)
    skeleton[0][:, shoulders] = [[100, 150], [140, 150]]      # torso length 50
    skeleton[0, :, 0] = [120, 120]                            # nose 80 px above mid-hip
    score = np.ones((1, 4, 17))
    score[0, 1, 0] = 0.05                                     # low-score nose in frame 1
    out = normalize(skeleton, score, COCO17, min_score=0.2)
    np.testing.assert_allclose(out[0, 0, 0], [0, -80 / 50])
    np.testing.assert_allclose(out[0, 0][hips].mean(axis=0), [0, 0], atol=1e-6)
    assert (out[0, 1, 0] == 0).all()                          # missing joint set to the centre
    moved = skeleton.copy()
    moved[0, 2:] += [30, 0]                                   # body walks right in frames 2-3
    clip_mode = normalize(moved, np.ones((1, 4, 17)), COCO17, center="clip")
    frame_mode = normalize(moved, np.ones((1, 4, 17)), COCO17, center="frame")
    assert clip_mode[0, 3, 0, 0] - clip_mode[0, 0, 0, 0] == pytest.approx(30 / 50)   # motion kept
    assert frame_mode[0, 3, 0, 0] == pytest.approx(frame_mode[0, 0, 0, 0])          # motion removed


def test_preprocess_real_two_person_clip(ucf_sample_path):
    clip = load_dataset(ucf_sample_path).clip("v_ApplyEyeMakeup_g01_c01")
    config = PreprocessConfig(length=48, max_persons=2)
    skeleton, order = preprocess_clip(clip, COCO17, config)
    assert skeleton.shape == (2, 48, 17, 2) and skeleton.dtype == np.float32
    assert np.isfinite(skeleton).all()
    totals = clip["keypoint_score"].astype(float).sum(axis=(1, 2))
    assert order[0] == int(np.argmax(totals))
    # body-sized coordinates after normalisation: torso length about 1
    visible = skeleton[0][np.abs(skeleton[0]).sum(-1) > 0]
    assert 0.3 < np.abs(visible).max() < 10
    first, _ = preprocess_clip(clip, COCO17, PreprocessConfig(length=48, person="first"))
    assert first.shape == (1, 48, 17, 2)
