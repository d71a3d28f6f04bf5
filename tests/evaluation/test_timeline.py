"""Sliding windows over one long clip: ranges, predictions per window, the frame-to-window map, CSV/JSON."""
import csv
import json

import numpy as np
import pytest

from helpers.data.dataset import validate_dataset
from helpers.errors import UserInputError
from helpers.evaluation.scoring import clip_probabilities
from helpers.evaluation.timeline import format_timeline, frame_windows, sliding_windows, timeline, write_timeline
from helpers.training.checkpoint import load_checkpoint
from helpers.training.loop import train
from tests.conftest import make_tiny_dataset
from tests.training.test_loop import tiny_config


def test_windows_cover_every_frame():
    assert sliding_windows(10, 64, 32) == [(0, 10)]                       # shorter than a window: the whole clip
    assert sliding_windows(64, 64, 32) == [(0, 64)]
    assert sliding_windows(100, 40, 30) == [(0, 40), (30, 70), (60, 100)]
    assert sliding_windows(100, 40, 25) == [(0, 40), (25, 65), (50, 90), (60, 100)]   # last one ends at the end
    assert len(sliding_windows(550, 64, 32)) == 17
    with pytest.raises(UserInputError, match="at least 1 frame"):
        sliding_windows(100, 40, 0)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("timeline")
    train(tiny_config(epochs=1), validate_dataset(make_tiny_dataset(), "tiny"), folder, verbose=False)
    return load_checkpoint(folder / "best.pt")


def test_timeline_predicts_each_window_as_a_clip(tiny_checkpoint, tmp_path):
    clip = make_tiny_dataset()["annotations"][0]
    keypoint = np.concatenate([clip["keypoint"][0]] * 4).astype(np.float32)       # (T, 17, 2)
    score = np.concatenate([clip["keypoint_score"][0]] * 4).astype(np.float32)
    score[:10] = 0                                                                 # nobody in the first 10 frames
    rows = timeline(tiny_checkpoint, keypoint, score, fps=25.0, window=30, stride=20)
    ranges = sliding_windows(len(keypoint), 30, 20)
    assert [(r.start_frame, r.end_frame) for r in rows] == ranges
    assert rows[0].person_frames == 20 and rows[1].person_frames == 30
    assert rows[1].start_s == pytest.approx(0.8) and rows[1].end_s == pytest.approx(2.0)
    start, end = ranges[2]
    alone = clip_probabilities(tiny_checkpoint, [{"frame_dir": "w", "label": 0, "keypoint": keypoint[None, start:end],
                                                  "keypoint_score": score[None, start:end]}])[0]
    assert list(rows[2].probabilities.values()) == pytest.approx(alone.tolist(), abs=1e-6)
    assert rows[2].label == tiny_checkpoint.class_names[int(alone.argmax())]
    assert rows[2].probability == pytest.approx(float(alone.max()))
    assert format_timeline(rows).splitlines()[1].strip().startswith("0.00s    1.20s")

    written = write_timeline(rows, tmp_path / "t.csv")
    table = list(csv.DictReader(written.open()))
    assert len(table) == len(rows) and table[2]["label"] == rows[2].label
    assert float(table[2][f"p_{rows[2].label}"]) == pytest.approx(rows[2].probability, abs=1e-4)
    stored = json.loads(write_timeline(rows, tmp_path / "t.json").read_text())
    assert stored[1]["start_frame"] == 20 and stored[1]["probabilities"] == rows[1].probabilities
    with pytest.raises(UserInputError, match=r"as \.csv or \.json"):
        write_timeline(rows, tmp_path / "t.txt")


def test_each_frame_shows_the_window_centred_nearest():
    from helpers.evaluation.timeline import Window

    rows = [Window(s, e, 0, 0, "a", 1, 0, {}) for s, e in sliding_windows(100, 40, 30)]   # centres 19.5, 49.5, 79.5
    shown = frame_windows(rows, 100)
    assert shown[0] == 0 and shown[34] == 0 and shown[35] == 1 and shown[65] == 2 and shown[99] == 2
