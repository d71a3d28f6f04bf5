import numpy as np

from helpers.data.layouts import COCO17
from helpers.tools.report import network_references
from helpers.viz import skeleton_player
from helpers.viz.skeleton_player import animation_frames, animation_html, offline_jshtml, player


def walking_clip(frames=30):
    rng = np.random.default_rng(0)
    base = rng.uniform(50, 200, (COCO17.num_joints, 2))
    shift = np.linspace(0, 40, frames)[:, None, None] * np.array([1.0, 0.0])
    return (base[None] + shift).astype(np.float32), rng.uniform(0.1, 1.0, (frames, COCO17.num_joints))


def test_animation_is_offline_with_one_image_per_frame():
    keypoint, scores = walking_clip(30)
    html = animation_html(keypoint, COCO17, scores, max_frames=10, dpi=30, size_inches=2)
    assert network_references(html) == [] and "font-awesome" not in html and "fa fa-" not in html
    assert html.count("data:image/png;base64,") == 10
    assert 'id="_anim_slider' in html and "&#x25B6;" in html
    assert animation_html(keypoint, COCO17, scores, max_frames=10, dpi=30, size_inches=2) == html   # no random id


def test_frames_are_thinned_evenly():
    assert animation_frames(5, 48).tolist() == [0, 1, 2, 3, 4]
    frames = animation_frames(300, 48)
    assert len(frames) == 48 and frames[0] == 0 and frames[-1] == 299


def test_offline_jshtml_replaces_cdn_stylesheet_and_icons():
    html = ('<link rel="stylesheet"\nhref="https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/font-awesome.min.css">'
            '<button><i class="fa fa-play"></i></button><button><i class="fa fa-pause"></i></button>')
    assert offline_jshtml(html) == "<button><span>&#x25B6;</span></button><button><span>&#x2759;&#x2759;</span></button>"


def test_player_links_play_to_the_slider_and_redraws_the_chosen_frame(monkeypatch):
    keypoint, scores = walking_clip(12)
    drawn = []
    monkeypatch.setattr(skeleton_player, "_draw_frame",
                        lambda axis, keypoint, layout, scores, frame, *rest: drawn.append(frame))
    widget = player(keypoint, COCO17, scores)
    play, slider = widget.children[0].children
    assert (play.max, slider.max) == (11, 11) and play.description == "Play"
    assert drawn == [0]                      # the first frame is drawn at once
    slider.value = 5
    assert drawn == [0, 5]                   # a slider change redraws that frame (Play moves the slider in JS)
