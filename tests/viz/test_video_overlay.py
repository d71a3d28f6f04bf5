"""Skeletons drawn over frames: bones in their body side's colour, joints shaded by score, the caption."""
import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_rgb

from helpers.data.layouts import COCO17
from helpers.viz.plotting import SCORE_CMAP, SIDE_COLOURS
from helpers.viz.skeleton_player import image_animation_html
from helpers.viz.video_overlay import draw_caption, draw_pose, preview_frames
from tests.conftest import FakeEstimator, write_test_video


def _pose():
    """A standing COCO-17 pose in a 240 x 320 frame: (17, 2) pixels."""
    return np.array([[160, 40], [155, 35], [165, 35], [150, 38], [170, 38], [140, 70], [180, 70], [120, 110],
                     [200, 110], [110, 150], [210, 150], [145, 150], [175, 150], [140, 195], [180, 195],
                     [138, 235], [182, 235]], dtype=np.float32)


def _colour(name):
    return np.array([round(255 * c) for c in to_rgb(name)])


def test_bones_by_side_joints_by_score_and_low_scores_left_out():
    frame = np.zeros((240, 320, 3), np.uint8)
    joints, scores = _pose(), np.full(17, 0.9, np.float32)
    scores[16] = 0.1                                                    # right ankle below min_score
    drawn = draw_pose(frame, joints, scores, COCO17, min_score=0.2)
    assert not frame.any()                                              # the input frame is left alone
    left_thigh = ((joints[11] + joints[13]) / 2).round().astype(int)     # mid-bone: (13, 11) is a left bone
    right_thigh = ((joints[12] + joints[14]) / 2).round().astype(int)
    assert np.abs(drawn[left_thigh[1], left_thigh[0]].astype(int) - _colour(SIDE_COLOURS["left"])).max() < 30
    assert np.abs(drawn[right_thigh[1], right_thigh[0]].astype(int) - _colour(SIDE_COLOURS["right"])).max() < 30
    nose = joints[0].astype(int)
    shade = np.array([round(255 * c) for c in colormaps[SCORE_CMAP](0.9)[:3]])
    assert np.abs(drawn[nose[1], nose[0]].astype(int) - shade).max() < 10
    right_shin = ((joints[14] + joints[16]) / 2).round().astype(int)
    assert not drawn[right_shin[1], right_shin[0]].any()                 # its ankle is missing: no bone
    assert not drawn[int(joints[16][1]), int(joints[16][0])].any()


def test_caption_and_preview(tmp_path):
    frame = draw_caption(np.zeros((240, 320, 3), np.uint8), "wrong 0.87")
    assert frame[:20, :60].max() == 255 and not frame[120:].any()
    video = write_test_video(tmp_path / "v.mp4", frames=20, size=(120, 160))
    pose = FakeEstimator().estimate(np.zeros((20, 120, 160, 3), np.uint8) + 60)
    images = preview_frames(video, pose[0], pose[1], COCO17, max_frames=5, width=80)
    assert len(images) == 5 and images[0].shape == (60, 80, 3)
    html = image_animation_html(images, fps=4)
    assert html.count("data:image/jpeg;base64") == 5 and "https://" not in html
