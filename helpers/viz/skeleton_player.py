"""Playing a clip: an ipywidgets player (needs a kernel) and a self-contained JavaScript animation.

Both draw with `helpers.viz.plotting.draw_skeleton`, so bones come from the layout.

- `player(...)`: a Play button linked to a frame slider; every frame change redraws
  the skeleton in the kernel.  Works in JupyterLab, not in exported HTML.
- `animation_html(...)`: matplotlib's `FuncAnimation.to_jshtml()` (frames embedded
  as base64 PNG, its own JavaScript slider and buttons), made offline: the
  Font Awesome stylesheet it links from a CDN is removed and the icons replaced
  by plain characters, so the animation plays and scrubs in a static HTML file.
- `image_player(...)` and `image_animation_html(...)`: the same two for ready-made
  pictures, e.g. video frames with the skeleton drawn over them
  (`helpers.viz.video_overlay.preview_frames`); the animation embeds JPEG frames.
"""
from __future__ import annotations

import hashlib
import io
import re

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from PIL import Image

from helpers.data.layouts import Layout
from helpers.viz.plotting import clip_limits, draw_skeleton

# Font Awesome icons of matplotlib's animation template -> characters needing no web font
_ICONS = {
    "fa fa-minus": "&minus;",
    "fa fa-fast-backward": "|&#x25C0;",
    "fa fa-step-backward": "&#x25C2;",
    "fa fa-play fa-flip-horizontal": "&#x25C0;",
    "fa fa-pause": "&#x2759;&#x2759;",
    "fa fa-play": "&#x25B6;",
    "fa fa-step-forward": "&#x25B8;",
    "fa fa-fast-forward": "&#x25B6;|",
    "fa fa-plus": "+",
}
_STYLESHEET_LINK = re.compile(r"<link\b[^>]*\bhref=[\"']https?://[^>]*>", re.IGNORECASE)
_ICON = re.compile(r"<i class=\"(fa [^\"]+)\"></i>")
_ELEMENT_ID = re.compile(r"id=\"_anim_img([0-9a-f]{32})\"")


def _draw_frame(axis, keypoint: np.ndarray, layout: Layout, scores: np.ndarray | None, frame: int,
                limits, min_score: float, title: str) -> None:
    axis.clear()
    # bones and joints by body side; scores only hide undetected joints (no room for a colour bar)
    draw_skeleton(axis, keypoint[frame], layout, None if scores is None else scores[frame], min_score,
                  score_colours=False)
    (x0, x1), (y0, y1) = limits
    axis.set_xlim(x0, x1)
    axis.set_ylim(y0, y1)
    axis.set_title(f"{title}  frame {frame + 1}/{len(keypoint)}".strip(), fontsize=10)


def player(keypoint: np.ndarray, layout: Layout, scores: np.ndarray | None = None, title: str = "",
           min_score: float = 0.0, interval_ms: int = 100):
    """A JupyterLab player for one person: Play button + frame slider, redrawn on every change.

    keypoint: (T, V, 2), scores: (T, V) or None.  Returns an ipywidgets VBox.
    """
    # widgets need a running kernel; the HTML animation and the report never import them
    import ipywidgets as widgets
    from IPython.display import display

    total = len(keypoint)
    limits = clip_limits(keypoint, scores, min_score)
    play = widgets.Play(value=0, min=0, max=total - 1, step=1, interval=interval_ms, description="Play")
    slider = widgets.IntSlider(value=0, min=0, max=total - 1, step=1, description="frame",
                               continuous_update=True)
    widgets.jslink((play, "value"), (slider, "value"))   # Play drives the slider in the browser

    def redraw(frame: int) -> None:
        figure, axis = plt.subplots(figsize=(4.5, 4.5))
        _draw_frame(axis, keypoint, layout, scores, frame, limits, min_score, title)
        display(figure)
        plt.close(figure)

    output = widgets.interactive_output(redraw, {"frame": slider})
    return widgets.VBox([widgets.HBox([play, slider]), output])


