import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from helpers.data.layouts import COCO17, JHMDB15  # noqa: E402
from helpers.viz import plotting  # noqa: E402


def history(f1s):
    return [{"epoch": i + 1, "train_loss": 1.0 / (i + 1), "val_loss": 1.2 / (i + 1), "train_acc": 0.5, "val_acc": 0.4,
             "train_f1": 0.5, "val_f1": f1} for i, f1 in enumerate(f1s)]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_body_sides_come_from_the_layout():
    sides = plotting.joint_sides(COCO17)
    name = dict(zip(COCO17.joint_names, sides))
    assert name["left_wrist"] == "left" and name["right_knee"] == "right" and name["nose"] == "centre"
    bones = dict(zip(COCO17.edges, plotting.bone_sides(COCO17)))
    assert bones[(9, 7)] == "left" and bones[(10, 8)] == "right" and bones[(5, 0)] == "centre"  # shoulder-nose
    jhmdb = dict(zip(JHMDB15.joint_names, plotting.joint_sides(JHMDB15)))
    assert jhmdb["left_elbow"] == "left" and jhmdb["right_ankle"] == "right" and jhmdb["belly"] == "centre"


def test_bones_are_drawn_in_side_colours_and_joints_by_score():
    figure, axis = plt.subplots()
    joints = np.random.default_rng(0).uniform(0, 100, (COCO17.num_joints, 2))
    scores = np.linspace(0.1, 1.0, COCO17.num_joints)
    scores[15] = 0.0                                             # undetected: neither joint nor its bone drawn
    points = plotting.draw_skeleton(axis, joints, COCO17, scores)
    drawn = {to_hex(line.get_color()) for line in axis.lines}
    assert drawn == {plotting.SIDE_COLOURS["left"], plotting.SIDE_COLOURS["right"], plotting.SIDE_COLOURS["centre"]}
    assert len(axis.lines) == len(COCO17.edges) - 1              # left ankle to knee is skipped
    assert points.get_cmap().name == plotting.SCORE_CMAP and points.get_clim() == (0, 1)
    assert len(points.get_offsets()) == COCO17.num_joints - 1
    assert axis.yaxis_inverted()


def test_history_marks_the_best_epoch():
    figure = plotting.plot_history(history([0.2, 0.6, 0.6, 0.5]), title="run")
    for axis in figure.axes:
        marks = [line for line in axis.lines if line.get_linestyle() == ":"]
        assert len(marks) == 1 and list(marks[0].get_xdata()) == [2, 2]     # first of the best
        assert axis.get_xlabel() == "epoch" and axis.get_ylabel()
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert labels == ["train", "validation", "best epoch 2 (val macro-F1 0.600)"]


def test_histories_star_each_runs_best_epoch():
    figure = plotting.plot_histories({"a": history([0.1, 0.9, 0.3]), "b": history([0.5, 0.4, 0.7])})
    f1_axis = figure.axes[1]
    stars = [line for line in f1_axis.lines if line.get_marker() == "*"]
    assert [(list(s.get_xdata()), list(s.get_ydata())) for s in stars] == [([2], [0.9]), ([3], [0.7])]
    assert [t.get_text() for t in f1_axis.get_legend().get_texts()] == ["a", "b", "best epoch"]


def test_confusion_matrix_is_row_normalised_and_annotated():
    figure = plotting.plot_confusion_matrix(np.array([[3, 1], [0, 4]]), ["walk", "run"], title="m")
    axis = figure.axes[0]
    assert [t.get_text() for t in axis.texts] == ["0.75", "0.25", "", "1.00"]      # no clip: blank
    assert axis.get_xlabel() == "predicted class" and axis.get_ylabel() == "true class"
    assert figure.axes[1].get_ylabel() == "share of the true class's clips"      # the colour bar
    many = plotting.plot_confusion_matrix(np.eye(30), [f"c{i}" for i in range(30)])
    assert len(many.axes[0].texts) == 0 and len(many.axes[0].get_xticklabels()) == 0   # too many to read


def test_score_figures_have_a_colour_bar_and_labelled_axes():
    rng = np.random.default_rng(1)
    keypoint = rng.uniform(50, 150, (12, COCO17.num_joints, 2))
    scores = rng.uniform(0.05, 1.0, (12, COCO17.num_joints))
    for figure in (plotting.plot_clip_frames(keypoint, COCO17, scores, title="clip"),
                   plotting.plot_joint_scores(keypoint[0], scores[0], COCO17),
                   plotting.plot_raw_vs_normalized(keypoint, scores, keypoint / 100, COCO17, frame=3)):
        bars = [axis for axis in figure.axes if axis.get_ylabel() == "keypoint score"]
        assert len(bars) == 1, figure
        drawings = [axis for axis in figure.axes if axis not in bars]
        assert all(axis.get_xlabel().startswith("x (") for axis in drawings)
        assert drawings[0].get_ylabel().startswith("y (")
        legends = figure.legends + [axis.get_legend() for axis in drawings if axis.get_legend()]
        assert [t.get_text() for t in legends[0].get_texts()] == ["left side", "right side"]
    low = plotting.plot_joint_scores(keypoint[0], np.where(np.arange(17) == 3, 0.1, 0.9), COCO17)
    assert [t.get_text() for t in low.axes[0].texts] == ["left_ear 0.10"]


def test_save_figure_writes_a_png(tmp_path):
    figure, _ = plt.subplots()
    plotting.save_figure(figure, tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
