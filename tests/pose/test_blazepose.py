"""MediaPipe BlazePose on real push-up videos: agreement with the dataset authors' keypoints, fresh state
per video, missing frames, and the models it refuses to download."""
import json

import numpy as np
import pytest

from helpers.data.layouts import COCO17
from helpers.errors import UserInputError
from helpers.pose.blazepose import BLAZEPOSE_TO_COCO17, BlazePose
from helpers.pose.extract import extract_video
from helpers.video.reader import read_frames
from tests.conftest import pushfit_video, real_data_path, require_mediapipe


@pytest.mark.parametrize("complexity", [0, 2])
def test_models_outside_the_wheel_are_refused(complexity):
    with pytest.raises(UserInputError, match=f"model complexity {complexity}: only 1 .*download"):
        BlazePose(model_complexity=complexity)
    with pytest.raises(UserInputError, match="min detection confidence must be between 0 and 1"):
        BlazePose(min_detection_confidence=1.5)


def test_coco17_joints_are_the_blazepose_landmarks_of_the_same_name():
    require_mediapipe()
    from mediapipe.python.solutions.pose import PoseLandmark

    assert [PoseLandmark(i).name.lower() for i in BLAZEPOSE_TO_COCO17] == list(COCO17.joint_names)


def _authors_keypoints(name: str, width: int, height: int) -> list:
    """Per frame the authors' COCO-17 pixels (17, 2), or None where they detected nobody."""
    kind = "correct" if name.startswith("correct") else "wrong"
    frames = json.loads(real_data_path("pushfit_sample", "mediapipe_json", kind, f"{name}.json").read_text())
    rows = []
    for frame in frames:
        points = frame.get("keypoints") if isinstance(frame, dict) else frame
        rows.append(np.array([[points[i]["x"] * width, points[i]["y"] * height] for i in BLAZEPOSE_TO_COCO17])
                    if points else None)
    return rows


@pytest.mark.parametrize("name", ["correct10", "wrong101"])
def test_extraction_agrees_with_the_dataset_authors_keypoints(name):
    require_mediapipe()
    pose = extract_video(pushfit_video(name), BlazePose())       # cached: later tests reuse it
    height, width = pose.img_shape
    reference = _authors_keypoints(name, width, height)
    assert pose.frames == len(reference) and pose.person_frames == pose.frames
    # the authors reused one Pose object for all videos, so their first frames carry the previous
    # video's tracking state; from about frame 30 on both are fresh tracks of the same person
    distances = np.concatenate([np.linalg.norm(pose.keypoint[t] - reference[t], axis=1)
                                for t in range(30, pose.frames) if reference[t] is not None])
    assert np.median(distances) < 3.0, np.median(distances)
    assert np.mean(distances < 10.0) > 0.9


def test_each_video_starts_from_a_fresh_tracking_state():
    require_mediapipe()
    first = read_frames(pushfit_video("correct10"))[:15]
    second = read_frames(pushfit_video("wrong101"))[:10]
    estimator = BlazePose()
    estimator.estimate(first)                                      # a video before: must leave no trace
    after, after_scores = estimator.estimate(second)
    alone, alone_scores = BlazePose().estimate(second)
    np.testing.assert_allclose(after, alone, atol=0.01)
    np.testing.assert_allclose(after_scores, alone_scores, atol=1e-4)


def test_frames_without_a_person_are_missing():
    require_mediapipe()
    keypoint, score = BlazePose().estimate([np.full((120, 160, 3), 90, np.uint8)] * 3)
    assert keypoint.shape == (3, 17, 2) and not score.any() and not keypoint.any()
    with pytest.raises(ValueError, match=r"expected an RGB frame \(H, W, 3\) uint8"):
        BlazePose().estimate([np.zeros((8, 8), np.uint8)])