def animation_frames(total: int, max_frames: int) -> np.ndarray:
    """At most `max_frames` evenly spaced frame indices of a clip of `total` frames, shape (F,)."""
    return np.unique(np.linspace(0, total - 1, min(total, max_frames)).round().astype(int))


def offline_jshtml(html: str) -> str:
    """matplotlib's jshtml with the CDN stylesheet removed, Font Awesome icons replaced by characters, and
    its random element id (a fresh uuid each call) replaced by a hash of the page, so that the same clip
    gives the same HTML and a re-run notebook does not change."""
    html = _STYLESHEET_LINK.sub("", html)
    html = _ICON.sub(lambda match: f"<span>{_ICONS.get(match.group(1), '&#x2022;')}</span>", html)
    found = _ELEMENT_ID.search(html)
    if found:
        random_id = found.group(1)
        stable = hashlib.sha1(html.replace(random_id, "").encode()).hexdigest()[:32]
        html = html.replace(random_id, stable)
    return html


def animation_html(keypoint: np.ndarray, layout: Layout, scores: np.ndarray | None = None, title: str = "",
                   min_score: float = 0.0, max_frames: int = 48, fps: int = 8, size_inches: float = 4.0,
                   dpi: int = 72) -> str:
    """A self-contained HTML animation (PNG frames + JS slider/buttons) of one person.

    keypoint: (T, V, 2), scores: (T, V) or None.  Long clips are thinned to
    `max_frames` evenly spaced frames to keep the page small.  Display it with
    `IPython.display.HTML(...)`.
    """
    frames = animation_frames(len(keypoint), max_frames)
    limits = clip_limits(keypoint, scores, min_score)
    figure, axis = plt.subplots(figsize=(size_inches, size_inches), dpi=dpi)

    def update(index: int):
        _draw_frame(axis, keypoint, layout, scores, int(frames[index]), limits, min_score, title)
        return []

    animation = FuncAnimation(figure, update, frames=len(frames), interval=1000 / fps, blit=False)
    try:
        html = animation.to_jshtml(fps=fps, default_mode="loop")
    finally:
        plt.close(figure)
    return offline_jshtml(html)


def image_player(images: list[np.ndarray], labels: list[str] | None = None, interval_ms: int = 100):
    """A JupyterLab player over RGB images (H, W, 3) uint8: Play button + frame slider.  Returns an ipywidgets VBox."""
    import ipywidgets as widgets   # here, not at module top: only a live notebook needs widgets

    def jpeg(index: int) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(images[index]).save(buffer, format="JPEG", quality=85)
        return buffer.getvalue()

    view = widgets.Image(value=jpeg(0), format="jpeg")
    caption = widgets.Label(labels[0] if labels else "")
    play = widgets.Play(value=0, min=0, max=len(images) - 1, step=1, interval=interval_ms, description="Play")
    slider = widgets.IntSlider(value=0, min=0, max=len(images) - 1, step=1, description="frame")
    widgets.jslink((play, "value"), (slider, "value"))

    def show(change) -> None:
        view.value = jpeg(change["new"])
        if labels:
            caption.value = labels[change["new"]]

    slider.observe(show, names="value")
    return widgets.VBox([widgets.HBox([play, slider, caption]), view])


def image_animation_html(images: list[np.ndarray], fps: int = 8, dpi: int = 72) -> str:
    """A self-contained HTML animation (JPEG frames + JS slider/buttons) of RGB images (H, W, 3) uint8,
    shown at their own pixel size."""
    height, width = images[0].shape[:2]
    figure = plt.figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    axis = figure.add_axes((0, 0, 1, 1))
    axis.set_axis_off()
    shown = axis.imshow(images[0])

    def update(index: int):
        shown.set_data(images[index])
        return [shown]

    animation = FuncAnimation(figure, update, frames=len(images), interval=1000 / fps, blit=False)
    try:
        with plt.rc_context({"animation.frame_format": "jpeg"}):   # photos: JPEG is a fraction of PNG's size
            html = animation.to_jshtml(fps=fps, default_mode="loop")
    finally:
        plt.close(figure)
    return offline_jshtml(html)
