import numpy as np
import pytest

from helpers.data.dataset import validate_dataset
from helpers.data.layouts import COCO17
from helpers.data.splits import make_splits
from helpers.viz import data_summary
from tests.conftest import make_tiny_dataset


@pytest.fixture(scope="module")
def dataset():
    return validate_dataset(make_tiny_dataset(num_classes=3, groups=10, clips_per_group=2), "tiny.pkl")


def test_class_distribution_counts_every_side_and_totals(dataset):
    splits = make_splits(dataset, 1, 0.2, 0)
    table = data_summary.class_distribution(dataset, splits)
    assert list(table.columns) == ["train", "val", "test", "total"]
    assert list(table.index) == ["Class0", "Class1", "Class2", "all classes"]
    assert table.loc["all classes"].tolist() == [len(splits.train), len(splits.val), len(splits.test), 60]
    assert (table.loc["Class0":"Class2", "test"] == 6).all()      # groups 1-3, two clips each
    summary = data_summary.split_summary(splits)
    assert summary.loc["test"].tolist() == [18, 3] and summary["clips"].sum() == 60


def test_clip_statistics_and_picks(dataset):
    statistics = data_summary.clip_statistics(dataset)
    assert len(statistics) == 60 and statistics["person_slots"].eq(1).all()
    assert statistics["frames"].tolist() == [clip["keypoint"].shape[1] for clip in dataset.annotations]
    assert data_summary.pick_clip(dataset)["frame_dir"] == dataset.annotations[0]["frame_dir"]
    long = data_summary.pick_clip(dataset, min_frames=45)
    assert long["keypoint"].shape[1] >= 45
    with pytest.raises(ValueError, match="no clip with 2 persons"):
        data_summary.pick_clip(dataset, min_persons=2)


def test_frames_and_persons_picked_from_scores():
    score = np.full((4, 3), 0.9, np.float16)
    score[2] = [0.1, 0.2, 0.0]
    score[3] = 0.0                                                # nobody detected: never the lowest
    assert data_summary.frame_with_lowest_score(score) == 2
    clip = {"keypoint_score": np.zeros((2, 5, 3), np.float16)}
    clip["keypoint_score"][0] = 0.8
    clip["keypoint_score"][1, 3] = 0.9                            # a second person only in frame 3
    assert data_summary.busiest_frame(clip) == 3
    assert data_summary.main_person(clip, "max_score") == 0 and data_summary.main_person(clip, "first") == 0


def test_layout_table_and_source_sentence(dataset):
    table = data_summary.layout_table(COCO17)
    assert table.loc[0].tolist() == ["nose", "-", "-", "root"]
    assert table.loc[9].tolist() == ["left_wrist", "left_elbow", "right_wrist", ""]
    assert table.loc[11, "role"] == "centre, torso"
    assert data_summary.describe_source(dataset) == "REAL data from tiny.pkl."
